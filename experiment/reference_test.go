package experiment

import (
	"strings"
	"testing"

	"github.com/mlrc/mlrc/task"
)

// TestTrackerFirstRun: with no baseline, the first run that yields the
// metric becomes the reference and the baseline later runs are compared
// with; failed runs before it do not count.
func TestTrackerFirstRun(t *testing.T) {
	v := func(x float64) *float64 { return &x }
	tr := &Tracker{Goal: task.Maximize, Metric: "accuracy", FirstRun: true}
	if tr.hasReference() || !strings.Contains(tr.referenceText(), "no baseline") {
		t.Fatalf("before any run: has reference %v, %q", tr.hasReference(), tr.referenceText())
	}
	tr.Add(RunRecord{Run: 1, Error: "exit status 1"})
	if _, ok := tr.Reference(); ok {
		t.Fatal("a failed run became the reference")
	}
	tr.Add(RunRecord{Run: 2, OK: true, Metric: v(0.9)})
	tr.Add(RunRecord{Run: 3, OK: true, Metric: v(0.95)})
	ref, ok := tr.Reference()
	if !ok || ref.Run != 2 || !ref.Reference || tr.Baseline != 0.9 {
		t.Fatalf("reference %+v (%v), baseline %v; want run 2 at 0.9", ref, ok, tr.Baseline)
	}
	if best, _ := tr.Best(); best.Run != 3 || !better(tr.Goal, *best.Metric, tr.Baseline) {
		t.Errorf("best %+v", best)
	}
	if got := tr.referenceText(); !strings.Contains(got, "reference 0.9 from run 2, the first working run") {
		t.Errorf("reference text %q", got)
	}
	// With a baseline, nothing changes.
	tb := &Tracker{Goal: task.Maximize, Metric: "accuracy", Baseline: 0.8}
	tb.Add(RunRecord{Run: 1, OK: true, Metric: v(0.9)})
	if _, ok := tb.Reference(); ok || tb.Baseline != 0.8 || !tb.hasReference() {
		t.Errorf("with a baseline: baseline %v", tb.Baseline)
	}
}

// TestNoBaselineError says why there is no baseline and how to run anyway.
func TestNoBaselineError(t *testing.T) {
	msg := (&NoBaselineError{Detail: "evaluation failed: predictions.csv does not exist", Evaluated: true}).Error()
	for _, want := range []string{"gives no baseline", "predictions.csv does not exist", "the evaluator found no output", "template", "--reference first-run", "reference: first-run", "not a baseline"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}
