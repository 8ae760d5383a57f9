package validate

import (
	"github.com/mlrc/mlrc/task"
	"math"
	"testing"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want)) }

// TestWelch compares with scipy.stats.ttest_ind(a, b, equal_var=False)
// (scipy 1.10) and the Welch interval t.ppf(0.975, df)·se around the
// difference; Hedges' g with the exact gamma correction.
func TestWelch(t *testing.T) {
	tests := []struct {
		name                string
		a, b                []float64
		t, df, p, lo, hi, g float64
	}{
		{"textbook", []float64{1, 2, 3, 4, 5}, []float64{2, 3, 4, 5, 9},
			-1.1428571428571426, 6.45213301981861, 0.2937254912355017, -4.968319694079554, 1.7683196940795551, -0.6524796767644417},
		{"accuracies", []float64{0.96, 0.97, 0.95}, []float64{0.99, 0.985, 0.99},
			-4.714951667914441, 2.331034482758621, 0.031068697140903212, -0.05097036842933557, -0.005696298237331077, -3.0716496379251437},
		{"unequal sizes", []float64{10, 12, 11, 13, 9, 14}, []float64{8, 7, 9},
			3.655630775069655, 6.797752808988765, 0.008543304631536821, 1.222318262177918, 5.777681737822082, 1.8625671937045523},
		{"one arm constant", []float64{1, 2, 3, 4}, []float64{5, 5, 5, 5},
			-3.872983346207417, 3.0, 0.030466291662170977, -4.5542602567608785, -0.445739743239121, -2.3788321548703615},
		{"few df", []float64{3.1, 2.9, 3.0, 3.2}, []float64{2.0, 2.5, 2.2},
			5.136595699937398, 2.794802564967939, 0.01696970262068854, 0.28901052003458183, 1.344322813298751, 3.652739657703766},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Welch(tt.a, tt.b)
			if got.EffectSize == nil {
				t.Fatal("effect size undefined, want one")
			}
			for _, c := range []struct {
				what      string
				got, want float64
			}{{"t", got.T, tt.t}, {"df", got.DF, tt.df}, {"p", got.P, tt.p}, {"ci low", got.CILow, tt.lo}, {"ci high", got.CIHigh, tt.hi}, {"hedges g", *got.EffectSize, tt.g}} {
				if !near(c.got, c.want, 1e-7) {
					t.Errorf("%s = %.12g, want %.12g", c.what, c.got, c.want)
				}
			}
			if got.Note != "" {
				t.Errorf("note %q, want none", got.Note)
			}
		})
	}
}

func TestWelchDegenerate(t *testing.T) {
	tests := []struct {
		name    string
		a, b    []float64
		diff, p float64
		note    string
	}{
		{"deterministic, different", []float64{0.99, 0.99, 0.99}, []float64{0.96, 0.96, 0.96}, 0.03, 0, NoteExact},
		{"deterministic, equal", []float64{0.97, 0.97}, []float64{0.97, 0.97}, 0, 1, NoteExact + noteEqualMean},
		{"one value each", []float64{0.99}, []float64{0.96}, 0.03, 1, NoteTooFew},
		{"one value in an arm", []float64{0.99}, []float64{0.96, 0.95, 0.97}, 0.03, 1, NoteTooFew},
		{"empty arm", nil, []float64{0.96}, 0, 1, NoteNoValues},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Welch(tt.a, tt.b)
			if !near(got.Diff, tt.diff, 1e-12) || got.P != tt.p || got.Note != tt.note {
				t.Errorf("diff %v, p %v, note %q; want %v, %v, %q", got.Diff, got.P, got.Note, tt.diff, tt.p, tt.note)
			}
			if got.CILow != got.Diff || got.CIHigh != got.Diff || got.T != 0 || got.DF != 0 || got.EffectSize != nil {
				t.Errorf("ci [%v, %v], t %v, df %v, g %v: want the difference itself, zeros and an undefined effect size", got.CILow, got.CIHigh, got.T, got.DF, got.EffectSize)
			}
		})
	}
}

// TestPermutationP counts splits by hand: with 3 against 3 values there
// are 20 splits, and when every value of one arm is above every value of
// the other only the observed split and its mirror are as extreme.
func TestPermutationP(t *testing.T) {
	tests := []struct {
		name string
		a, b []float64
		want float64
	}{
		{"separated 3 and 3", []float64{0.96, 0.97, 0.95}, []float64{0.99, 0.985, 0.991}, 2.0 / 20},
		{"constant arms", []float64{1, 1, 1}, []float64{2, 2, 2}, 2.0 / 20},
		{"equal arms", []float64{1, 1}, []float64{1, 1}, 1},
		// The difference is (5·sum(a) − 45)/6; the observed sum(a) = 7 gives
		// −5/3, and 4 of the 10 splits are as extreme: sums 6, 7, 11, 12.
		{"unequal sizes", []float64{1, 2, 4}, []float64{3, 5}, 4.0 / 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Welch(tt.a, tt.b).PermutationP
			if got == nil || !near(*got, tt.want, 1e-12) {
				t.Errorf("permutation p = %v, want %v", deref(got), tt.want)
			}
		})
	}
	if p := Welch(make([]float64, 30), make([]float64, 30)).PermutationP; p != nil {
		t.Errorf("30 against 30: permutation p = %v, want none (too many splits)", *p)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestMeanCI compares with scipy.stats.t.interval(level, n-1, mean, sd/√n).
func TestMeanCI(t *testing.T) {
	tests := []struct {
		values       []float64
		level        float64
		mean, lo, hi float64
	}{
		{[]float64{1, 2, 3, 4, 5}, 0.95, 3, 1.036756838522439, 4.9632431614775605},
		{[]float64{1, 2, 3, 4, 5}, 0.90, 3, 1.4925566844663936, 4.507443315533606},
		{[]float64{0.96, 0.97, 0.95}, 0.95, 0.96, 0.9351586228815624, 0.9848413771184376},
		{[]float64{2.5, 3.5}, 0.95, 3, -3.3531023682160477, 9.353102368216048},
		{[]float64{10, 12, 11, 13, 9, 14}, 0.95, 11.5, 9.536685692272393, 13.463314307727607},
		{[]float64{10, 12, 11, 13, 9, 14}, 0.90, 11.5, 9.960981383874334, 13.039018616125666},
		{[]float64{0.9611, 0.9611, 0.9611}, 0.95, 0.9611, 0.9611, 0.9611},
		{[]float64{7}, 0.95, 7, 7, 7},
	}
	for _, tt := range tests {
		mean, lo, hi := MeanCI(tt.values, tt.level)
		if !near(mean, tt.mean, 1e-12) || !near(lo, tt.lo, 1e-8) || !near(hi, tt.hi, 1e-8) {
			t.Errorf("MeanCI(%v, %v) = %v [%v, %v], want %v [%v, %v]", tt.values, tt.level, mean, lo, hi, tt.mean, tt.lo, tt.hi)
		}
	}
	if mean, lo, hi := MeanCI(nil, 0.95); !math.IsNaN(mean) || !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("MeanCI(nil) = %v [%v, %v], want NaN", mean, lo, hi)
	}
}

func TestCriterion(t *testing.T) {
	tests := []struct {
		name              string
		metric            string
		c                 Criterion
		improvement, base float64
		ok                bool
	}{
		{"default: strictly better", "score", Criterion{}, 0.001, 0.96, true},
		{"default: equal is not better", "score", Criterion{}, 0, 0.96, false},
		{"default: worse", "score", Criterion{}, -0.01, 0.96, false},
		{"absolute met", "score", Criterion{MinImprovement: 0.01}, 0.02, 0.96, true},
		{"absolute not met", "score", Criterion{MinImprovement: 0.05}, 0.02, 0.96, false},
		{"relative met", "score", Criterion{MinRelative: 0.10}, 2, 10, true},
		{"relative not met", "score", Criterion{MinRelative: 0.10}, 0.02, 0.96, false},
		{"relative of a negative baseline", "score", Criterion{MinRelative: 0.10}, 2, -10, true},
		{"relative undefined", "score", Criterion{MinRelative: 0.10}, 2, 0, false},
		// Bounded metrics count on the error: 0.96 → 0.98 removes half of it.
		{"accuracy on the error", "accuracy", Criterion{MinRelative: 0.10}, 0.02, 0.96, true},
		{"zero F1 baseline", "F1", Criterion{MinRelative: 0.10}, 0.7755, 0, true},
		{"perfect baseline", "accuracy", Criterion{MinRelative: 0.10}, 0.01, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var relp *float64
			rel, to, defined := RelativeChange(tt.metric, task.Maximize, tt.improvement, tt.base)
			if defined {
				relp = &rel
			}
			ok, why := tt.c.Met(tt.improvement, relp, to)
			if ok != tt.ok || ok != (why == "") {
				t.Errorf("Met(%v, %v) = %v, %q; want %v", tt.improvement, tt.base, ok, why, tt.ok)
			}
		})
	}
	for _, c := range []Criterion{{Alpha: 1}, {Alpha: -0.1}, {MinImprovement: -1}, {MinRelative: math.NaN()}} {
		if err := c.withDefaults().validate(); err == nil {
			t.Errorf("%+v: valid, want an error", c)
		}
	}
}
