package validate

import (
	"math"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/combin"
	"gonum.org/v1/gonum/stat/distuv"
)

// Level is the confidence level of the intervals in a Verdict.
const Level = 0.95

// maxPermutations bounds the exact permutation test: above it no
// permutation p-value is reported.
const maxPermutations = 20000

// Notes of the degenerate cases of Welch.
const (
	NoteExact     = "no variation across seeds: the difference is exact on the held-out set"
	NoteTooFew    = "fewer than two values in an arm: no test possible; re-run with more seeds"
	NoteNoValues  = "an arm has no values: no test possible"
	noteEqualMean = "; the means are equal"
)

// Test is a comparison of two samples.
type Test struct {
	Name string `json:"name"`
	// Diff is mean(a) − mean(b), with its confidence interval at Level.
	Diff   float64 `json:"diff"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// T and DF are the statistic and the Welch–Satterthwaite degrees of
	// freedom; P is two-sided. T and DF are 0 where they are undefined,
	// and Note says why.
	T  float64 `json:"t"`
	DF float64 `json:"df"`
	P  float64 `json:"p"`
	// EffectSize is Hedges' g: the difference over the pooled standard
	// deviation, with the exact small-sample correction; nil where it is
	// undefined (fewer than two values in an arm, or no variation at all).
	EffectSize *float64 `json:"effect_size,omitempty"`
	// PermutationP is the two-sided p-value of the exact permutation test
	// of the difference of means (every split of the pooled values), when
	// there are few enough splits.
	PermutationP *float64 `json:"permutation_p,omitempty"`
	Note         string   `json:"note,omitempty"`
}

// meanSD returns the mean and the sample standard deviation of values;
// values that are all equal have exactly that mean and a deviation of 0.
func meanSD(values []float64) (mean, sd float64) {
	switch len(values) {
	case 0:
		return math.NaN(), math.NaN()
	case 1:
		return values[0], 0
	}
	same := true
	for _, v := range values[1:] {
		same = same && v == values[0]
	}
	if same {
		return values[0], 0
	}
	return stat.MeanStdDev(values, nil)
}

// MeanCI returns the mean of values and its Student t confidence interval
// at level (0.95 for 95%). With one value, or values that are all equal,
// the interval is the mean itself; with none, all three are NaN.
func MeanCI(values []float64, level float64) (mean, lo, hi float64) {
	mean, sd := meanSD(values)
	n := len(values)
	if n < 2 || sd == 0 {
		return mean, mean, mean
	}
	q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(0.5 + level/2)
	h := q * sd / math.Sqrt(float64(n))
	return mean, mean - h, mean + h
}

// Welch compares the means of a and b with Welch's unequal-variances
// t-test: Diff is mean(a) − mean(b), P two-sided, the interval at Level.
// Two degenerate cases are decided without a test, and Note says so: no
// variation in either sample (P is 0 when the means differ, 1 when they
// are equal) and fewer than two values in a sample (P is 1).
func Welch(a, b []float64) Test {
	t := Test{Name: "Welch's t-test", P: 1}
	n1, n2 := len(a), len(b)
	if n1 == 0 || n2 == 0 {
		t.Note = NoteNoValues
		return t
	}
	m1, s1 := meanSD(a)
	m2, s2 := meanSD(b)
	t.Diff = m1 - m2
	t.CILow, t.CIHigh = t.Diff, t.Diff
	t.PermutationP = permutationP(a, b)
	switch {
	case n1 < 2 || n2 < 2:
		t.Note = NoteTooFew
		return t
	case s1 == 0 && s2 == 0:
		t.Note = NoteExact
		if t.Diff != 0 {
			t.P = 0
		} else {
			t.Note += noteEqualMean
		}
		return t
	}
	v1, v2 := s1*s1/float64(n1), s2*s2/float64(n2)
	se := math.Sqrt(v1 + v2)
	t.T = t.Diff / se
	t.DF = (v1 + v2) * (v1 + v2) / (v1*v1/float64(n1-1) + v2*v2/float64(n2-1))
	dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: t.DF}
	t.P = math.Min(1, 2*dist.Survival(math.Abs(t.T)))
	h := dist.Quantile(0.5+Level/2) * se
	t.CILow, t.CIHigh = t.Diff-h, t.Diff+h
	if g, ok := HedgesG(a, b); ok {
		t.EffectSize = &g
	}
	return t
}

// HedgesG is the standardized difference of means (mean(a) − mean(b)) over
// the pooled sample standard deviation, times the exact small-sample
// correction Γ(ν/2) / (√(ν/2) Γ((ν−1)/2)) with ν = n₁+n₂−2. ok is false
// when it is undefined: fewer than two values in a sample, or no variation
// at all.
func HedgesG(a, b []float64) (g float64, ok bool) {
	n1, n2 := len(a), len(b)
	if n1 < 2 || n2 < 2 {
		return 0, false
	}
	m1, s1 := meanSD(a)
	m2, s2 := meanSD(b)
	nu := float64(n1 + n2 - 2)
	pooled := math.Sqrt((float64(n1-1)*s1*s1 + float64(n2-1)*s2*s2) / nu)
	if pooled == 0 {
		return 0, false
	}
	lg1, _ := math.Lgamma(nu / 2)
	lg2, _ := math.Lgamma((nu - 1) / 2)
	j := math.Exp(lg1-lg2) / math.Sqrt(nu/2)
	return j * (m1 - m2) / pooled, true
}

// permutationP is the exact two-sided permutation test of the difference
// of means: the share of the splits of the pooled values into groups of
// len(a) and len(b) whose difference is at least as large in magnitude as
// the observed one. It is nil when there are more than maxPermutations
// splits or an empty sample.
func permutationP(a, b []float64) *float64 {
	n1, n := len(a), len(a)+len(b)
	if len(a) == 0 || len(b) == 0 || n > 60 || combin.Binomial(n, n1) > maxPermutations {
		return nil
	}
	pooled := append(append([]float64(nil), a...), b...)
	total := 0.0
	for _, v := range pooled {
		total += v
	}
	diff := func(sumA float64) float64 { return sumA/float64(n1) - (total-sumA)/float64(n-n1) }
	sumA := 0.0
	for _, v := range a {
		sumA += v
	}
	observed := math.Abs(diff(sumA))
	// Splits whose difference equals the observed one up to rounding count.
	scale := 0.0
	for _, v := range pooled {
		scale = math.Max(scale, math.Abs(v))
	}
	tol := 1e-9 * scale
	gen := combin.NewCombinationGenerator(n, n1)
	idx := make([]int, n1)
	var count, splits int
	for gen.Next() {
		s := 0.0
		for _, i := range gen.Combination(idx) {
			s += pooled[i]
		}
		if math.Abs(diff(s)) >= observed-tol {
			count++
		}
		splits++
	}
	p := float64(count) / float64(splits)
	return &p
}
