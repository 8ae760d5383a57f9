package validate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// example is one held-out example of an evaluator's per-example output.
type example struct {
	id, label, prediction string
	// score is the predicted probability of the positive class; NaN when
	// the evaluator gave none.
	score float64
	// probs are the predicted probabilities by class (canonLabel), from
	// the p_<class> columns; nil when the evaluator gave none. Multi-class
	// log loss and AUC are computed from them.
	probs map[string]float64
	// class is canonLabel(label), with probs.
	class string
}

// metricFunc computes a metric over the examples at idx (with repeats:
// a bootstrap resample).
type metricFunc func(ex []example, idx []int) (float64, error)

// metricFuncs are the metrics mlrc can compute from per-example output,
// by normalized name (lower case, '-' and ' ' as '_').
var metricFuncs = map[string]metricFunc{
	"accuracy":      accuracy,
	"acc":           accuracy,
	"error":         errorRate,
	"error_rate":    errorRate,
	"f1":            autoF1,
	"f1_score":      autoF1,
	"binary_f1":     binaryF1,
	"macro_f1":      macroF1,
	"f1_macro":      macroF1,
	"auc":           rocAUC,
	"roc_auc":       rocAUC,
	"auroc":         rocAUC,
	"log_loss":      logLoss,
	"logloss":       logLoss,
	"cross_entropy": logLoss,
	"mae":           numeric(mae),
	"mse":           numeric(mse),
	"rmse":          numeric(rmse),
	"r2":            numeric(r2),
	"pearson":       numeric(pearson),
	"spearman":      numeric(spearman),
}

func normalizeMetric(name string) string {
	return strings.NewReplacer("-", "_", " ", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
}

// metricOf returns how to compute the metric called name from per-example
// output, or an error naming the metrics that can be.
func metricOf(name string) (metricFunc, error) {
	if f, ok := metricFuncs[normalizeMetric(name)]; ok {
		return f, nil
	}
	names := make([]string, 0, len(metricFuncs))
	for n := range metricFuncs {
		names = append(names, n)
	}
	sort.Strings(names)
	return nil, fmt.Errorf("mlrc cannot compute %q from per-example output (it can: %s)", name, strings.Join(names, ", "))
}

// sameLabel compares two labels, as numbers when both are ("1" and "1.0").
func sameLabel(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	return err1 == nil && err2 == nil && x == y
}

func accuracy(ex []example, idx []int) (float64, error) {
	if len(idx) == 0 {
		return 0, errNoExamples
	}
	n := 0
	for _, i := range idx {
		if sameLabel(ex[i].label, ex[i].prediction) {
			n++
		}
	}
	return float64(n) / float64(len(idx)), nil
}

func errorRate(ex []example, idx []int) (float64, error) {
	a, err := accuracy(ex, idx)
	return 1 - a, err
}

var errNoExamples = fmt.Errorf("no examples")

// positive reports whether a label is the positive class of a binary
// metric: 1, true or yes.
func positive(label string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "1", "1.0", "true", "yes", "positive":
		return true, nil
	case "0", "0.0", "false", "no", "negative", "-1", "-1.0":
		return false, nil
	}
	return false, fmt.Errorf("label %q is not binary: want 1/0, true/false or yes/no", label)
}

// f1 is the F1 score of the class that is, by is, positive.
func f1(ex []example, idx []int, is func(string) (bool, error)) (float64, error) {
	var tp, fp, fn float64
	for _, i := range idx {
		l, err := is(ex[i].label)
		if err != nil {
			return 0, err
		}
		p, err := is(ex[i].prediction)
		if err != nil {
			return 0, err
		}
		switch {
		case l && p:
			tp++
		case p:
			fp++
		case l:
			fn++
		}
	}
	if tp == 0 {
		return 0, nil // scikit-learn's value when undefined, too
	}
	return 2 * tp / (2*tp + fp + fn), nil
}

func binaryF1(ex []example, idx []int) (float64, error) { return f1(ex, idx, positive) }

// autoF1 is the binary F1 when every label and prediction is binary (1/0,
// true/false, yes/no), else the macro F1, as `mlrc task new`'s evaluator
// reports it for more classes.
func autoF1(ex []example, idx []int) (float64, error) {
	for _, e := range ex {
		_, err1 := positive(e.label)
		_, err2 := positive(e.prediction)
		if err1 != nil || err2 != nil {
			return macroF1(ex, idx)
		}
	}
	return binaryF1(ex, idx)
}

// macroF1 is the mean F1 over the classes among the labels and the
// predictions of all examples.
func macroF1(ex []example, idx []int) (float64, error) {
	classes := map[string]bool{}
	for _, e := range ex {
		classes[canonLabel(e.label)] = true
		classes[canonLabel(e.prediction)] = true
	}
	sum := 0.0
	for c := range classes {
		v, _ := f1(ex, idx, func(s string) (bool, error) { return canonLabel(s) == c, nil })
		sum += v
	}
	return sum / float64(len(classes)), nil
}

// canonLabel writes numeric labels one way ("1.0" → "1").
func canonLabel(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return s
}

// rocAUC is the area under the ROC curve. With per-class probabilities
// (p_<class>) it is scikit-learn's one-vs-rest macro average over the
// classes among all the examples' labels (for two classes, the binary AUC
// of the second class, in sorted order); else the binary AUC of score for the positive class. A
// resample that lacks a class, or holds only it, gives NaN: the AUC is
// undefined there.
func rocAUC(ex []example, idx []int) (float64, error) {
	if len(ex) > 0 && ex[0].probs != nil {
		return macroAUC(ex, idx)
	}
	return binaryAUC(ex, idx, func(e example) (float64, bool, error) {
		if math.IsNaN(e.score) {
			return 0, false, fmt.Errorf("example %s has no score: AUC needs the column score (binary) or p_<class> columns", e.id)
		}
		p, err := positive(e.label)
		return e.score, p, err
	})
}

// macroAUC is the one-vs-rest AUC averaged over the classes.
func macroAUC(ex []example, idx []int) (float64, error) {
	classes := labelClasses(ex)
	if len(classes) < 2 {
		return math.NaN(), nil
	}
	if len(classes) == 2 {
		// Binary, as scikit-learn scores it: the second class's column.
		classes = classes[1:]
	}
	sum := 0.0
	for _, c := range classes {
		a, err := binaryAUC(ex, idx, func(e example) (float64, bool, error) {
			p, ok := e.probs[c]
			if !ok {
				return 0, false, fmt.Errorf("example %s has no probability for class %q: want a column p_%s", e.id, c, c)
			}
			return p, e.class == c, nil
		})
		if err != nil || math.IsNaN(a) {
			return a, err
		}
		sum += a
	}
	return sum / float64(len(classes)), nil
}

// labelClasses are the distinct labels of all the examples, canonical and
// sorted.
func labelClasses(ex []example) []string {
	set := map[string]bool{}
	for _, e := range ex {
		set[e.class] = true
	}
	out := make([]string, 0, len(set))
	for c := range set {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// binaryAUC is the area under the ROC curve of the scores of the examples
// at idx, each with whether it is positive: the Mann–Whitney statistic,
// ties counted half. NaN when one side is empty.
func binaryAUC(ex []example, idx []int, of func(example) (float64, bool, error)) (float64, error) {
	type sl struct {
		s   float64
		pos bool
	}
	v := make([]sl, 0, len(idx))
	var npos, nneg float64
	for _, i := range idx {
		s, p, err := of(ex[i])
		if err != nil {
			return 0, err
		}
		v = append(v, sl{s, p})
		if p {
			npos++
		} else {
			nneg++
		}
	}
	if npos == 0 || nneg == 0 {
		return math.NaN(), nil
	}
	sort.Slice(v, func(a, b int) bool { return v[a].s < v[b].s })
	rankSum := 0.0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j].s == v[i].s {
			j++
		}
		r := float64(i+j+1) / 2 // average 1-based rank of the tie group
		for k := i; k < j; k++ {
			if v[k].pos {
				rankSum += r
			}
		}
		i = j
	}
	return (rankSum - npos*(npos+1)/2) / (npos * nneg), nil
}

// logLoss is the cross-entropy, clipped as scikit-learn does: over the
// p_<class> probabilities when the evaluator gave them (each clipped to
// [1e-15, 1 − 1e-15], then the row renormalized), else binary, of score.
func logLoss(ex []example, idx []int) (float64, error) {
	if len(idx) == 0 {
		return 0, errNoExamples
	}
	const eps = 1e-15
	sum := 0.0
	if ex[0].probs != nil {
		for _, i := range idx {
			e := ex[i]
			p, ok := e.probs[e.class]
			if !ok {
				return 0, fmt.Errorf("example %s has no probability for its label %q: want a column p_%s", e.id, e.label, e.class)
			}
			total := 0.0
			for _, q := range e.probs {
				total += math.Min(math.Max(q, eps), 1-eps)
			}
			sum -= math.Log(math.Min(math.Max(p, eps), 1-eps) / total)
		}
		return sum / float64(len(idx)), nil
	}
	for _, i := range idx {
		if math.IsNaN(ex[i].score) {
			return 0, fmt.Errorf("example %s has no score: log loss needs the column score", ex[i].id)
		}
		p, err := positive(ex[i].label)
		if err != nil {
			return 0, err
		}
		q := math.Min(math.Max(ex[i].score, eps), 1-eps)
		if p {
			sum -= math.Log(q)
		} else {
			sum -= math.Log(1 - q)
		}
	}
	return sum / float64(len(idx)), nil
}

// numeric turns a metric of numeric labels and predictions into a
// metricFunc.
func numeric(f func(y, p []float64) float64) metricFunc {
	return func(ex []example, idx []int) (float64, error) {
		if len(idx) == 0 {
			return 0, errNoExamples
		}
		y, p := make([]float64, len(idx)), make([]float64, len(idx))
		for k, i := range idx {
			var err error
			if y[k], err = strconv.ParseFloat(ex[i].label, 64); err != nil {
				return 0, fmt.Errorf("example %s: label %q is not a number", ex[i].id, ex[i].label)
			}
			if p[k], err = strconv.ParseFloat(ex[i].prediction, 64); err != nil {
				return 0, fmt.Errorf("example %s: prediction %q is not a number", ex[i].id, ex[i].prediction)
			}
		}
		return f(y, p), nil
	}
}

func mae(y, p []float64) float64 {
	s := 0.0
	for i := range y {
		s += math.Abs(y[i] - p[i])
	}
	return s / float64(len(y))
}

func mse(y, p []float64) float64 {
	s := 0.0
	for i := range y {
		s += (y[i] - p[i]) * (y[i] - p[i])
	}
	return s / float64(len(y))
}

func rmse(y, p []float64) float64 { return math.Sqrt(mse(y, p)) }

func r2(y, p []float64) float64 {
	m := 0.0
	for _, v := range y {
		m += v
	}
	m /= float64(len(y))
	var res, tot float64
	for i := range y {
		res += (y[i] - p[i]) * (y[i] - p[i])
		tot += (y[i] - m) * (y[i] - m)
	}
	if tot == 0 {
		return math.NaN()
	}
	return 1 - res/tot
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx, my = mx/n, my/n
	var sxy, sxx, syy float64
	for i := range x {
		sxy += (x[i] - mx) * (y[i] - my)
		sxx += (x[i] - mx) * (x[i] - mx)
		syy += (y[i] - my) * (y[i] - my)
	}
	if sxx == 0 || syy == 0 {
		return math.NaN()
	}
	return sxy / math.Sqrt(sxx*syy)
}

func spearman(x, y []float64) float64 { return pearson(ranks(x), ranks(y)) }

// ranks are the 1-based ranks of v, ties given their average rank.
func ranks(v []float64) []float64 {
	order := make([]int, len(v))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return v[order[a]] < v[order[b]] })
	out := make([]float64, len(v))
	for i := 0; i < len(order); {
		j := i
		for j < len(order) && v[order[j]] == v[order[i]] {
			j++
		}
		r := float64(i+j+1) / 2
		for k := i; k < j; k++ {
			out[order[k]] = r
		}
		i = j
	}
	return out
}
