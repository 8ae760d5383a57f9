package perf

import (
	"math"
	"strings"
	"testing"
)

func TestFigureVerdict(t *testing.T) {
	for _, tc := range []struct {
		f      Figure
		median float64
		result string
	}{
		{Figure{Limit: 5, Values: []float64{9, 1, 4}}, 4, "pass"},
		{Figure{Limit: 5, Values: []float64{9, 1, 6, 8}}, 7, "FAIL"},
		{Figure{Limit: 5, Values: []float64{5}}, 5, "pass"},
		{Figure{Limit: 5}, math.NaN(), "n/a"},
		{Figure{Limit: math.NaN(), Values: []float64{2}}, 2, ""},
	} {
		if m := tc.f.Median(); m != tc.median && !(math.IsNaN(m) && math.IsNaN(tc.median)) {
			t.Errorf("median of %v = %v, want %v", tc.f.Values, m, tc.median)
		}
		if r := tc.f.Result(); r != tc.result {
			t.Errorf("%v against %v: %q, want %q", tc.f.Values, tc.f.Limit, r, tc.result)
		}
	}
}

func TestPrint(t *testing.T) {
	var b strings.Builder
	Print(&b, []Figure{
		{Name: "step", Limit: 5, Unit: "ms", Values: []float64{2.5, 3, 40}},
		{Name: "ratio", Limit: 1.03, Unit: "×", Values: []float64{1.1}, Note: "why"},
		{Name: "none", Limit: 1, Unit: "s", Note: "no PDF"},
	})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and 3 rows:\n%s", b.String())
	}
	for i, want := range [][]string{
		{"figure", "goal", "median", "min", "max", "runs", "result"},
		{"step", "≤ 5 ms", "3 ms", "2.5 ms", "40.0 ms", "3", "pass"},
		{"ratio", "≤ 1.03×", "1.1×", "1", "FAIL", "why"},
		{"none", "≤ 1 s", "-", "0", "n/a", "no PDF"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i], w) {
				t.Errorf("row %d lacks %q: %s", i, w, lines[i])
			}
		}
	}
}
