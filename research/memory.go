package research

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/memory"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// recalled is a research run's share of the research memory: the task's
// data fingerprint, and what earlier runs on that task and data found, as
// told to the models. It is kept as memory.json in the run directory, so a
// resumed run tells them exactly what it told them first.
type recalled struct {
	Fingerprint string   `json:"fingerprint"`
	Lines       []string `json:"lines"`
	// Off: --no-memory; the run neither reads nor adds to the memory.
	Off bool `json:"off,omitempty"`
}

// recall reads the run's memory.json, or, for a new run, recalls what
// earlier runs on the task and data found and writes it. A task whose data
// cannot be fingerprinted runs without memory, with a warning.
func (r *Run) recall(ctx context.Context, t *task.Task, off bool) *recalled {
	st, dir := r.opts.Runs, r.Dir
	if st == nil {
		off = true
	}
	path := filepath.Join(dir, "memory.json")
	var rc recalled
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &rc) == nil {
		return &rc
	}
	rc.Off = off
	if !off {
		fp, err := t.Fingerprint()
		if err != nil {
			fmt.Fprintf(r.opts.Err, "mlrc: warning: research memory off for this run: %v\n", err)
			rc.Off = true
		} else {
			rc.Fingerprint = fp
			if rc.Lines, err = memory.Recall(ctx, st, t.Name, fp); err != nil {
				fmt.Fprintf(r.opts.Err, "mlrc: warning: research memory not read: %v\n", err)
			}
		}
	}
	if len(rc.Lines) > 0 {
		fmt.Fprintf(r.out, "memory: %d earlier result(s) on this task and data are given to the models (--no-memory to leave them out)\n", len(rc.Lines))
	}
	b, _ := json.MarshalIndent(rc, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fmt.Fprintf(r.opts.Err, "mlrc: warning: %v\n", err)
	}
	return &rc
}

// remember adds what the run tried and how it scored to the research
// memory: a run that finished, or stopped after its experiment (stopped
// names the phase). A failure to remember is a warning, never the end of
// the run.
func (r *Run) remember(ctx context.Context, runID string, t *task.Task, rc *recalled, ideas *idea.Result, plan string,
	res *experiment.Result, v *validate.Verdict, stopped string) {
	st := r.opts.Runs
	if rc == nil || rc.Off || res == nil || st == nil {
		return
	}
	title := "plan: " + firstLine(plan)
	if ideas != nil && len(ideas.Ideas) > 0 {
		title = ideas.Ideas[0].Title
	}
	o := memory.Outcome{Task: t.Name, Fingerprint: rc.Fingerprint, RunID: runID, Idea: title, Diff: res.Diff,
		Metric: res.Metric, Goal: string(res.Goal), Baseline: res.Baseline, Verdict: v, Stopped: stopped}
	if res.Best != nil {
		o.Best = res.Best.Metric
	}
	if err := st.Remember(context.WithoutCancel(ctx), memory.Entry(o, r.opts.Redact)); err != nil {
		fmt.Fprintf(r.opts.Err, "mlrc: warning: research memory: %v\n", err)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "#"))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return ClipLine(s, 120)
}

// rememberTrials adds the ideas a run tried besides the one it validated
// (--n-experiments): each with its experiment's numbers, not validated.
func (r *Run) rememberTrials(ctx context.Context, t *task.Task, rc *recalled, ts []trial, validated *experiment.Result) {
	for _, tr := range ts {
		if tr.Result == nil || tr.Result == validated {
			continue
		}
		one := &idea.Result{Ideas: []idea.Idea{{Title: tr.Title}}}
		r.remember(ctx, tr.RunID, t, rc, one, "", tr.Result, nil, "")
	}
}
