// Package memory is mlrc's research memory: what each finished research
// run tried on a task and how it scored, kept in the run store (its memory
// table) under the task's name and the fingerprint of its data, and told to
// later runs on the same task and data (the IdeaAgent's proposer and the
// ExperimentAgent's brief), so that a second run starts from the first
// run's frontier.
package memory

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Outcome is what a research run tried and how it ended.
type Outcome struct {
	Task, Fingerprint, RunID string
	// Idea is the title of the idea tried; Diff is its best code against
	// the prototype (only file names and line counts are kept).
	Idea, Diff   string
	Metric, Goal string
	Baseline     float64
	// Best is the experiment's best metric; nil when no run gave one.
	Best *float64
	// Verdict is the validation's; nil when the run stopped before it.
	Verdict *validate.Verdict
	// Stopped names the phase the run stopped in; empty when it finished.
	Stopped string
}

// Entry is the memory entry of an outcome. Every text from a model or a
// workspace goes through redact (a secret masker) before it is kept.
func Entry(o Outcome, redact func(string) string) store.Memory {
	if redact == nil {
		redact = func(s string) string { return s }
	}
	m := store.Memory{Task: o.Task, Fingerprint: o.Fingerprint, RunID: o.RunID, Idea: redact(oneLine(o.Idea, 200)),
		Changes: redact(Changes(o.Diff)), Metric: o.Metric, Goal: o.Goal, Verdict: verdictText(o)}
	base := o.Baseline
	m.Baseline = &base
	if o.Best != nil {
		b := *o.Best
		m.Best = &b
		imp := b - base
		if o.Goal == string(task.Minimize) {
			imp = -imp
		}
		if r, _, ok := validate.RelativeChange(o.Metric, task.Goal(o.Goal), imp, base); ok && !math.IsNaN(r) {
			m.Relative = &r
		}
	}
	if v := o.Verdict; v != nil && v.RelativeImprovement != nil {
		r := *v.RelativeImprovement
		m.Relative = &r
	}
	return m
}

// verdictText is how the run judged its idea, in a few words.
func verdictText(o Outcome) string {
	v := o.Verdict
	switch {
	case v != nil && v.Success:
		return "validated"
	case v != nil && len(v.Failed()) > 0:
		var names []string
		for _, c := range v.Failed() {
			names = append(names, c.Name)
		}
		return "not validated: integrity checks failed (" + strings.Join(names, ", ") + ")"
	case v != nil && v.P >= v.Criterion.Alpha:
		return fmt.Sprintf("not significant (p = %.3g)", v.P)
	case v != nil:
		return "not a success: " + oneLine(v.Summary, 160)
	case o.Stopped != "":
		return "stopped in the " + o.Stopped + " phase, not validated"
	}
	return "not validated"
}

// Changes summarises a unified diff as its files and line counts, e.g.
// "train.py +12 -3; features.py (new) +40": what changed, never the code
// itself.
func Changes(diff string) string {
	type count struct {
		plus, minus int
		isNew       bool
	}
	files := map[string]*count{}
	var order []string
	var cur *count
	for _, line := range strings.Split(diff, "\n") {
		switch {
		case strings.HasPrefix(line, "diff --git "):
			f := strings.TrimPrefix(line, "diff --git ")
			if i := strings.LastIndex(f, " b/"); i >= 0 {
				f = f[i+3:]
			}
			cur = &count{}
			files[f] = cur
			order = append(order, f)
		case cur == nil:
		case strings.HasPrefix(line, "new file"):
			cur.isNew = true
		case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
		case strings.HasPrefix(line, "+"):
			cur.plus++
		case strings.HasPrefix(line, "-"):
			cur.minus++
		}
	}
	if len(order) == 0 {
		return "no code change"
	}
	var parts []string
	for i, f := range order {
		if i == 8 {
			parts = append(parts, fmt.Sprintf("and %d more files", len(order)-8))
			break
		}
		c := files[f]
		s := f
		if c.isNew {
			s += " (new)"
		}
		parts = append(parts, fmt.Sprintf("%s +%d -%d", s, c.plus, c.minus))
	}
	return strings.Join(parts, "; ")
}

// Line is an entry as the models read it, e.g. `idea "An RBF-kernel SVM":
// accuracy 0.974 → 0.994 (+78% of the baseline's error removed), validated;
// changes: train.py +2 -1`.
func Line(m store.Memory) string {
	var b strings.Builder
	fmt.Fprintf(&b, "idea %q: ", m.Idea)
	switch {
	case m.Baseline != nil && m.Best != nil:
		fmt.Fprintf(&b, "%s %.6g → %.6g", m.Metric, *m.Baseline, *m.Best)
	case m.Baseline != nil:
		fmt.Fprintf(&b, "%s baseline %.6g, no run gave a metric", m.Metric, *m.Baseline)
	default:
		fmt.Fprintf(&b, "%s unknown", m.Metric)
	}
	if m.Relative != nil {
		fmt.Fprintf(&b, " (%+.0f%% %s)", 100**m.Relative, better(m))
	}
	fmt.Fprintf(&b, ", %s; changes: %s (run %s)", m.Verdict, orDash(m.Changes), m.RunID)
	return b.String()
}

func better(m store.Memory) string {
	if m.Goal == string(task.Maximize) && m.Baseline != nil {
		if _, to, ok := validate.RelativeChange(m.Metric, task.Maximize, 0.1, *m.Baseline); ok && to == validate.RelativeToError {
			return "of the error, in the goal's direction"
		}
	}
	return "in the goal's direction"
}

// Reader is where the memory is read from; *store.Store is one.
type Reader interface {
	Memories(ctx context.Context, task, fingerprint string) ([]store.Memory, error)
}

// MaxLines bounds how many entries a run is told: the best ones first.
const MaxLines = 10

// Recall returns what earlier runs on the task and data found, as lines for
// the prompts: at most MaxLines, the most improved first (validated ones
// before the rest), then the most recent.
func Recall(ctx context.Context, r Reader, taskName, fingerprint string) ([]string, error) {
	ms, err := r.Memories(ctx, taskName, fingerprint)
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	sort.SliceStable(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if va, vb := a.Verdict == "validated", b.Verdict == "validated"; va != vb {
			return va
		}
		ra, rb := rel(a), rel(b)
		if ra != rb {
			return ra > rb
		}
		return a.ID > b.ID
	})
	var out []string
	for _, m := range ms[:min(MaxLines, len(ms))] {
		out = append(out, Line(m))
	}
	return out, nil
}

func rel(m store.Memory) float64 {
	if m.Relative == nil {
		return math.Inf(-1)
	}
	return *m.Relative
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
