package validate

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mlrc/mlrc/task"
)

// Resamples is the number of bootstrap resamples of the held-out examples.
const Resamples = 2000

// Bootstrap is the paired bootstrap test over the held-out examples: the
// two arms' predictions at one seed, resampled together (the same examples
// for both), the metric recomputed by mlrc on each resample. It answers
// whether the difference would hold on other test sets like this one, which
// seeds cannot when training does not vary with them.
type Bootstrap struct {
	Name string `json:"name"`
	// Seed is the re-runs' seed whose predictions are compared.
	Seed      int `json:"seed"`
	Examples  int `json:"examples"`
	Resamples int `json:"resamples"`
	// Diff is the metric's difference on all the examples, oriented by the
	// goal (best − baseline to maximize), and CILow..CIHigh its percentile
	// interval at Level.
	Diff   float64 `json:"diff"`
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// P is two-sided: twice the smaller share of resamples on either side
	// of 0, with the +1 correction. Nil when there is no test; Note says
	// why.
	P    *float64 `json:"p,omitempty"`
	Note string   `json:"note,omitempty"`
}

// perExampleFile is where a re-run's evaluator writes its per-example
// output, inside the re-run's directory.
const perExampleFile = "examples.csv"

// readExamples reads an evaluator's per-example output (task.EnvPerExample).
func readExamples(path string) ([]example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: no header: %w", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	for _, c := range []string{"id", "label", "prediction"} {
		if _, ok := col[c]; !ok {
			return nil, fmt.Errorf("%s: no column %q: want id,label,prediction[,score | ,p_<class>...]", path, c)
		}
	}
	sc, hasScore := col["score"]
	// p_<class> columns, with the class as written (labels keep their case).
	probCols := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(h)
		if len(h) > 2 && strings.EqualFold(h[:2], "p_") {
			c := canonLabel(h[2:])
			if _, dup := probCols[c]; dup {
				return nil, fmt.Errorf("%s: two columns give the probability of class %q", path, c)
			}
			probCols[c] = i
		}
	}
	var out []example
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		e := example{id: rec[col["id"]], label: rec[col["label"]], prediction: rec[col["prediction"]], score: math.NaN()}
		if hasScore && strings.TrimSpace(rec[sc]) != "" {
			if e.score, err = strconv.ParseFloat(strings.TrimSpace(rec[sc]), 64); err != nil {
				return nil, fmt.Errorf("%s: example %s: score %q is not a number", path, e.id, rec[sc])
			}
		}
		if len(probCols) > 0 {
			e.class = canonLabel(e.label)
			e.probs = make(map[string]float64, len(probCols))
			for c, i := range probCols {
				p, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64)
				if err != nil || p < 0 || p > 1 {
					return nil, fmt.Errorf("%s: example %s: p_%s %q is not a probability", path, e.id, c, rec[i])
				}
				e.probs[c] = p
			}
		}
		if seen[e.id] {
			return nil, fmt.Errorf("%s: example %s is listed twice", path, e.id)
		}
		seen[e.id] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no examples", path)
	}
	return out, nil
}

// pairExamples orders both arms' examples by id and checks that they are
// the same examples with the same labels.
func pairExamples(base, best []example) error {
	if len(base) != len(best) {
		return fmt.Errorf("the baseline's evaluator listed %d examples, the best solution's %d", len(base), len(best))
	}
	byID := func(a, b example) int { return strings.Compare(a.id, b.id) }
	slices.SortFunc(base, byID)
	slices.SortFunc(best, byID)
	for i := range base {
		switch {
		case base[i].id != best[i].id:
			return fmt.Errorf("example %s of the baseline is not among the best solution's", base[i].id)
		case !sameLabel(base[i].label, best[i].label):
			return fmt.Errorf("example %s has label %q for the baseline and %q for the best solution", base[i].id, base[i].label, best[i].label)
		}
	}
	return nil
}

// pairedBootstrap compares the arms' per-example output at seed for the
// metric: it checks that mlrc's metric on all the examples is what the
// evaluator reported (baseValue, bestValue), then resamples. A Bootstrap
// without P says why there is no test.
func pairedBootstrap(metric string, goal task.Goal, seed int, basePath, bestPath string, baseValue, bestValue float64) *Bootstrap {
	b := &Bootstrap{Name: "paired bootstrap over the held-out examples", Seed: seed, Resamples: Resamples}
	f, err := metricOf(metric)
	if err != nil {
		b.Note = err.Error()
		return b
	}
	base, err := readExamples(basePath)
	if err == nil {
		var best []example
		if best, err = readExamples(bestPath); err == nil {
			if err = pairExamples(base, best); err == nil {
				return bootstrapPairs(b, f, goal, base, best, baseValue, bestValue)
			}
		}
	}
	b.Note = "the per-example output cannot be compared: " + err.Error()
	return b
}

func bootstrapPairs(b *Bootstrap, f metricFunc, goal task.Goal, base, best []example, baseValue, bestValue float64) *Bootstrap {
	n := len(base)
	b.Examples = n
	b.Name = fmt.Sprintf("paired bootstrap over %d held-out examples", n)
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	sign := 1.0
	if goal == task.Minimize {
		sign = -1
	}
	// mlrc's metric must be the evaluator's, or the test is of something else.
	for _, c := range []struct {
		arm      string
		ex       []example
		reported float64
	}{{"baseline", base, baseValue}, {"best solution", best, bestValue}} {
		got, err := f(c.ex, all)
		if err != nil {
			b.Note = "mlrc cannot compute the metric from the per-example output: " + err.Error()
			return b
		}
		if !(math.Abs(got-c.reported) <= 1e-5*math.Max(1, math.Abs(c.reported))) {
			b.Note = fmt.Sprintf("from the %s's per-example output mlrc computes %.6g, but its evaluator reported %.6g: the per-example output does not match the metric", c.arm, got, c.reported)
			return b
		}
	}
	mBase, _ := f(base, all)
	mBest, _ := f(best, all)
	b.Diff = sign * (mBest - mBase)

	rng := rand.New(rand.NewPCG(0x6d6c7263, uint64(n)))
	idx := make([]int, n)
	diffs := make([]float64, 0, Resamples)
	for range Resamples {
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		x, err1 := f(base, idx)
		y, err2 := f(best, idx)
		if err1 != nil || err2 != nil || math.IsNaN(x) || math.IsNaN(y) {
			continue // undefined on this resample (one class only, for AUC)
		}
		diffs = append(diffs, sign*(y-x))
	}
	if len(diffs) < Resamples/2 {
		b.Note = fmt.Sprintf("the metric is undefined on %d of %d resamples", Resamples-len(diffs), Resamples)
		return b
	}
	b.Resamples = len(diffs)
	sort.Float64s(diffs)
	var below, above int
	for _, d := range diffs {
		if d <= 0 {
			below++
		}
		if d >= 0 {
			above++
		}
	}
	p := math.Min(1, 2*float64(min(below, above)+1)/float64(len(diffs)+1))
	b.P = &p
	b.CILow = quantile(diffs, (1-Level)/2)
	b.CIHigh = quantile(diffs, 1-(1-Level)/2)
	return b
}

// quantile of sorted values, linearly interpolated.
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}
