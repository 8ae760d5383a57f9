package research

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/task"
)

// trial is one idea tried by a research run with --n-experiments K: the
// first in the research run itself, the others each in an experiment run
// of its own (RunID), with a share of the steps.
type trial struct {
	Idea   string             `json:"idea"` // the idea's id
	Title  string             `json:"title"`
	RunID  string             `json:"run"`
	Result *experiment.Result `json:"result,omitempty"`
	Error  string             `json:"error,omitempty"`
}

// trialsFile keeps the finished trials of a research run, so a resumed run
// reads them back instead of running them again.
const trialsFile = "experiments.json"

func readTrials(dir string) []trial {
	var ts []trial
	if b, err := os.ReadFile(filepath.Join(dir, trialsFile)); err == nil {
		json.Unmarshal(b, &ts)
	}
	return ts
}

func writeTrials(dir string, ts []trial) error {
	b, _ := json.MarshalIndent(ts, "", "  ")
	return os.WriteFile(filepath.Join(dir, trialsFile), append(b, '\n'), 0o644)
}

// stepShare is each of k experiments' share of the run's agent steps.
func stepShare(maxSteps int, t *task.Task, k int) int {
	if maxSteps <= 0 {
		maxSteps = t.Limits.MaxSteps
	}
	return max(1, maxSteps/max(1, k))
}

// moreTrials runs the ideas ranked 2..K after the first, in order, each in
// an experiment run of its own with ep's settings and its own plan, and
// returns every trial, the first (first, in the research run) included. A
// trial that fails is recorded with its error and the others go on; a
// budget or an interrupt ends them all.
func (r *Run) moreTrials(ctx context.Context, ep *ExperimentParams, ideas *idea.Result, k int, first *experiment.Result) ([]trial, error) {
	ts := []trial{{Idea: ideas.Ideas[0].ID, Title: ideas.Ideas[0].Title, RunID: r.ID, Result: first}}
	done := map[string]trial{}
	for _, t := range readTrials(r.Dir) {
		if t.Result != nil {
			done[t.Idea] = t
		}
	}
	out := r.out
	for i := 1; i < min(k, len(ideas.Ideas)); i++ {
		id := ideas.Ideas[i]
		if t, ok := done[id.ID]; ok {
			fmt.Fprintf(out, "\n== experiment %d/%d: %s (already run: %s) ==\n", i+1, k, id.Title, t.RunID)
			ts = append(ts, t)
			continue
		}
		fmt.Fprintf(out, "\n== experiment %d/%d: %s ==\n", i+1, k, id.Title)
		t, err := r.trial(ctx, ep, id)
		if err != nil && ctx.Err() != nil {
			return ts, err
		}
		if err != nil {
			t.Error = err.Error()
			fmt.Fprintf(out, "experiment %d failed: %v\n", i+1, err)
			r.emit(ctx, Warning{Phase: "experiment", Message: r.opts.Redact(fmt.Sprintf("the experiment on %s (%s) failed: %v", id.ID, id.Title, err))})
		}
		ts = append(ts, t)
		if err := writeTrials(r.Dir, ts); err != nil {
			return ts, err
		}
		if err != nil && isBudget(err) {
			return ts, err
		}
	}
	return ts, writeTrials(r.Dir, ts)
}

// trial runs one idea's plan in an experiment run of its own.
func (r *Run) trial(ctx context.Context, ep *ExperimentParams, id idea.Idea) (t trial, err error) {
	p := *ep
	p.Plan, p.PlanFile = idea.PlanText(id), ""
	t = trial{Idea: id.ID, Title: id.Title}
	if r.opts.NewExperimentRun == nil {
		return t, fmt.Errorf("this run cannot open experiment runs of its own")
	}
	sub, finish, err := r.opts.NewExperimentRun(ctx, &p)
	if err != nil {
		return t, err
	}
	t.RunID = sub.ID
	defer func() { finish(err) }()
	fmt.Fprintf(r.out, "experiment run %s\n", sub.ID)
	t.Result, err = sub.Experiment(ctx, &p)
	return t, err
}

// bestTrial is the trial whose best run is best in the goal's direction;
// ties go to the earlier (higher-ranked) idea. -1 when none measured one.
func bestTrial(ts []trial, goal task.Goal) int {
	best := -1
	for i, t := range ts {
		if t.Result == nil || t.Result.Best == nil || t.Result.Best.Metric == nil {
			continue
		}
		if best < 0 || betterFor(goal, *t.Result.Best.Metric, *ts[best].Result.Best.Metric) {
			best = i
		}
	}
	return best
}

func isBudget(err error) bool {
	var b *llm.BudgetError
	return errors.As(err, &b)
}

// chooseTrial makes the trial measured best the result to validate: its
// idea goes first in ideas (in memory only: ideas.json keeps the ranking,
// which a resume needs), and ideas.Why says why. It returns that result.
func chooseTrial(ideas *idea.Result, ts []trial, goal task.Goal, first *experiment.Result) *experiment.Result {
	b := bestTrial(ts, goal)
	if b <= 0 {
		return first
	}
	for i, id := range ideas.Ideas {
		if id.ID == ts[b].Idea {
			idea.Select(ideas, idea.Choice{Pick: i})
			ideas.Why = fmt.Sprintf("%s measured best of the %d ideas tried (%s %.6g, against %.6g for %s, the first in the ranking), so its code was validated",
				id.ID, len(ts), first.Metric, *ts[b].Result.Best.Metric, bestOr(first), ts[0].Idea)
			break
		}
	}
	return ts[b].Result
}

func bestOr(r *experiment.Result) float64 {
	if r == nil || r.Best == nil || r.Best.Metric == nil {
		return r.Baseline
	}
	return *r.Best.Metric
}

// reportTrials is each idea's outcome for the report.
func reportTrials(ts []trial, validated *experiment.Result) []report.Trial {
	var out []report.Trial
	for _, t := range ts {
		rt := report.Trial{Idea: t.Idea, Title: t.Title, Run: t.RunID, Error: t.Error}
		if r := t.Result; r != nil {
			base := r.Baseline
			rt.Baseline, rt.Steps, rt.Validated = &base, r.Steps, r == validated
			if r.Best != nil && r.Best.Metric != nil {
				b := *r.Best.Metric
				rt.Best = &b
			}
		}
		out = append(out, rt)
	}
	return out
}
