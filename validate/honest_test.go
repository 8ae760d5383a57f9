package validate

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/task"
)

// TestReproducesWithinTolerance: the case of the issue, liblinear's 1e-5
// jitter at the same seed, passes; a made-up value fails with the numbers.
func TestReproducesWithinTolerance(t *testing.T) {
	best := newArm("best", reruns([]float64{0.259915, 0.259921, 0.259930}))
	for _, tt := range []struct {
		reported float64
		pass     bool
	}{{0.259925, true}, {0.259915, true}, {0.30, false}, {0.2590, false}} {
		c := checkReproduces(&tt.reported, best, 0, DefaultTolerance)
		if c.Passed != tt.pass {
			t.Errorf("reported %v: passed %v, want %v: %s", tt.reported, c.Passed, tt.pass, c.Detail)
		}
		if !tt.pass && !strings.Contains(c.Detail, fmt.Sprintf("reported %.6g", tt.reported)) || !strings.Contains(c.Detail, "0.259915 to 0.25993") {
			t.Errorf("detail %q: want the reported value and the re-runs' range", c.Detail)
		}
	}
	exact := newArm("best", reruns([]float64{0.5, 0.5}))
	r := 0.5 + 1e-3
	if c := checkReproduces(&r, exact, 0, DefaultTolerance); c.Passed {
		t.Errorf("0.501 against 0.5 exactly passed: %s", c.Detail)
	}
}

// writeExamples writes per-example output: n examples, those in
// [0, correct) right, and the ones at or after from wrong.
func writeExamples(t *testing.T, n, correct int) string {
	return writeExamplesFrom(t, n, correct, n)
}

func writeExamplesFrom(t *testing.T, n, correct, from int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,label,prediction\n")
	for i := range n {
		pred := i % 10
		if i >= correct || i >= from && i < 520 {
			pred = (i + 1) % 10
		}
		fmt.Fprintf(&b, "%d,%d,%d\n", i, i%10, pred)
	}
	p := filepath.Join(t.TempDir(), "examples.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPairedBootstrap: 6 more right out of 540 (10 gained, 4 lost) is not significant; 60
// more is; a per-example file that does not give the evaluator's metric
// gives no p.
func TestPairedBootstrap(t *testing.T) {
	base := writeExamples(t, 540, 520)
	// 10 more right, 4 fewer: discordant both ways, as real models are.
	small := writeExamplesFrom(t, 540, 530, 516)
	large := writeExamples(t, 540, 540)
	b := pairedBootstrap("accuracy", task.Maximize, 0, base, small, 520.0/540, 526.0/540)
	if b.P == nil || !(*b.P > 0.05) || b.Examples != 540 {
		t.Errorf("6 more right: %+v, want p > 0.05 over 540 examples", b)
	}
	b = pairedBootstrap("accuracy", task.Maximize, 0, base, large, 520.0/540, 1)
	if b.P == nil || !(*b.P < 0.01) || !(b.CILow > 0) {
		t.Errorf("20 more right: %+v, want p < 0.01 and an interval above 0", b)
	}
	b = pairedBootstrap("accuracy", task.Maximize, 0, base, large, 0.5, 1)
	if b.P != nil || !strings.Contains(b.Note, "does not match") {
		t.Errorf("mismatch: %+v, want no p and a note", b)
	}
	b = pairedBootstrap("smape", task.Minimize, 0, base, large, 520.0/540, 1)
	if b.P != nil || !strings.Contains(b.Note, "cannot compute") {
		t.Errorf("unknown metric: %+v", b)
	}
}

// TestDeterministicVerdictUsesBootstrap: without seed variation the
// bootstrap decides, and its p is the verdict's.
func TestDeterministicVerdictUsesBootstrap(t *testing.T) {
	passed := []Check{{Name: CheckTask, Passed: true}}
	p := 0.15
	v := &Verdict{Metric: "accuracy", Goal: task.Maximize, Baseline: newArm("baseline", reruns([]float64{0.963, 0.963, 0.963})),
		Best: newArm("best", reruns([]float64{0.974, 0.974, 0.974})), Checks: passed, Criterion: Criterion{}.withDefaults(),
		Bootstrap: &Bootstrap{Name: "paired bootstrap over 540 held-out examples", P: &p}}
	v.compare()
	v.decide()
	if v.Success || v.P != p || !strings.Contains(v.Summary, "paired bootstrap over 540 held-out examples, p = 0.15") {
		t.Errorf("success %v, p %v, summary %q", v.Success, v.P, v.Summary)
	}
	if v.Test.EffectSize != nil {
		t.Errorf("effect size %v, want undefined", *v.Test.EffectSize)
	}
}

// TestZeroBaseline: an F1 of 0 rising to 0.7755 is +77.55% of the error,
// meets a 10% criterion, and the summary says so.
func TestZeroBaseline(t *testing.T) {
	passed := []Check{{Name: CheckTask, Passed: true}}
	v := &Verdict{Metric: "f1", Goal: task.Maximize, Baseline: newArm("baseline", reruns([]float64{0, 0, 0})),
		Best: newArm("best", reruns([]float64{0.77, 0.78, 0.7765})), Checks: passed, Criterion: Criterion{MinRelative: 0.10}.withDefaults()}
	v.compare()
	v.decide()
	if v.RelativeImprovement == nil || !near(*v.RelativeImprovement, 0.7755, 1e-9) || v.RelativeTo != RelativeToError {
		t.Fatalf("relative %v to %q, want 0.7755 of the error", v.RelativeImprovement, v.RelativeTo)
	}
	if !v.Success || !strings.Contains(v.Summary, "an improvement of 0.7755 (+77.55% of the baseline error") {
		t.Errorf("success %v, summary %q", v.Success, v.Summary)
	}
	if _, _, ok := RelativeChange("loss", task.Minimize, 1, 0); ok {
		t.Error("relative change over a zero baseline of an unbounded metric: defined, want undefined")
	}
}

// TestParseTolerance: the flag's forms, and values out of bounds rejected
// with a message naming the bound.
func TestParseTolerance(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Tolerance
		err  string
	}{
		{"1e-3", Tolerance{Relative: 1e-3, Absolute: DefaultTolerance.Absolute, SDs: DefaultTolerance.SDs}, ""},
		{"relative=0.01, sds=3", Tolerance{Relative: 0.01, Absolute: DefaultTolerance.Absolute, SDs: 3}, ""},
		{"abs=0.5", Tolerance{Relative: DefaultTolerance.Relative, Absolute: 0.5, SDs: DefaultTolerance.SDs}, ""},
		{DefaultTolerance.String(), DefaultTolerance, ""},
		{"0.5", Tolerance{}, "tolerance relative 0.5 is out of bounds: want from 0 to 0.05"},
		{"sds=6", Tolerance{}, "tolerance sds 6 is out of bounds: want from 0 to 5"},
		{"-1e-4", Tolerance{}, "tolerance relative -0.0001 is out of bounds"},
		{"absolute=inf", Tolerance{}, "tolerance absolute +Inf is out of bounds: want 0 or more"},
		{"relative=NaN", Tolerance{}, "tolerance relative NaN is out of bounds"},
		{"slack=1", Tolerance{}, `unknown key "slack"`},
		{"relative", Tolerance{}, "is not key=number"},
		{"relative=0,absolute=0,sds=0", Tolerance{}, "all zero"},
		{"", Tolerance{}, "empty"},
	} {
		got, err := ParseTolerance(tt.in)
		switch {
		case tt.err == "" && (err != nil || got != tt.want):
			t.Errorf("ParseTolerance(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("ParseTolerance(%q): error %v, want one with %q", tt.in, err, tt.err)
		}
	}
}
