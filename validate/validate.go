package validate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// DefaultSeeds are the seeds of the re-runs when Config.Seeds is empty.
var DefaultSeeds = []int{0, 1, 2}

// Tolerance is how far the metric the agent's run reported may lie from
// the re-runs of the best solution: outside the range of their values by at
// most max(Absolute, Relative × |reported|) + SDs × their standard
// deviation. Training that is not bit-for-bit reproducible (liblinear,
// gradient boosting, threads) moves a metric slightly at the same seed; a
// made-up metric lies far outside.
type Tolerance struct {
	Relative float64 `json:"relative"`
	Absolute float64 `json:"absolute"`
	SDs      float64 `json:"sds"`
}

// DefaultTolerance is used when Config.Tolerance is zero.
var DefaultTolerance = Tolerance{Relative: 1e-4, Absolute: 1e-6, SDs: 2}

// The bounds of a Tolerance: beyond them the check that the reported
// metric reproduces would pass a made-up value.
const (
	MaxRelativeTolerance = 0.05
	MaxSDsTolerance      = 5
)

func (t Tolerance) validate() error {
	for _, f := range []struct {
		name string
		v    float64
		max  float64
		why  string
	}{
		{"relative", t.Relative, MaxRelativeTolerance, "a fraction of the reported value, e.g. 1e-4"},
		{"absolute", t.Absolute, math.Inf(1), "in the metric's units, e.g. 1e-6"},
		{"sds", t.SDs, MaxSDsTolerance, "standard deviations of the re-runs, e.g. 2"},
	} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) || f.v > f.max {
			bound := "0 or more"
			if !math.IsInf(f.max, 0) {
				bound = fmt.Sprintf("from 0 to %g", f.max)
			}
			return fmt.Errorf("tolerance %s %v is out of bounds: want %s (%s)", f.name, f.v, bound, f.why)
		}
	}
	return nil
}

// ParseTolerance reads a tolerance as a flag gives it: a number (the
// relative tolerance, the others at their defaults) or comma-separated
// key=value pairs of relative, absolute and sds
// ("relative=1e-3,sds=3"), each missing one at its default. It checks the
// bounds.
func ParseTolerance(s string) (Tolerance, error) {
	t := DefaultTolerance
	s = strings.TrimSpace(s)
	if s == "" {
		return t, errors.New("tolerance: empty: want a relative tolerance such as 1e-4, or relative=R,absolute=A,sds=K")
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		t.Relative = v
		return t, t.validate()
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil {
			return t, fmt.Errorf("tolerance %q: %q is not key=number: want a relative tolerance such as 1e-4, or relative=R,absolute=A,sds=K", s, kv)
		}
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "relative", "rel":
			t.Relative = x
		case "absolute", "abs":
			t.Absolute = x
		case "sds", "sd":
			t.SDs = x
		default:
			return t, fmt.Errorf("tolerance %q: unknown key %q: want relative, absolute or sds", s, k)
		}
	}
	if t == (Tolerance{}) {
		return t, fmt.Errorf("tolerance %q: all zero is the zero Tolerance, which means the default (%s); for a strict check give a tiny one, e.g. absolute=1e-12,relative=0,sds=0", s, DefaultTolerance)
	}
	return t, t.validate()
}

// String is the tolerance as ParseTolerance reads it.
func (t Tolerance) String() string {
	return fmt.Sprintf("relative=%g,absolute=%g,sds=%g", t.Relative, t.Absolute, t.SDs)
}

// allowed is the distance from the re-runs' range a reported value may
// have.
func (t Tolerance) allowed(reported, sd float64) float64 {
	return math.Max(t.Absolute, t.Relative*math.Abs(reported)) + t.SDs*sd
}

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
	// With a Reference, Prototype holds that reference's code instead.
	Prototype, Best string
	// Reference, when set, says that the baseline arm is not the untouched
	// prototype but a reference run's code (e.g. "first working run, run
	// 1": the prototype is a template that gives no metric). The verdict
	// carries it and its summary says so.
	Reference string
	// WorkDir is where each re-run gets its fresh layout,
	// WorkDir/<arm>-<seed>/{workspace,private}; those directories are
	// replaced. Empty means a temporary directory, removed afterwards.
	WorkDir string
	// Reported is the metric the agent's run reported for Best
	// (RunRecord.Metric), at ReportedSeed (the run's Options.Seed).
	Reported     *float64
	ReportedSeed int
	// Tolerance says how far Reported may lie from the re-runs' values;
	// the zero Tolerance means DefaultTolerance.
	Tolerance Tolerance
	Criterion Criterion
	// Parallel is how many re-runs go at a time; 0 means one per core,
	// as many as the available memory holds at the task's memory limit.
	Parallel int
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
	Summary string    `json:"summary"`
	Metric  string    `json:"metric"`
	Goal    task.Goal `json:"goal"`
	// Baseline is the untouched prototype's arm or, when Reference is
	// set, the reference code's (reference = first working run, not a
	// baseline).
	Baseline  Arm    `json:"baseline"`
	Reference string `json:"reference,omitempty"`
	Best      Arm    `json:"best"`
	// Test compares the arms' values over the seeds, oriented by the goal:
	// Diff is Improvement. It holds the exact permutation p-value too.
	Test Test `json:"test"`
	// Bootstrap compares the arms' predictions over the held-out examples,
	// when the evaluator gave its per-example output; nil when no re-run
	// pair was there to compare.
	Bootstrap *Bootstrap `json:"bootstrap,omitempty"`
	// DecidedBy names the test whose p-value P decides significance:
	// Welch's t-test when the seeds vary; when they do not (or there is
	// one seed), the paired bootstrap, else the permutation test over the
	// seeds.
	DecidedBy string  `json:"decided_by"`
	P         float64 `json:"p"`
	// Improvement is the difference of the means in the goal's direction
	// (best − baseline to maximize, baseline − best to minimize).
	Improvement float64 `json:"improvement"`
	// RelativeImprovement is Improvement over what RelativeTo names: the
	// baseline's error (1 − metric) for a metric bounded by 1 to maximize
	// (accuracy, F1, AUC), else |baseline mean|. Nil when that is 0.
	RelativeImprovement *float64  `json:"relative_improvement,omitempty"`
	RelativeTo          string    `json:"relative_to,omitempty"`
	Checks              []Check   `json:"checks"`
	Criterion           Criterion `json:"criterion"`
	Timing              Timing    `json:"timing"`
	// Placements say where each re-run's experiment ran, with its wall
	// time (run and evaluation).
	Placements []Placed `json:"placements,omitempty"`
}

// Placed is where one re-run ran.
type Placed struct {
	Arm     string            `json:"arm"`
	Seed    int               `json:"seed"`
	Where   sandbox.Placement `json:"where"`
	Seconds float64           `json:"seconds"`
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
	timing  Timing
}

func newValidator(cfg Config) (*validator, error) {
	switch {
	case cfg.Task == nil:
		return nil, errors.New("validate: no task")
	case cfg.Sandbox == nil:
		return nil, errors.New("validate: no sandbox")
	}
	if err := cfg.Tolerance.validate(); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
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
	if cfg.Tolerance == (Tolerance{}) {
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

	start := time.Now()
	v.timing.Cores = runtime.NumCPU()
	byArm, err := v.runAll(ctx, []armSource{{"baseline", cfg.Prototype}, {"best", cfg.Best}})
	if err != nil {
		return nil, err
	}
	v.timing.WallSeconds = time.Since(start).Seconds()
	reruns := append(slices.Clone(byArm["baseline"]), byArm["best"]...)
	arms := map[string]Arm{"baseline": newArm("baseline", byArm["baseline"]), "best": newArm("best", byArm["best"])}
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

	verdict := &Verdict{Metric: cfg.Task.Metric.Name, Goal: cfg.Task.Metric.Goal, Baseline: base, Reference: cfg.Reference, Best: best,
		Checks: checks, Criterion: cfg.Criterion, Timing: v.timing}
	verdict.Bootstrap = v.bootstrap(byArm["baseline"], byArm["best"])
	for _, rr := range reruns {
		if rr != nil && rr.where.Executor != "" {
			verdict.Placements = append(verdict.Placements, Placed{Arm: rr.arm, Seed: rr.seed, Where: rr.where, Seconds: rr.seconds})
		}
	}
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

// bootstrap runs the paired bootstrap on the re-runs at the first seed
// where both arms have per-example output (the reported seed first), or
// says why there is none.
func (v *validator) bootstrap(base, best []*rerun) *Bootstrap {
	order := append([]int{v.cfg.ReportedSeed}, v.seeds...)
	for _, seed := range order {
		var b, w *rerun
		for i := range v.seeds {
			if v.seeds[i] == seed && base[i] != nil && best[i] != nil && base[i].err == "" && best[i].err == "" {
				b, w = base[i], best[i]
			}
		}
		if b == nil {
			continue
		}
		if b.perExample == "" || w.perExample == "" {
			return &Bootstrap{Name: "paired bootstrap over the held-out examples", Seed: seed,
				Note: "the task's evaluator gave no per-example output: make it write id,label,prediction[,score | ,p_<class>...] to the file named by " + task.EnvPerExample}
		}
		return pairedBootstrap(v.cfg.Task.Metric.Name, v.cfg.Task.Metric.Goal, seed, b.perExample, w.perExample, b.value, w.value)
	}
	return nil
}

// compare runs the tests oriented by the goal and picks the one that
// decides.
func (v *Verdict) compare() {
	better, worse := v.Best.Values, v.Baseline.Values
	if v.Goal == task.Minimize {
		better, worse = worse, better
	}
	v.Test = Welch(better, worse)
	v.Improvement = v.Test.Diff
	v.RelativeImprovement, v.RelativeTo = nil, ""
	if r, to, ok := RelativeChange(v.Metric, v.Goal, v.Improvement, v.Baseline.Mean); ok {
		v.RelativeImprovement, v.RelativeTo = &r, to
	}
	v.DecidedBy, v.P = v.Test.Name, v.Test.P
	if v.Test.Note == "" {
		return // the seeds vary: Welch's test
	}
	switch {
	case v.Bootstrap != nil && v.Bootstrap.P != nil:
		v.DecidedBy, v.P = v.Bootstrap.Name, *v.Bootstrap.P
	case v.Test.PermutationP != nil:
		v.DecidedBy, v.P = PermutationTest, *v.Test.PermutationP
	}
}

// PermutationTest is the name of the exact permutation test over the seeds.
const PermutationTest = "exact permutation test over the seeds"

// decide sets Success and Summary.
func (v *Verdict) decide() {
	defer v.labelReference()
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
	if ok, why := v.Criterion.Met(v.Improvement, v.RelativeImprovement, v.RelativeTo); !ok {
		v.Summary = "not a success: " + why
		return
	}
	if v.P >= v.Criterion.Alpha {
		v.Summary = fmt.Sprintf("not a success: the improvement of %.4g in %s is not significant (%s, p = %.3g, α = %g)", v.Improvement, v.Metric, v.DecidedBy, v.P, v.Criterion.Alpha)
		if v.Test.Note != "" {
			v.Summary += ": " + v.Test.Note
		}
		if v.Bootstrap != nil && v.Bootstrap.P == nil && v.Test.Note != "" {
			v.Summary += "; no bootstrap over the held-out examples: " + v.Bootstrap.Note
		}
		return
	}
	v.Success = true
	v.Summary = fmt.Sprintf("success: %s went from %.6g to %.6g, an improvement of %.4g (%s) over %d seeds, significant by the %s (p = %.3g), and every integrity check passed",
		v.Metric, v.Baseline.Mean, v.Best.Mean, v.Improvement, RelativeText(v.RelativeImprovement, v.RelativeTo), len(v.Best.Values), v.DecidedBy, v.P)
}

// labelReference says in the summary what the baseline arm was when it
// was not the untouched prototype.
func (v *Verdict) labelReference() {
	if v.Reference != "" {
		v.Summary += fmt.Sprintf(" (compared with the reference = %s, not a baseline)", v.Reference)
	}
}
