package research

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/snapshot"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/validate"
)

// Validation re-runs the prototype and the best solution over the seeds
// and decides. A finished validation (verdict.json) is read back.
func (r *Run) Validation(ctx context.Context, p *Params, res *experiment.Result, taskHash string) (*validate.Verdict, error) {
	_, before := os.Stat(filepath.Join(r.Dir, "verdict.json"))
	end := r.beginPhase(ctx, "validation")
	v, err := r.validation(ctx, p, res, taskHash)
	end(err)
	if err == nil && before != nil { // a verdict read back was announced when it was made
		r.emit(ctx, Verdict{v})
	}
	return v, err
}

func (r *Run) validation(ctx context.Context, p *Params, res *experiment.Result, taskHash string) (*validate.Verdict, error) {
	s := r.opts.Store
	path := filepath.Join(s.Dir, "verdict.json")
	if b, err := os.ReadFile(path); err == nil {
		var v validate.Verdict
		if err := json.Unmarshal(b, &v); err == nil {
			fmt.Fprintf(r.out, "already validated\n")
			return &v, nil
		}
	}
	if err := s.BeginPhase(ctx, "validation"); err != nil {
		return nil, err
	}
	v, err := r.validate(ctx, p, res, taskHash)
	status := store.StatusDone
	if err != nil {
		status = store.StatusFailed
	}
	if perr := s.EndPhase(context.WithoutCancel(ctx), "validation", status); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	if err := s.AddArtifact(ctx, "verdict.json", "verdict.json", "verdict"); err != nil {
		return nil, err
	}
	return v, nil
}

func (r *Run) validate(ctx context.Context, p *Params, res *experiment.Result, taskHash string) (*validate.Verdict, error) {
	s := r.opts.Store
	step, err := s.BeginStep(ctx, "validation", "validate", map[string]any{"seeds": p.Seeds})
	if err != nil {
		return nil, err
	}
	r.emit(ctx, StepStarted{Phase: "validation", Step: 1, Name: "validate"})
	end := func(v *validate.Verdict, err error) (*validate.Verdict, error) {
		status, _ := EndStatus(err)
		defer r.emit(ctx, StepEnded{Phase: "validation", Step: 1, Name: "validate", Status: status})
		if err != nil {
			step.End(context.WithoutCancel(ctx), store.StatusFailed, map[string]string{"error": err.Error()})
			return nil, err
		}
		return v, step.End(ctx, store.StatusDone, v)
	}
	t := r.opts.Task
	if res.Best == nil {
		fmt.Fprintf(r.out, "no experiment run beat the baseline: nothing to validate\n")
		return end(&validate.Verdict{Success: false, Metric: t.Metric.Name, Goal: t.Metric.Goal,
			Summary:   "not a success: no experiment run beat the baseline, so there is no solution to validate",
			Criterion: validate.Criterion{MinRelative: p.MinRelative, Alpha: validate.DefaultAlpha}}, nil)
	}
	rec, err := experiment.Read(ctx, s)
	if err != nil || rec.Baseline == nil {
		return end(nil, fmt.Errorf("validation: the experiment's baseline is not recorded: %v", err))
	}
	// The prototype as it was right after setup, from the snapshot the
	// agent could not reach.
	dir := filepath.Join(s.Dir, "validation")
	proto := filepath.Join(dir, "prototype")
	os.RemoveAll(proto)
	snaps, err := snapshot.Open(ctx, filepath.Join(s.Dir, "snapshots.git"), filepath.Join(s.Dir, "workspace"))
	if err != nil {
		return end(nil, err)
	}
	if err := snaps.Export(ctx, rec.Baseline.Snapshot, proto); err != nil {
		return end(nil, err)
	}
	hashes, err := validate.HashProtected(proto, t.Protected)
	if err != nil {
		return end(nil, err)
	}
	cfg := validate.Config{
		Task: t, Sandbox: r.opts.Sandbox, Python: r.opts.Python, Seeds: p.Seeds,
		Prototype: proto, Best: res.BestDir, WorkDir: dir, Reference: rec.ReferenceLabel(),
		Reported: res.Best.Metric, ReportedSeed: FirstSeed(p.Seeds), Tolerance: tolerance(p.Tolerance),
		Criterion: validate.Criterion{MinRelative: p.MinRelative},
		TaskHash:  taskHash, ProtectedHashes: hashes, Log: r.opts.Log,
		Progress: func(msg string) { fmt.Fprintf(r.out, "  %s\n", msg) },
	}
	v, err := validate.Run(ctx, cfg)
	if err == nil {
		tm := v.Timing
		fmt.Fprintf(r.out, "  validation wall %.1f s for %.1f s of prepares and re-runs on %d cores (%d at a time): wall ÷ (work ÷ cores) = %.2f\n",
			tm.WallSeconds, tm.WorkSeconds, tm.Cores, tm.Workers, tm.Ratio())
	}
	return end(v, err)
}

// tolerance is the run's tolerance; nil means the default.
func tolerance(t *validate.Tolerance) validate.Tolerance {
	if t == nil {
		return validate.DefaultTolerance
	}
	return *t
}

// VerdictLine is the verdict in one line for the terminal.
func VerdictLine(v *validate.Verdict) string {
	if v == nil {
		return "not validated"
	}
	mark := "NOT A SUCCESS"
	if v.Success {
		mark = "SUCCESS"
	}
	return fmt.Sprintf("verdict: %s — %s", mark, v.Summary)
}
