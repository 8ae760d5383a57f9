package validate

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// TestDecide checks the verdict's orientation and reasons without re-runs.
func TestDecide(t *testing.T) {
	passed := []Check{{Name: CheckTask, Passed: true}, {Name: CheckReruns, Passed: true}}
	tests := []struct {
		name        string
		goal        task.Goal
		base, best  []float64
		c           Criterion
		checks      []Check
		success     bool
		improvement float64
		summary     string // prefix
	}{
		// Seeds that do not vary cannot make a difference significant: the
		// permutation test over 3 + 3 seeds gives at best p = 0.1.
		{"maximize, exact, no bootstrap", task.Maximize, []float64{0.96, 0.96, 0.96}, []float64{0.98, 0.98, 0.98}, Criterion{}, passed, false, 0.02,
			"not a success: the improvement of 0.02 in accuracy is not significant (exact permutation test over the seeds, p = 0.1, α = 0.05)"},
		{"minimize, lower is better", task.Minimize, []float64{20000, 20100, 19900}, []float64{18000, 18050, 17950}, Criterion{}, passed, true, 2000, "success: "},
		{"minimize, higher is worse", task.Minimize, []float64{18000, 18050, 17950}, []float64{20000, 20100, 19900}, Criterion{}, passed, false, -2000, "not a success: the best solution is not better"},
		{"not significant", task.Maximize, []float64{0.95, 0.97, 0.96}, []float64{0.96, 0.98, 0.955}, Criterion{}, passed, false, 0.005, "not a success: the improvement of 0.005 in accuracy is not significant"},
		{"below 10% of the error", task.Maximize, []float64{0.50, 0.51}, []float64{0.52, 0.53}, Criterion{MinRelative: 0.10}, passed, false, 0.02, "not a success: the relative improvement 4.04% (of the baseline error (1 − metric)) is below the required 10.00%"},
		{"one seed", task.Maximize, []float64{0.96}, []float64{0.98}, Criterion{}, passed, false, 0.02, "not a success: the improvement of 0.02 in accuracy is not significant (exact permutation test over the seeds, p = 1, α = 0.05): fewer than two"},
		{"a check failed", task.Maximize, []float64{0.96, 0.96}, []float64{0.98, 0.98}, Criterion{},
			[]Check{{Name: CheckTask, Detail: "hash changed"}, {Name: CheckReruns, Passed: true}}, false, 0.02, "not a success: check 'task and evaluator unchanged' failed: hash changed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verdict{Metric: "accuracy", Goal: tt.goal, Baseline: newArm("baseline", reruns(tt.base)), Best: newArm("best", reruns(tt.best)),
				Checks: tt.checks, Criterion: tt.c.withDefaults()}
			v.compare()
			v.decide()
			if v.Success != tt.success || !near(v.Improvement, tt.improvement, 1e-9) || !strings.HasPrefix(v.Summary, tt.summary) {
				t.Errorf("success %v, improvement %v, summary %q; want %v, %v, %q…", v.Success, v.Improvement, v.Summary, tt.success, tt.improvement, tt.summary)
			}
		})
	}
}

func reruns(values []float64) []*rerun {
	var out []*rerun
	for i, v := range values {
		out = append(out, &rerun{seed: i, value: v})
	}
	return out
}

type noRunner struct{}

func (noRunner) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	return nil, errors.New("not used")
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	base := Config{Task: &task.Task{}, Sandbox: noRunner{}, Prototype: dir, Best: dir}
	tests := []struct {
		name  string
		edit  func(*Config)
		seeds []int
		err   string
	}{
		{"defaults", func(*Config) {}, []int{0, 1, 2}, ""},
		{"reported seed added", func(c *Config) { c.Seeds, c.ReportedSeed = []int{1, 2}, 7 }, []int{7, 1, 2}, ""},
		{"seed twice", func(c *Config) { c.Seeds = []int{0, 0} }, nil, "seed 0 is listed twice"},
		{"no best", func(c *Config) { c.Best = dir + "/missing" }, nil, "the best workspace"},
		{"bad alpha", func(c *Config) { c.Criterion.Alpha = 2 }, nil, "alpha"},
		{"no sandbox", func(c *Config) { c.Sandbox = nil }, nil, "no sandbox"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.edit(&cfg)
			v, err := newValidator(cfg)
			switch {
			case tt.err != "":
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("error %v, want %q", err, tt.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(v.seeds, tt.seeds) || v.cfg.Criterion.Alpha != DefaultAlpha || v.cfg.Tolerance != DefaultTolerance:
				t.Errorf("seeds %v, alpha %v, tolerance %v", v.seeds, v.cfg.Criterion.Alpha, v.cfg.Tolerance)
			}
		})
	}
}
