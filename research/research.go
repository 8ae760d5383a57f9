package research

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Outcome is what a research run produced.
type Outcome struct {
	RunID, Task, Metric, Goal string
	Result                    *experiment.Result
	Verdict                   *validate.Verdict
	// Expected is the chosen idea's forecast change of the metric; nil
	// without an idea phase or a valid forecast.
	Expected *float64
	Steps    int
	Tokens   int64
	Cost     llm.Cost
	Wall     time.Duration
}

// Research runs the four phases in order: ideas (unless p.Plan is given),
// the experiment, validation, the report. Each phase that finished before
// (the run is resumed) is read back rather than redone. A run that stops
// before its report phase gets a report saying where it stopped, why, and
// how to go on.
func (r *Run) Research(ctx context.Context, p *Params) (o *Outcome, err error) {
	t, out := r.opts.Task, r.out
	fmt.Fprintf(out, "research run %s · task %s · model %s · sandbox %s\n", r.ID, t.Name, p.Model, r.opts.Isolation)

	r.mu.Lock()
	r.phases = []string{"idea", "experiment", "validation", "report"}
	r.mu.Unlock()
	st := &State{Phase: "setup"}
	ep := p.Experiment()
	var rc *recalled
	var trials []trial
	defer func() {
		if err != nil && (st.Phase == "validation" || st.Phase == "report") {
			r.remember(ctx, r.ID, t, rc, st.Ideas, ep.Plan, st.Result, st.Verdict, st.Phase)
		}
		if err != nil && st.Phase != "report" {
			st.Plan = ep.Plan
			r.StoppedReport(ctx, p, st, err)
		}
	}()
	st.TaskHash, err = StartHash(r.Dir, t)
	if err != nil {
		return nil, err
	}
	rc = r.recall(ctx, t, p.NoMemory)
	ep.Recalled = rc.Lines

	// Phase 1: ideas, unless a plan is given.
	st.Phase = "idea"
	fmt.Fprintf(out, "\n== phase 1/4: ideas ==\n")
	if p.Plan != "" {
		ep.Plan = p.Plan
		r.beginPhase(ctx, "idea")(nil)
		fmt.Fprintf(out, "a plan was given (%s): no idea phase\n", orText(p.PlanFile, "inline"))
	} else {
		st.Ideas, err = idea.Read(filepath.Join(r.Dir, "ideas.json"))
		if errors.Is(err, fs.ErrNotExist) {
			ip := p.Ideas()
			ip.Recalled = rc.Lines
			st.Ideas, err = r.Ideas(ctx, p.Model, ip)
		} else if err == nil {
			r.beginPhase(ctx, "idea")(nil)
			fmt.Fprintf(out, "ideas already chosen: %s\n", st.Ideas.Ideas[0].Title)
		}
		if err != nil {
			return nil, err
		}
		ep.Plan = idea.PlanText(st.Ideas.Ideas[0])
	}
	st.Plan = ep.Plan

	// Phase 2: the experiment.
	st.Phase = "experiment"
	fmt.Fprintf(out, "\n== phase 2/4: experiment ==\n")
	if p.Experiments > 1 && st.Ideas != nil {
		ep.MaxSteps = stepShare(p.MaxSteps, t, p.Experiments)
		fmt.Fprintf(out, "experiment 1/%d: %s (%d steps each)\n", p.Experiments, st.Ideas.Ideas[0].Title, ep.MaxSteps)
	}
	st.Result, err = r.Experiment(ctx, ep)
	if err != nil {
		return nil, err
	}
	if p.Experiments > 1 && st.Ideas != nil {
		if trials, err = r.moreTrials(ctx, ep, st.Ideas, p.Experiments, st.Result); err != nil {
			return nil, err
		}
		st.Result = chooseTrial(st.Ideas, trials, t.Metric.Goal, st.Result)
	}

	// Phase 3: validation.
	st.Phase = "validation"
	fmt.Fprintf(out, "\n== phase 3/4: validation ==\n")
	st.Verdict, err = r.Validation(ctx, p, st.Result, st.TaskHash)
	if err != nil {
		return nil, err
	}

	// Phase 4: the report.
	st.Phase = "report"
	fmt.Fprintf(out, "\n== phase 4/4: report ==\n")
	if len(trials) > 0 {
		st.Plan = idea.PlanText(st.Ideas.Ideas[0])
		st.Trials = reportTrials(trials, st.Result)
	}
	paths, err := r.Report(ctx, p, st)
	if err != nil {
		return nil, err
	}
	r.remember(ctx, r.ID, t, rc, st.Ideas, st.Plan, st.Result, st.Verdict, "")
	r.rememberTrials(ctx, t, rc, trials, st.Result)
	fmt.Fprintf(out, "\n%s\nreport: %s\n", VerdictLine(st.Verdict), paths)
	usage, cost, _ := r.opts.Meter.Totals()
	info, _ := r.opts.Store.Info(ctx)
	res := st.Result
	return &Outcome{RunID: r.ID, Task: t.Name, Metric: res.Metric, Goal: string(res.Goal), Result: res, Verdict: st.Verdict,
		Expected: expectedChange(st.Ideas), Steps: res.Steps, Tokens: usage.Total(), Cost: cost, Wall: time.Since(info.Created)}, nil
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// StartHash records the task's hash when the run starts (integrity.json in
// the run directory) and returns it; a resumed run reads it back, so a task
// changed mid-run is caught by validation.
func StartHash(dir string, t *task.Task) (string, error) {
	path := filepath.Join(dir, "integrity.json")
	var rec struct {
		TaskHash string `json:"task_hash"`
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &rec); err == nil && rec.TaskHash != "" {
			return rec.TaskHash, nil
		}
	}
	h, err := t.Hash()
	if err != nil {
		return "", err
	}
	rec.TaskHash = h
	b, _ := json.MarshalIndent(rec, "", "  ")
	return h, os.WriteFile(path, b, 0o644)
}

// expectedChange is the chosen idea's forecast change of the metric.
func expectedChange(ideas *idea.Result) *float64 {
	if ideas == nil || len(ideas.Ideas) == 0 || ideas.Ideas[0].Review == nil || ideas.Ideas[0].Review.Expected == nil {
		return nil
	}
	c := ideas.Ideas[0].Review.Expected.Change
	return &c
}
