package validate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// TestNewTaskPerExample: the evaluator `mlrc task new` writes gives, for a
// three-class target, per-example output (p_<class> columns as scored)
// from which mlrc recomputes its multi-class log loss and one-vs-rest AUC
// exactly, so the paired bootstrap runs (identical arms: p = 1) rather than
// stopping at a mismatch.
func TestNewTaskPerExample(t *testing.T) {
	if out, err := exec.Command(task.DefaultPython, "-c", "import numpy, pandas, sklearn").CombinedOutput(); err != nil {
		t.Skipf("needs %s with numpy, pandas and sklearn: %s", task.DefaultPython, out)
	}
	r, warning, err := sandbox.New("bwrap")
	if err != nil || warning != "" {
		t.Skipf("needs bubblewrap: %v %s", err, warning)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var b strings.Builder
	b.WriteString("x1,x2,colour\n")
	for range 300 {
		x1, x2 := rng.NormFloat64(), rng.NormFloat64()
		c := "red"
		switch {
		case x1+0.5*rng.NormFloat64() > 0.4:
			c = "Green"
		case x2+0.5*rng.NormFloat64() > 0.4:
			c = "blue"
		}
		fmt.Fprintf(&b, "%.4f,%.4f,%s\n", x1, x2, c)
	}
	csv := filepath.Join(t.TempDir(), "colours.csv")
	if err := os.WriteFile(csv, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, metric := range []string{"log_loss", "auc"} {
		t.Run(metric, func(t *testing.T) {
			tk, err := task.New(task.NewOptions{CSV: csv, Target: "colour", Metric: metric, Out: filepath.Join(t.TempDir(), "colours")})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "pe", perExampleFile)
			os.MkdirAll(filepath.Dir(file), 0o755)
			l := task.Layout{Workspace: filepath.Join(dir, "w"), Private: filepath.Join(dir, "p")}
			base, err := tk.Check(context.Background(), r, l, task.Options{PerExample: file})
			if err != nil {
				t.Fatal(err)
			}
			head, _ := os.ReadFile(file)
			if first, _, _ := strings.Cut(string(head), "\n"); first != "id,label,prediction,p_Green,p_blue,p_red" {
				t.Fatalf("per-example header %q", first)
			}
			v := base.Score.Value
			bs := pairedBootstrap(metric, tk.Metric.Goal, 0, file, file, v, v)
			if bs.P == nil || *bs.P < 0.99 || bs.Examples != 60 {
				t.Errorf("%s = %v: bootstrap %+v, note %q; want the metric recomputed on 60 examples and p = 1", metric, v, bs, bs.Note)
			}
		})
	}
}
