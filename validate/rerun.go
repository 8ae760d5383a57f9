package validate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// rerun is one re-run of an arm at a seed.
type rerun struct {
	arm    string
	seed   int
	layout task.Layout
	// value is the evaluator's metric when err is empty.
	value float64
	err   string
	// specs are the sandbox specs of the experiment (the run command);
	// isolation is what the sandbox said it was.
	specs     []sandbox.Spec
	isolation string
	// leaks are files of the workspace after the run that copy or link to
	// held-out data; the re-run is then not evaluated.
	leaks []string
	// perExample is the evaluator's per-example output, when it wrote one.
	perExample string
	seconds    float64
	// where is where the experiment ran.
	where sandbox.Placement
}

// spy records the specs it runs.
type spy struct {
	r     sandbox.Runner
	mu    sync.Mutex
	specs []sandbox.Spec
}

func (s *spy) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	s.mu.Lock()
	s.specs = append(s.specs, spec)
	s.mu.Unlock()
	return s.r.Run(ctx, spec)
}

// rerunArm re-runs the arm whose code is in src at p's seed, in a fresh
// layout under the work directory: a copy of the seed's prepared layout,
// the arm's code over the workspace (protected paths from the task), the
// run command, a search for held-out data in the workspace, the evaluator
// (asked for its per-example output). What the experiment or the task does
// wrong is in the result's err; an error is an infrastructure failure.
// allPrepared waits for every seed's prepare, whose held-out files the
// search looks for.
func (v *validator) rerunArm(ctx context.Context, arm, src string, p *prepared, allPrepared func()) (*rerun, error) {
	t := v.cfg.Task
	seed := p.seed
	dir := filepath.Join(v.workDir, fmt.Sprintf("%s-%d", arm, seed))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	rr := &rerun{arm: arm, seed: seed, layout: task.Layout{Workspace: filepath.Join(dir, "workspace"), Private: filepath.Join(dir, "private")}}
	opt := task.Options{Python: v.cfg.Python, Seed: seed}
	start := time.Now()
	defer func() { rr.seconds = time.Since(start).Seconds() }()
	stepFailed := func(err error) (*rerun, error) {
		if !isStepError(err) {
			return nil, err
		}
		rr.err = clip(err.Error(), 1500)
		return rr, nil
	}

	if p.failed != "" {
		rr.err = p.failed
		return rr, nil
	}
	if err := task.CopyDir(rr.layout.Workspace, p.layout.Workspace); err != nil {
		return nil, fmt.Errorf("validate: copy the prepared workspace of seed %d: %w", seed, err)
	}
	if err := task.CopyDir(rr.layout.Private, p.layout.Private); err != nil {
		return nil, fmt.Errorf("validate: copy the prepared private directory of seed %d: %w", seed, err)
	}
	if err := overlay(rr.layout.Workspace, src, t.Protected, evaluatorInputs(t.Commands.Evaluate, t.Protected)); err != nil {
		return nil, fmt.Errorf("validate: %s at seed %d: %w", arm, seed, err)
	}
	s := &spy{r: v.cfg.Sandbox}
	res, err := t.Run(ctx, s, rr.layout, opt)
	rr.specs = s.specs
	if err != nil {
		return nil, fmt.Errorf("validate: run %s at seed %d: %w", arm, seed, err)
	}
	rr.isolation = res.Isolation
	rr.where = res.Placement
	if !res.OK() {
		return stepFailed(&task.StepError{Step: "run", Reason: "the experiment " + failure(res), Result: res})
	}
	allPrepared()
	if rr.leaks, err = v.held.leaks(rr.layout.Workspace, v.offLimits(rr.layout)); err != nil {
		return nil, fmt.Errorf("validate: search %s for held-out data: %w", rr.layout.Workspace, err)
	}
	if len(rr.leaks) > 0 {
		rr.err = "not evaluated: the workspace holds held-out data: " + joinAnd(rr.leaks)
		return rr, nil
	}
	// The evaluator may write its per-example output here, and nothing
	// the experiment could reach.
	perExample := filepath.Join(dir, "per-example")
	if err := os.Mkdir(perExample, 0o755); err != nil {
		return nil, err
	}
	opt.PerExample = filepath.Join(perExample, perExampleFile)
	score, err := t.Evaluate(ctx, v.cfg.Sandbox, rr.layout, opt)
	if err != nil {
		return stepFailed(err)
	}
	rr.value = score.Value
	if st, err := os.Lstat(opt.PerExample); err == nil && st.Mode().IsRegular() {
		rr.perExample = opt.PerExample
	}
	v.log.Info("re-run", "arm", arm, "seed", seed, "metric", score.Value, "seconds", time.Since(start).Seconds())
	return rr, nil
}

func isStepError(err error) bool {
	var se *task.StepError
	return errors.As(err, &se)
}

// offLimits are the directories a workspace must not link into: what the
// evaluator can read beyond the workspace.
func (v *validator) offLimits(l task.Layout) []string {
	t := v.cfg.Task
	dirs := []string{l.Private, t.Dir}
	for _, p := range t.Data {
		dirs = append(dirs, p)
	}
	dirs = append(dirs, t.Hide...)
	var out []string
	for _, d := range dirs {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			d = r
		}
		if !within(d, l.Workspace) {
			out = append(out, d)
		}
	}
	return out
}

// failure says why a finished command did not succeed.
func failure(r *sandbox.Result) string {
	switch {
	case r.TimedOut:
		return fmt.Sprintf("timed out after %s", r.Duration.Round(100*time.Millisecond))
	case r.OOM:
		return "ran out of memory"
	case r.Signal != "":
		return "was killed by signal " + r.Signal
	}
	return fmt.Sprintf("exited with code %d", r.ExitCode)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
