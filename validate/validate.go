package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// DefaultSeeds are the seeds of the re-runs when Config.Seeds is empty.
var DefaultSeeds = []int{0, 1, 2}

// Tolerances of the reported metric's reproduction: relative, with an
// absolute floor for metrics near zero.
const (
	DefaultTolerance = 1e-6
	absTolerance     = 1e-9
)

// Config is one validation.
type Config struct {
	Task    *task.Task
	Sandbox sandbox.Runner
	Python  string
	// Seeds of the re-runs; empty means DefaultSeeds. ReportedSeed is
	// added when it is missing.
	Seeds []int
	// Prototype is a host directory holding the untouched prototype
	// workspace (the run's "prototype" snapshot, exported); Best holds the
	// best solution's workspace (the run's best/). Neither is modified.
	Prototype, Best string
	// WorkDir is where each re-run gets its fresh layout,
	// WorkDir/<arm>-<seed>/{workspace,private}; those directories are
	// replaced. Empty means a temporary directory, removed afterwards.
	WorkDir string
	// Reported is the metric the agent's run reported for Best
	// (RunRecord.Metric), at ReportedSeed (the run's Options.Seed).
	Reported     *float64
	ReportedSeed int
	// Tolerance is the relative difference allowed between Reported and
	// its re-run; 0 means DefaultTolerance.
	Tolerance float64
	Criterion Criterion
	// TaskHash is task.Hash() at the start of the run.
	TaskHash string
	// ProtectedHashes are the protected files at the start of the run
	// (HashProtected on the fresh workspace). Nil means: take them from
	// Prototype, and say so in the check.
	ProtectedHashes map[string]string
	Log             *slog.Logger
	// Progress hears of each re-run; optional.
	Progress func(string)
}

// Arm is one side of the comparison: its values by seed, for the re-runs
// that the evaluator scored, and why the others failed.
type Arm struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
	Seeds  []int     `json:"seeds"`
	// Mean, sample standard deviation and the Level confidence interval
	// of the mean (Student t); all 0 without values.
	Mean   float64  `json:"mean"`
	SD     float64  `json:"sd"`
	CILow  float64  `json:"ci_low"`
	CIHigh float64  `json:"ci_high"`
	Errors []string `json:"errors,omitempty"`
}

// Verdict is the outcome of a validation.
type Verdict struct {
	Success bool `json:"success"`
	// Summary says in one sentence why it is or is not a success.
	Summary  string    `json:"summary"`
	Metric   string    `json:"metric"`
	Goal     task.Goal `json:"goal"`
	Baseline Arm       `json:"baseline"`
	Best     Arm       `json:"best"`
	// Test compares the arms oriented by the goal: Diff is Improvement.
	Test Test `json:"test"`
	// Improvement is the difference of the means in the goal's direction
	// (best − baseline to maximize, baseline − best to minimize);
	// RelativeImprovement is that over |baseline mean| (0 when undefined).
	Improvement         float64   `json:"improvement"`
	RelativeImprovement float64   `json:"relative_improvement"`
	Checks              []Check   `json:"checks"`
	Criterion           Criterion `json:"criterion"`
}

// Check returns the check called name, or nil.
func (v *Verdict) Check(name string) *Check {
	for i := range v.Checks {
		if v.Checks[i].Name == name {
			return &v.Checks[i]
		}
	}
	return nil
}

// Failed returns the checks that failed.
func (v *Verdict) Failed() []Check {
	var out []Check
	for _, c := range v.Checks {
		if !c.Passed {
			out = append(out, c)
		}
	}
	return out
}

// validator is one Run.
type validator struct {
	cfg     Config
	seeds   []int
	workDir string
	held    heldOut
	log     *slog.Logger
}

func newValidator(cfg Config) (*validator, error) {
	switch {
	case cfg.Task == nil:
		return nil, errors.New("validate: no task")
	case cfg.Sandbox == nil:
		return nil, errors.New("validate: no sandbox")
	case cfg.Tolerance < 0:
		return nil, fmt.Errorf("validate: tolerance %v: want 0 or more", cfg.Tolerance)
	}
	for _, d := range []struct{ name, dir string }{{"prototype", cfg.Prototype}, {"best", cfg.Best}} {
		if st, err := os.Stat(d.dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("validate: the %s workspace %q is not a directory: export it from the run (the prototype snapshot, best/)", d.name, d.dir)
		}
	}
	cfg.Criterion = cfg.Criterion.withDefaults()
	if err := cfg.Criterion.validate(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	if cfg.Tolerance == 0 {
		cfg.Tolerance = DefaultTolerance
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	seeds := slices.Clone(cfg.Seeds)
	if len(seeds) == 0 {
		seeds = slices.Clone(DefaultSeeds)
	}
	if !slices.Contains(seeds, cfg.ReportedSeed) {
		seeds = append([]int{cfg.ReportedSeed}, seeds...)
	}
	for i, s := range seeds {
		if slices.Contains(seeds[:i], s) {
			return nil, fmt.Errorf("validate: seed %d is listed twice", s)
		}
	}
	return &validator{cfg: cfg, seeds: seeds, workDir: cfg.WorkDir, log: cfg.Log.With("subsystem", "validate")}, nil
}

// Run re-runs the baseline (cfg.Prototype) and the best solution
// (cfg.Best) once per seed, each in a fresh layout, compares them and runs
// the integrity checks. Failed re-runs are in the arms' Errors and fail the
// verdict; an error means validation itself could not be done.
func Run(ctx context.Context, cfg Config) (*Verdict, error) {
	v, err := newValidator(cfg)
	if err != nil {
		return nil, err
	}
	cfg = v.cfg
	if v.workDir == "" {
		if v.workDir, err = os.MkdirTemp("", "mlrc-validate-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(v.workDir)
	} else if err := os.MkdirAll(v.workDir, 0o755); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}

	checks := []Check{checkTask(cfg.Task, cfg.TaskHash)}
	want, from := cfg.ProtectedHashes, "their hashes at the start of the run"
	if want == nil {
		if want, err = HashProtected(cfg.Prototype, cfg.Task.Protected); err != nil {
			return nil, fmt.Errorf("validate: %w", err)
		}
		from = "the prototype's (no hashes from the start of the run were given)"
	}
	checks = append(checks, checkProtected(cfg.Best, cfg.Task.Protected, want, from))

	var reruns []*rerun
	arms := map[string]Arm{}
	total := 2 * len(v.seeds)
	for _, a := range []struct{ name, dir string }{{"baseline", cfg.Prototype}, {"best", cfg.Best}} {
		var rs []*rerun
		for _, seed := range v.seeds {
			if cfg.Progress != nil {
				cfg.Progress(fmt.Sprintf("re-running the %s with seed %d (%d of %d)", a.name, seed, len(reruns)+1, total))
			}
			rr, err := v.rerunArm(ctx, a.name, a.dir, seed)
			if err != nil {
				return nil, err
			}
			if rr.err != "" {
				v.log.Warn("re-run failed", "arm", a.name, "seed", seed, "error", rr.err)
			}
			rs = append(rs, rr)
		}
		reruns = append(reruns, rs...)
		arms[a.name] = newArm(a.name, rs)
	}
	base, best := arms["baseline"], arms["best"]

	bestLeaks, err := v.held.leaks(cfg.Best, nil)
	if err != nil {
		return nil, fmt.Errorf("validate: search the best workspace for held-out data: %w", err)
	}
	checks = append(checks,
		checkHeldOut(reruns, bestLeaks),
		checkEvaluator(best, v.seeds),
		checkReproduces(cfg.Reported, best, cfg.ReportedSeed, cfg.Tolerance),
		checkReruns(base, best))

	verdict := &Verdict{Metric: cfg.Task.Metric.Name, Goal: cfg.Task.Metric.Goal, Baseline: base, Best: best,
		Checks: checks, Criterion: cfg.Criterion}
	verdict.compare()
	verdict.decide()
	v.log.Info("verdict", "success", verdict.Success, "summary", verdict.Summary)
	return verdict, nil
}

// newArm summarizes an arm's re-runs.
func newArm(name string, rs []*rerun) Arm {
	a := Arm{Name: name, Values: []float64{}, Seeds: []int{}}
	for _, rr := range rs {
		if rr.err != "" {
			a.Errors = append(a.Errors, fmt.Sprintf("seed %d: %s", rr.seed, rr.err))
			continue
		}
		a.Values = append(a.Values, rr.value)
		a.Seeds = append(a.Seeds, rr.seed)
	}
	if len(a.Values) > 0 {
		a.Mean, a.CILow, a.CIHigh = MeanCI(a.Values, Level)
		_, a.SD = meanSD(a.Values)
	}
	return a
}

// compare runs the test oriented by the goal.
func (v *Verdict) compare() {
	better, worse := v.Best.Values, v.Baseline.Values
	if v.Goal == task.Minimize {
		better, worse = worse, better
	}
	v.Test = Welch(better, worse)
	v.Improvement = v.Test.Diff
	v.RelativeImprovement, _ = Relative(v.Improvement, v.Baseline.Mean)
}

// decide sets Success and Summary.
func (v *Verdict) decide() {
	if failed := v.Failed(); len(failed) > 0 {
		if len(failed) == 1 {
			v.Summary = fmt.Sprintf("not a success: check '%s' failed: %s", failed[0].Name, clip(failed[0].Detail, 300))
			return
		}
		names := make([]string, len(failed))
		for i, c := range failed {
			names[i] = "'" + c.Name + "'"
		}
		v.Summary = fmt.Sprintf("not a success: checks %s failed", joinAnd(names))
		return
	}
	if ok, why := v.Criterion.Met(v.Improvement, v.Baseline.Mean); !ok {
		v.Summary = "not a success: " + why
		return
	}
	if v.Test.P >= v.Criterion.Alpha {
		v.Summary = fmt.Sprintf("not a success: the improvement of %.4g in %s is not significant (p = %.3g, α = %g)", v.Improvement, v.Metric, v.Test.P, v.Criterion.Alpha)
		if v.Test.Note != "" {
			v.Summary += ": " + v.Test.Note
		}
		return
	}
	p := fmt.Sprintf("p = %.3g", v.Test.P)
	if v.Test.Note == NoteExact {
		p = "exact (no variation across seeds)"
	}
	v.Success = true
	v.Summary = fmt.Sprintf("success: %s went from %.6g to %.6g, an improvement of %.4g (%.2f%%) over %d seeds, %s, and every integrity check passed",
		v.Metric, v.Baseline.Mean, v.Best.Mean, v.Improvement, 100*v.RelativeImprovement, len(v.Best.Values), p)
}
