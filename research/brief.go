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
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Brief is what a list of runs shows of one: its task, the metric from the
// baseline to the best, the verdict and the report.
type Brief struct {
	Task     string   `json:"task,omitempty"`
	Metric   string   `json:"metric,omitempty"`
	Baseline *float64 `json:"baseline,omitempty"`
	Best     *float64 `json:"best,omitempty"`
	// Verdict is "success", "not a success", or "" (not validated).
	Verdict string `json:"verdict,omitempty"`
	Summary string `json:"summary,omitempty"`
	Report  string `json:"report,omitempty"`
}

// ReadConfig reads the settings a run stored.
func ReadConfig(info store.RunInfo) (*Config, error) {
	var rc Config
	if len(info.Config) == 0 {
		return &rc, nil
	}
	if err := json.Unmarshal(info.Config, &rc); err != nil {
		return nil, fmt.Errorf("run %s: read its config: %w", info.ID, err)
	}
	return &rc, nil
}

// TaskDir is the task directory of a run's settings, "" for none.
func (c *Config) TaskDir() string {
	switch {
	case c.Research != nil:
		return c.Research.Task
	case c.Experiment != nil:
		return c.Experiment.Task
	}
	return ""
}

// BriefOf reads the brief of a run from its directory and its events.
func BriefOf(ctx context.Context, run *store.Run, info store.RunInfo) Brief {
	var b Brief
	if rc, err := ReadConfig(info); err == nil && rc.TaskDir() != "" {
		b.Task = filepath.Base(rc.TaskDir())
	}
	if v, err := readVerdict(info.Dir); err == nil {
		b.Verdict, b.Summary = "not a success", v.Summary
		if v.Success {
			b.Verdict = "success"
		}
	}
	if _, err := os.Stat(filepath.Join(info.Dir, "report.html")); err == nil {
		b.Report = filepath.Join(info.Dir, "report.html")
	}
	events, err := run.Events(ctx)
	if err != nil {
		return b
	}
	for _, e := range events {
		if e.Type != "step" {
			continue
		}
		var s experiment.Event
		if json.Unmarshal(e.Data, &s) == nil {
			base := s.Baseline
			b.Baseline, b.Best = &base, s.Best
		}
	}
	if b.Baseline != nil && b.Task != "" {
		if rc, err := ReadConfig(info); err == nil {
			if t, err := task.Load(rc.TaskDir()); err == nil {
				b.Metric = t.Metric.Name
			}
		}
	}
	return b
}

func readVerdict(dir string) (*validate.Verdict, error) {
	b, err := os.ReadFile(filepath.Join(dir, "verdict.json"))
	if err != nil {
		return nil, err
	}
	var v validate.Verdict
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("verdict.json: %w", err)
	}
	return &v, nil
}

// ErrNoResult: the run's experiment has not ended, so there is nothing to
// validate or report on yet.
var ErrNoResult = errors.New("the experiment has not ended: no result is recorded (continue it with mlrc resume)")

// ReadState reads back what a run's phases produced, for a report or a
// validation after the fact: the ideas, the experiment's result, the
// verdict, the task's hash at the start and the plan.
func ReadState(ctx context.Context, run *store.Run, info store.RunInfo, t *task.Task) (*Params, *State, error) {
	rc, err := ReadConfig(info)
	if err != nil {
		return nil, nil, err
	}
	p := rc.Research
	if p == nil {
		p = &Params{Model: info.Model, Seeds: []int{0, 1, 2}}
		if e := rc.Experiment; e != nil {
			p.Task, p.Plan, p.PlanFile, p.Search, p.Seeds = e.Task, e.Plan, e.PlanFile, e.Search, []int{e.Seed, e.Seed + 1, e.Seed + 2}
		}
	}
	st := &State{Phase: "report", Plan: p.Plan}
	if ideas, err := idea.Read(filepath.Join(info.Dir, "ideas.json")); err == nil {
		st.Ideas = ideas
		if st.Plan == "" && len(ideas.Ideas) > 0 {
			st.Plan = idea.PlanText(ideas.Ideas[0])
		}
	}
	if st.TaskHash, err = StartHash(info.Dir, t); err != nil {
		return nil, nil, err
	}
	if v, err := readVerdict(info.Dir); err == nil {
		st.Verdict = v
	}
	st.Result, err = readResult(ctx, run, info, t)
	if err != nil && !errors.Is(err, ErrNoResult) {
		return nil, nil, err
	}
	return p, st, nil
}

// readResult rebuilds the experiment's result from the run's "result"
// event and its directory.
func readResult(ctx context.Context, run *store.Run, info store.RunInfo, t *task.Task) (*experiment.Result, error) {
	events, err := run.Events(ctx)
	if err != nil {
		return nil, err
	}
	var res *experiment.Result
	for _, e := range events {
		if e.Type != "result" {
			continue
		}
		var r struct {
			Reason   string                `json:"reason"`
			Improved bool                  `json:"improved"`
			Best     *experiment.RunRecord `json:"best"`
		}
		if err := json.Unmarshal(e.Data, &r); err != nil {
			return nil, fmt.Errorf("run %s: read its result: %w", info.ID, err)
		}
		res = &experiment.Result{Reason: r.Reason, Metric: t.Metric.Name, Goal: t.Metric.Goal,
			Workspace: filepath.Join(info.Dir, "workspace")}
		if r.Improved && r.Best != nil {
			res.Best, res.BestDir = r.Best, filepath.Join(info.Dir, "best")
			if d, err := os.ReadFile(filepath.Join(info.Dir, "best.diff")); err == nil {
				res.Diff = string(d)
			}
		}
	}
	if res == nil {
		return nil, ErrNoResult
	}
	rec, err := experiment.Read(ctx, run)
	if err != nil {
		return nil, err
	}
	if rec.Baseline != nil && rec.Baseline.Metric != nil {
		res.Baseline = *rec.Baseline.Metric
	}
	res.Steps = len(rec.Steps)
	return res, nil
}

// Render writes the run's report again from what the store and the run
// directory hold (mlrc report RUN): no phase is run or recorded.
func (r *Run) Render(ctx context.Context, p *Params, st *State) (string, error) {
	d, err := r.ReportData(ctx, p, st)
	if err != nil {
		return "", err
	}
	if err := writeReport(ctx, r.opts.Store, d); err != nil {
		return "", err
	}
	return filepath.Join(r.Dir, "report.html"), nil
}
