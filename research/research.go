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
	Steps                     int
	Tokens                    int64
	Cost                      llm.Cost
	Wall                      time.Duration
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
	defer func() {
		if err != nil && st.Phase != "report" {
			st.Plan = ep.Plan
			r.StoppedReport(ctx, p, st, err)
		}
	}()
	st.TaskHash, err = StartHash(r.Dir, t)
	if err != nil {
		return nil, err
	}

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
			st.Ideas, err = r.Ideas(ctx, p.Model, p.Ideas())
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
	st.Result, err = r.Experiment(ctx, ep)
	if err != nil {
		return nil, err
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
	paths, err := r.Report(ctx, p, st)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\n%s\nreport: %s\n", VerdictLine(st.Verdict), paths)
	usage, cost, _ := r.opts.Meter.Totals()
	info, _ := r.opts.Store.Info(ctx)
	res := st.Result
	return &Outcome{RunID: r.ID, Task: t.Name, Metric: res.Metric, Goal: string(res.Goal), Result: res, Verdict: st.Verdict,
		Steps: res.Steps, Tokens: usage.Total(), Cost: cost, Wall: time.Since(info.Created)}, nil
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
