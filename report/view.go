package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// maxDiff bounds the diff shown in a report, in bytes; the rest is cut at
// a line boundary with a note.
const maxDiff = 256 << 10

// view is what both renderers show, computed once from Data so the
// Markdown and the HTML agree.
type view struct {
	*Data
	Verdict   verdict
	Criteria  []string // the reviewer's criteria over every idea, sorted
	Runs      runs
	Seeds     []seedRow
	Total     costTotals // over the phases
	Packages  []kv
	DiffShown string // Diff, cut at maxDiff
	DiffCut   bool
	// ChoiceRows are the ideas' forecasts, for why the chosen one won.
	ChoiceRows []choiceRow
	TrialRows  []trialRow
}

type verdict struct {
	Class   string // success, failure or none
	Heading string
	Summary string
}

// runs summarises the experiment's steps.
type runs struct {
	N, Failed int
	Best      string // the last best-so-far, or a dash
	BestStep  int
	Baseline  string
	Reference string
}

type seedRow struct {
	Seed                 int
	Baseline, Best, Diff string
}

type costTotals struct {
	InputTokens, OutputTokens int64
	USD                       float64
	UnknownPrice              int
}

type kv struct{ Key, Value string }

// ReferenceNote says, when the baseline arm is a reference run rather than
// the untouched prototype, what it is; empty otherwise.
func (v *view) ReferenceNote() string {
	if v.Reference == "" {
		return ""
	}
	return "Reference = " + v.Reference + ", not a baseline: the untouched prototype gives no metric (it is a template), so runs are compared with the first run that yielded one, and validation re-runs that run's code as the \"Baseline\" arm."
}

func newView(d *Data) *view {
	v := &view{Data: d, Verdict: newVerdict(d), Criteria: criteria(d), Runs: newRuns(d), ChoiceRows: choiceRows(d), TrialRows: trialRows(d)}
	if val := d.Validation; val != nil {
		for i, s := range val.Seeds {
			b, x := at(val.Baseline, i), at(val.Best, i)
			v.Seeds = append(v.Seeds, seedRow{Seed: s, Baseline: num(b), Best: num(x), Diff: num(x - b)})
		}
	}
	for _, c := range d.Costs {
		v.Total.InputTokens += c.InputTokens
		v.Total.OutputTokens += c.OutputTokens
		v.Total.USD += c.USD
		v.Total.UnknownPrice += c.UnknownPrice
	}
	for _, k := range slices.Sorted(maps.Keys(d.Manifest.Packages)) {
		v.Packages = append(v.Packages, kv{k, d.Manifest.Packages[k]})
	}
	v.DiffShown, v.DiffCut = cutDiff(d.Diff, maxDiff)
	return v
}

// at returns v[i], or NaN past its end.
func at(v []float64, i int) float64 {
	if i < len(v) {
		return v[i]
	}
	return math.NaN()
}

func newVerdict(d *Data) verdict {
	v := validationVerdict(d)
	if d.Rehearsal != "" {
		v.Heading = "Rehearsal — " + v.Heading
		v.Summary = fmt.Sprintf("A rehearsal: the model's answers came from a script (%s), not a language model; everything else ran for real. %s", d.Rehearsal, v.Summary)
	}
	return v
}

func validationVerdict(d *Data) verdict {
	val := d.Validation
	switch {
	case d.Stopped != nil:
		st := d.Stopped
		heading := "Run " + orDash(st.Status) + " in phase " + orDash(st.Phase)
		return verdict{"failure", heading, fmt.Sprintf("%s. %s", strings.TrimRight(orDash(st.Reason), "."), orDash(st.Resume))}
	case val == nil:
		s := "The result was not validated: the baseline and the best solution were not re-run over seeds."
		if r := newRuns(d); r.N > 0 && r.Best != dash {
			s += fmt.Sprintf(" The experiment's best %s was %s (step %d), unconfirmed.", orDash(d.Task.Metric), r.Best, r.BestStep)
		}
		return verdict{"none", "Not validated", s}
	case val.Success:
		return verdict{"success", "Success", orDash(val.Summary)}
	}
	return verdict{"failure", "Not a success", orDash(val.Summary)}
}

func criteria(d *Data) []string {
	set := map[string]bool{}
	for k := range d.Chosen.Scores {
		set[k] = true
	}
	for _, a := range d.Alternatives {
		for k := range a.Scores {
			set[k] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

func newRuns(d *Data) runs {
	r := runs{N: len(d.Steps), Best: dash, Baseline: baselineLabel(d), Reference: d.Reference}
	var best *float64
	for _, s := range d.Steps {
		if s.Metric == nil {
			r.Failed++
		}
		if s.Best != nil && (best == nil || *s.Best != *best) {
			best, r.BestStep = s.Best, s.Step
		}
	}
	if best != nil {
		r.Best = num(*best)
	}
	return r
}

// baseline returns the value the metric plot draws as the baseline, and
// its legend.
func baseline(d *Data) (float64, string, bool) {
	switch {
	case d.Baseline != nil && d.Reference != "":
		return *d.Baseline, "reference (" + d.Reference + ")", true
	case d.Baseline != nil:
		return *d.Baseline, "baseline", true
	case d.Validation != nil && !math.IsNaN(d.Validation.BaselineMean):
		return d.Validation.BaselineMean, "baseline (validation mean)", true
	}
	return 0, "", false
}

func baselineLabel(d *Data) string {
	switch b, _, ok := baseline(d); {
	case !ok:
		return dash
	case d.Baseline == nil:
		return num(b) + " (validation mean)"
	default:
		return num(b)
	}
}

// cutDiff cuts diff to at most n bytes at a line boundary.
func cutDiff(diff string, n int) (string, bool) {
	if len(diff) <= n {
		return diff, false
	}
	cut := diff[:n]
	if i := strings.LastIndexByte(cut, '\n'); i > 0 {
		cut = cut[:i+1]
	}
	return cut, true
}

// Metric names the metric and its goal.
func (v *view) Metric() string { return metricName(v.Task) }

// metricName names the metric and its goal, or a dash.
func metricName(t Task) string {
	switch {
	case t.Metric == "":
		return dash
	case t.Goal == "":
		return t.Metric
	}
	return fmt.Sprintf("%s (%s)", t.Metric, t.Goal)
}

// scoreOf returns an idea's score on a criterion, or a dash.
func scoreOf(i Idea, criterion string) string {
	if s, ok := i.Scores[criterion]; ok {
		return fmt.Sprint(s)
	}
	return dash
}

// HasIdea reports whether the run had an idea phase.
func (v *view) HasIdea() bool { return hasIdea(v.Data) }

// HasPlan reports whether there is a plan.
func (v *view) HasPlan() bool { return strings.TrimSpace(v.Plan) != "" }

// hasIdea reports whether the run had an idea phase.
func hasIdea(d *Data) bool {
	return d.Chosen.Title != "" || d.Chosen.ID != "" || d.Chosen.Hypothesis != ""
}

// ManifestRows are the manifest as label and value.
func (v *view) ManifestRows() []kv { return manifestRows(v) }
