package validate

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/task"
)

// writeProbs writes per-example output with p_<class> columns.
func writeProbs(t *testing.T, name string, classes, labels []string, probs [][]float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,label,prediction")
	for _, c := range classes {
		b.WriteString(",p_" + c)
	}
	b.WriteString("\n")
	for i, l := range labels {
		best := 0
		for k := range probs[i] {
			if probs[i][k] > probs[i][best] {
				best = k
			}
		}
		fmt.Fprintf(&b, "%d,%s,%s", i, l, classes[best])
		for _, p := range probs[i] {
			fmt.Fprintf(&b, ",%.17g", p)
		}
		b.WriteString("\n")
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestMultiClassMetricsMatchScikitLearn: log loss and one-vs-rest AUC from
// p_<class> columns give scikit-learn's values (computed with
// sklearn.metrics.log_loss and roc_auc_score(multi_class="ovr") on the same
// numbers), for three classes and for two named classes; f1 of more than two
// classes is the macro F1.
func TestMultiClassMetricsMatchScikitLearn(t *testing.T) {
	three := writeProbs(t, "three.csv", []string{"a", "b", "c"}, []string{"a", "b", "c", "a", "b", "c", "a", "c"},
		[][]float64{{.7, .2, .1}, {.3, .4, .3}, {.1, .1, .8}, {.2, .5, .3}, {.25, .5, .25}, {.3, .3, .4}, {.6, .3, .1}, {.5, .1, .4}})
	two := writeProbs(t, "two.csv", []string{"no", "yes"}, []string{"no", "yes", "yes", "no", "yes"},
		[][]float64{{.8, .2}, {.3, .7}, {.6, .4}, {.4, .6}, {.1, .9}})
	for _, tt := range []struct {
		file, metric string
		want         float64
	}{
		{three, "log_loss", 0.7677626759544305},
		{three, "auc", 0.8694444444444445},
		{three, "f1", 0.7555555555555555}, // macro, as task new's evaluator reports it
		{two, "log_loss", 0.5035520949318157},
		{two, "roc_auc", 0.8333333333333333},
	} {
		ex, err := readExamples(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := metricOf(tt.metric)
		all := make([]int, len(ex))
		for i := range all {
			all[i] = i
		}
		got, err := f(ex, all)
		if err != nil || math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s on %s = %v, %v; scikit-learn gives %v", tt.metric, filepath.Base(tt.file), got, err, tt.want)
		}
	}
}

// fourClasses makes n examples of 4 classes and two sets of probabilities:
// weak (the true class a little likelier than the others) and strong.
func fourClasses(n int) (classes, labels []string, weak, strong [][]float64) {
	classes = []string{"cat", "dog", "fox", "owl"}
	r := rand.New(rand.NewPCG(7, 9))
	dist := func(truth int, signal float64) []float64 {
		p := make([]float64, len(classes))
		sum := 0.0
		for k := range p {
			p[k] = r.Float64()
			if k == truth {
				p[k] += signal
			}
			sum += p[k]
		}
		for k := range p {
			p[k] /= sum
		}
		return p
	}
	for i := 0; i < n; i++ {
		c := r.IntN(len(classes))
		labels = append(labels, classes[c])
		weak = append(weak, dist(c, 0.3))
		strong = append(strong, dist(c, 2))
	}
	return classes, labels, weak, strong
}

// TestBootstrapMultiClass: on 4-class log loss and AUC the paired
// bootstrap recomputes the metric on each resample; a clear improvement
// gives a small p, identical predictions p = 1.
func TestBootstrapMultiClass(t *testing.T) {
	classes, labels, weak, strong := fourClasses(400)
	weakFile := writeProbs(t, "weak.csv", classes, labels, weak)
	strongFile := writeProbs(t, "strong.csv", classes, labels, strong)
	value := func(metric, file string) float64 {
		ex, err := readExamples(file)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := metricOf(metric)
		all := make([]int, len(ex))
		for i := range all {
			all[i] = i
		}
		v, err := f(ex, all)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		metric string
		goal   task.Goal
	}{{"log_loss", task.Minimize}, {"auc", task.Maximize}} {
		w, s := value(tt.metric, weakFile), value(tt.metric, strongFile)
		if (tt.goal == task.Minimize) != (s < w) {
			t.Fatalf("%s: weak %v, strong %v: the strong predictions should be better", tt.metric, w, s)
		}
		b := pairedBootstrap(tt.metric, tt.goal, 0, weakFile, strongFile, w, s)
		if b.P == nil || *b.P > 0.01 || b.Diff <= 0 || b.CILow <= 0 || b.Examples != 400 {
			t.Errorf("%s, weak %.4g → strong %.4g: bootstrap %+v (note %q); want p ≤ 0.01 and a positive difference", tt.metric, w, s, b, b.Note)
		}
		b = pairedBootstrap(tt.metric, tt.goal, 0, weakFile, weakFile, w, w)
		if b.P == nil || *b.P < 0.99 || b.Diff != 0 {
			t.Errorf("%s, identical predictions: bootstrap %+v (note %q); want p ≈ 1", tt.metric, b, b.Note)
		}
		// A reported value that the per-example output does not give is
		// caught, not tested.
		b = pairedBootstrap(tt.metric, tt.goal, 0, weakFile, strongFile, w, s+0.05)
		if b.P != nil || !strings.Contains(b.Note, "does not match the metric") {
			t.Errorf("%s: a mismatched report gave %+v", tt.metric, b)
		}
	}
}

// TestProbabilityColumnsChecked: a p_<class> column that is not a
// probability, or no column for a label's class, is an error naming it.
func TestProbabilityColumnsChecked(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("id,label,prediction,p_a,p_b\n1,a,a,0.9,x\n"), 0o644)
	if _, err := readExamples(bad); err == nil || !strings.Contains(err.Error(), `p_b "x" is not a probability`) {
		t.Errorf("error %v", err)
	}
	missing := writeProbs(t, "missing.csv", []string{"a", "b"}, []string{"a", "c"}, [][]float64{{.9, .1}, {.5, .5}})
	ex, err := readExamples(missing)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := logLoss(ex, []int{0, 1}); err == nil || !strings.Contains(err.Error(), "want a column p_c") {
		t.Errorf("log loss error %v", err)
	}
}
