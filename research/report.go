package research

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/internal/buildinfo"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Report writes report.md and report.html into the run directory from
// what the store and the phases hold, and returns the HTML's path.
func (r *Run) Report(ctx context.Context, p *Params, st *State) (path string, err error) {
	end := r.beginPhase(ctx, "report")
	defer func() { end(err) }()
	s := r.opts.Store
	if err := s.BeginPhase(ctx, "report"); err != nil {
		return "", err
	}
	d, err := r.ReportData(ctx, p, st)
	if err == nil {
		d.Trials = st.Trials
		err = writeReport(ctx, s, d)
	}
	status := store.StatusDone
	if err != nil {
		status = store.StatusFailed
	}
	if perr := s.EndPhase(context.WithoutCancel(ctx), "report", status); perr != nil && err == nil {
		err = perr
	}
	return filepath.Join(s.Dir, "report.html"), err
}

// writeReport writes the report's files and lists them as the run's
// artifacts.
func writeReport(ctx context.Context, s *store.Run, d *report.Data) error {
	if err := report.Write(s.Dir, d); err != nil {
		return err
	}
	for _, f := range []string{"report.md", "report.html"} {
		if err := s.AddArtifact(ctx, f, f, "report"); err != nil {
			return err
		}
	}
	return nil
}

// ReportData is the report's data: what the store holds of the run and
// what its phases produced (st).
func (r *Run) ReportData(ctx context.Context, p *Params, st *State) (*report.Data, error) {
	run, t := r.opts.Store, r.opts.Task
	ideas, res, v, taskHash, plan := st.Ideas, st.Result, st.Verdict, st.TaskHash, st.Plan
	info, err := run.Info(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	d := &report.Data{RunID: run.ID, Title: t.Name, Started: info.Created, Finished: now, Wall: now.Sub(info.Created), Plan: plan,
		Task: report.Task{Name: t.Name, Metric: t.Metric.Name, Goal: string(t.Metric.Goal), Hash: taskHash}}
	if res != nil {
		d.Diff = res.Diff
	}
	if ideas != nil {
		for _, pp := range ideas.Papers {
			d.Papers = append(d.Papers, report.Paper{ID: pp.ID, Source: pp.Source, Title: pp.Title})
		}
		d.Elements = report.Elements{Tasks: ideas.Elements.Tasks, Gaps: ideas.Elements.Gaps, Keywords: ideas.Elements.Keywords}
		for i, id := range ideas.Ideas {
			ri := reportIdea(id)
			if i == 0 {
				d.Chosen = ri
				d.Title = t.Name + ": " + id.Title
			} else {
				d.Alternatives = append(d.Alternatives, ri)
			}
		}
		d.Feedback = append(d.Feedback, ideas.Feedback...)
		d.Choice = report.Choice{Rule: ideas.Rule, Why: ideas.Why}
	}
	rec, err := experiment.Read(ctx, run)
	if err != nil {
		return nil, err
	}
	reportOutputs(d, res, rec)
	if rec.Baseline != nil {
		d.Baseline = rec.Baseline.Metric
	}
	d.Reference = rec.ReferenceLabel()
	var best *float64
	for _, sp := range rec.Steps {
		if sp.Runs == 0 {
			continue
		}
		if sp.Metric != nil && (best == nil || betterFor(t.Metric.Goal, *sp.Metric, *best)) {
			b := *sp.Metric
			best = &b
		}
		d.Steps = append(d.Steps, report.StepPoint{Step: sp.Step, Metric: sp.Metric, Best: best, Action: sp.Action})
	}
	if v != nil {
		d.Validation = reportValidation(v)
	}
	d.Placements = placements(rec, v)
	if d.Costs, err = phaseCosts(ctx, run); err != nil {
		return nil, err
	}
	events, err := run.Events(ctx)
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		if e.Type == "warning" {
			var w struct{ Phase, Message string }
			if json.Unmarshal(e.Data, &w) == nil {
				d.Warnings = append(d.Warnings, report.Warning{Phase: w.Phase, Message: w.Message})
			}
		}
		if e.Type == "human_feedback" {
			var f map[string]any
			json.Unmarshal(e.Data, &f)
			d.Feedback = append(d.Feedback, fmt.Sprintf("%v: %v%v", f["gate"], f["guidance"], orEmpty(f["feedback"])))
		}
	}
	d.Manifest = r.manifest(ctx, p, taskHash)
	if IsRehearsal(p.Model) {
		d.Rehearsal = p.Model
		d.Title = "Rehearsal (scripted model, not a language model): " + d.Title
	}
	return d, nil
}

func orEmpty(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func betterFor(goal task.Goal, a, b float64) bool {
	if goal == task.Minimize {
		return a < b
	}
	return a > b
}

func reportIdea(i idea.Idea) report.Idea {
	r := report.Idea{ID: i.ID, Rank: i.Rank, Title: i.Title, Hypothesis: i.Hypothesis, Method: i.Method, Score: i.Score, Novelty: math.NaN()}
	if i.Novelty != nil {
		r.Novelty = i.Novelty.Score
		if i.Novelty.Decision != "" { // ideas.json of an older mlrc: a score only
			r.NoveltyCheck = reportNovelty(i.Novelty)
		}
	}
	if rv := i.Review; rv != nil {
		r.Scores = map[string]int{"clarity": rv.Clarity.Score, "validity": rv.Validity.Score, "rigor": rv.Rigor.Score,
			"innovativeness": rv.Innovativeness.Score, "generalizability": rv.Generalizability.Score, "feasibility": rv.Feasibility.Score}
	}
	for _, b := range i.BuildsOn {
		r.BuildsOn = append(r.BuildsOn, report.Ref{ID: b.ID, Source: b.Source, Title: b.Title})
	}
	r.Guarded = idea.Guarded(i)
	if i.Review != nil && i.Review.Expected != nil {
		e := i.Review.Expected
		r.Forecast = &report.Forecast{Change: e.Change, Justification: e.Justification, Risk: e.Risk, Steps: e.Steps, RunSeconds: e.RunSeconds}
		if i.Gain != nil {
			g := i.Gain.Score
			r.Forecast.Gain, r.Forecast.Budget = &g, i.Gain.Cost
		}
	}
	return r
}

// reportNovelty is an idea's novelty check for the report.
func reportNovelty(n *idea.Novelty) *report.NoveltyCheck {
	ref := func(w lit.Work) report.Ref { return report.Ref{ID: w.ID, Source: w.Source, Title: w.Title} }
	c := &report.NoveltyCheck{Decision: n.Decision, Reason: n.Reason}
	for _, w := range n.Closest {
		c.Closest = append(c.Closest, report.NoveltyWork{Ref: ref(w.Work), How: w.How})
	}
	for _, r := range n.Rounds {
		round := report.NoveltyRound{Queries: r.Queries}
		for _, h := range r.Hits {
			round.Hits = append(round.Hits, ref(h))
		}
		c.Rounds = append(c.Rounds, round)
	}
	return c
}

func reportValidation(v *validate.Verdict) *report.Validation {
	rv := &report.Validation{
		BaselineMean: v.Baseline.Mean, BaselineSD: v.Baseline.SD, BaselineCI: [2]float64{v.Baseline.CILow, v.Baseline.CIHigh},
		BestMean: v.Best.Mean, BestSD: v.Best.SD, BestCI: [2]float64{v.Best.CILow, v.Best.CIHigh},
		Test: v.DecidedBy, Diff: v.Test.Diff, P: v.P, EffectSize: v.Test.EffectSize, Note: v.Test.Note,
		PValues:     verdictPValues(v),
		Improvement: v.Improvement, Relative: v.RelativeImprovement, RelativeTo: v.RelativeTo, Success: v.Success, Summary: v.Summary,
		Criterion: criterionText(v.Criterion),
	}
	// Per seed, in one order for both arms; NaN where a re-run failed.
	seeds := append([]int(nil), v.Baseline.Seeds...)
	for _, s := range v.Best.Seeds {
		if !containsInt(seeds, s) {
			seeds = append(seeds, s)
		}
	}
	rv.Seeds = seeds
	rv.Baseline, rv.Best = bySeed(v.Baseline, seeds), bySeed(v.Best, seeds)
	for _, c := range v.Checks {
		rv.Checks = append(rv.Checks, report.Check{Name: c.Name, Passed: c.Passed, Detail: c.Detail})
	}
	return rv
}

func bySeed(a validate.Arm, seeds []int) []float64 {
	out := make([]float64, len(seeds))
	for i, s := range seeds {
		out[i] = nanValue
		for j, as := range a.Seeds {
			if as == s && j < len(a.Values) {
				out[i] = a.Values[j]
			}
		}
	}
	return out
}

var nanValue = math.NaN()

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func criterionText(c validate.Criterion) string {
	s := fmt.Sprintf("better than the baseline and significant at α = %g (Welch's t-test)", c.Alpha)
	if c.MinRelative > 0 {
		s = fmt.Sprintf("at least %.0f%% better than the baseline and significant at α = %g (Welch's t-test)", 100*c.MinRelative, c.Alpha)
	}
	if c.MinImprovement > 0 {
		s += fmt.Sprintf(", by at least %g", c.MinImprovement)
	}
	return s + ", with every integrity check passed"
}

// phaseCosts sums the run's model calls by the phase of their step, and
// gives each phase its wall time.
func phaseCosts(ctx context.Context, run *store.Run) ([]report.PhaseCost, error) {
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	phaseOf := map[int64]string{}
	for _, s := range steps {
		phaseOf[s.Seq] = s.Phase
	}
	calls, err := run.Calls(ctx)
	if err != nil {
		return nil, err
	}
	phases, err := run.Phases(ctx)
	if err != nil {
		return nil, err
	}
	byName := map[string]*report.PhaseCost{}
	var out []*report.PhaseCost
	get := func(name string) *report.PhaseCost {
		if c, ok := byName[name]; ok {
			return c
		}
		c := &report.PhaseCost{Phase: name}
		byName[name] = c
		out = append(out, c)
		return c
	}
	for _, ph := range phases {
		c := get(ph.Name)
		if !ph.Ended.IsZero() {
			c.Wall = ph.Ended.Sub(ph.Started)
		}
	}
	for _, call := range calls {
		c := get(orText(phaseOf[call.Step], "other"))
		c.InputTokens += call.Usage.InputTokens + call.Usage.CacheReadTokens + call.Usage.CacheWriteTokens
		c.OutputTokens += call.Usage.OutputTokens
		c.USD += call.Cost.USD
		c.UnknownPrice += call.Cost.Unknown
	}
	var res []report.PhaseCost
	for _, c := range out {
		res = append(res, *c)
	}
	return res, nil
}

// manifest is what it takes to reproduce the run.
func (r *Run) manifest(ctx context.Context, p *Params, taskHash string) report.Manifest {
	py, isolation, runID := r.opts.Python, r.opts.Isolation, r.ID
	version, commit := buildinfo.Get()
	m := report.Manifest{MlrcVersion: version, Commit: commit, Models: []string{p.Model}, Seeds: p.Seeds, TaskHash: taskHash,
		Sandbox: isolation, GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if py != "" {
		if out, err := exec.CommandContext(ctx, py, "--version").CombinedOutput(); err == nil {
			m.Python = py + ": " + strings.TrimSpace(string(out))
		}
	}
	if r.opts.Packages != nil && py != "" {
		m.Packages, _ = r.opts.Packages(ctx, py)
	}
	var cmd strings.Builder
	cmd.WriteString("mlrc research")
	for _, pp := range p.Papers {
		fmt.Fprintf(&cmd, " --paper %s", pp)
	}
	fmt.Fprintf(&cmd, " --task %s --model %s --search %s --seeds %s --auto", p.Task, p.Model, p.Search, joinInts(p.Seeds))
	fmt.Fprintf(&cmd, "   # or, with no model: mlrc replay %s", runID)
	m.Command = cmd.String()
	return m
}

func joinInts(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ",")
}

// verdictPValues are every p-value the verdict computed.
func verdictPValues(v *validate.Verdict) []report.PValue {
	welch := v.Test.P
	out := []report.PValue{{Test: v.Test.Name + " over the seeds", P: &welch, Note: v.Test.Note}}
	out = append(out, report.PValue{Test: validate.PermutationTest, P: v.Test.PermutationP})
	if b := v.Bootstrap; b != nil {
		out = append(out, report.PValue{Test: b.Name, P: b.P, Note: b.Note})
	}
	return out
}
