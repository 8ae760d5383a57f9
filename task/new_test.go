package task

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeCSV makes a classification table with a signal in x1 and x2, a
// category and a text column.
func writeCSV(t *testing.T, rows int) string {
	t.Helper()
	r := rand.New(rand.NewSource(1))
	var b strings.Builder
	b.WriteString("key,x1,x2,color,note,label\n")
	for i := 0; i < rows; i++ {
		x1, x2 := r.NormFloat64(), r.NormFloat64()
		label := "no"
		if x1+0.5*x2+0.3*r.NormFloat64() > 0 {
			label = "yes"
		}
		fmt.Fprintf(&b, "k%d,%.4f,%.4f,%s,\"word%d other\",%s\n", i, x1, x2, []string{"red", "blue", "green"}[i%3], i%7, label)
	}
	p := filepath.Join(t.TempDir(), "table.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewFromCSVPassesCheck(t *testing.T) {
	needPython(t, "sklearn")
	for _, c := range []struct {
		metric string
		keys   string // of the evaluator's output
		lo, hi float64
	}{
		{"auc", "accuracy,auc,f1,log_loss", 0.8, 1},
		{"log_loss", "accuracy,auc,f1,log_loss", 0, 0.6},
	} {
		t.Run(c.metric, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "mytask")
			tk, err := New(NewOptions{CSV: writeCSV(t, 300), Target: "label", Metric: c.metric, ID: "key", Text: "note", TestSize: 0.25, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := tk.Metric.Goal, GoalOf(c.metric); got != want {
				t.Errorf("goal %q, want %q", got, want)
			}
			l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
			b, err := tk.Check(context.Background(), runner(t), l, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if v := b.Score.Value; v < c.lo || v > c.hi {
				t.Errorf("baseline %s = %v, want in [%v, %v]", c.metric, v, c.lo, c.hi)
			}
			var keys []string
			for _, k := range []string{"accuracy", "auc", "f1", "log_loss", "rmse"} {
				if _, ok := b.Score.Raw[k]; ok {
					keys = append(keys, k)
				}
			}
			if got := strings.Join(keys, ","); got != c.keys {
				t.Errorf("evaluator printed %q, want %q", got, c.keys)
			}
			if len(b.Warnings) > 0 {
				t.Errorf("warnings %q, want none", b.Warnings)
			}
			test, _ := os.ReadFile(filepath.Join(l.Workspace, "test.csv"))
			if strings.Contains(string(test), "label") || strings.Count(string(test), "\n") != 76 {
				t.Errorf("test.csv holds the labels or not 75 rows:\n%.200s", test)
			}
			for _, f := range []string{"README.md", "prepare.py", "eval.py"} {
				if _, err := os.Stat(filepath.Join(out, f)); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestNewOnSharedData(t *testing.T) {
	needPython(t, "sklearn")
	csv := "../../shared/data/spaceship-titanic/train.csv"
	if _, err := os.Stat(csv); err != nil {
		t.Skipf("%s is absent (the shared data folder next to the repository): %v", csv, err)
	}
	tk, err := New(NewOptions{CSV: csv, Target: "Transported", Metric: "accuracy", ID: "PassengerId", Text: "Name", Out: filepath.Join(t.TempDir(), "st")})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Check(context.Background(), tk.Dir, runner(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Score.Value; !(v > 0.7 && v < 0.95) {
		t.Errorf("baseline accuracy %v, want that of a linear model (0.7-0.95)", v)
	}
	if _, ok := b.Score.Raw["auc"]; !ok {
		t.Errorf("no r2 in %v", b.Score.Raw)
	}
}

func TestNewErrors(t *testing.T) {
	p := writeCSV(t, 10)
	for _, c := range []struct {
		opt  NewOptions
		want string
	}{
		{NewOptions{CSV: p, Target: "label", Metric: "precision"}, "want one of"},
		{NewOptions{CSV: p, Target: "lable", Metric: "f1"}, "its columns are key, x1"},
		{NewOptions{CSV: p, Target: "label", Metric: "f1", ID: "nope"}, "--id"},
		{NewOptions{CSV: p, Target: "label", Metric: "f1", TestSize: 1.5}, "--test-size"},
		{NewOptions{CSV: p + ".missing", Target: "label", Metric: "f1"}, "--csv"},
	} {
		c.opt.Out = filepath.Join(t.TempDir(), "x")
		if _, err := New(c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want one containing %q", c.opt, err, c.want)
		}
	}
}

// TestCheckWarnsOfSystemCopy: a task made from scikit-learn's bundled iris
// can be answered by reading the bundled copy; check says so and names hide:.
func TestCheckWarnsOfSystemCopy(t *testing.T) {
	needPython(t, "sklearn")
	dirs := systemDataDirs(DefaultPython)
	if len(dirs) == 0 {
		t.Skip("no scikit-learn data directory")
	}
	iris, err := os.ReadFile(filepath.Join(dirs[0], "iris.csv"))
	if err != nil {
		t.Skipf("no bundled iris: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(iris)), "\n")
	data := "sl,sw,pl,pw,species\n" + strings.Join(lines[1:], "\n") + "\n"
	p := filepath.Join(t.TempDir(), "iris.csv")
	os.WriteFile(p, []byte(data), 0o644)
	tk, err := New(NewOptions{CSV: p, Target: "species", Metric: "accuracy", Out: filepath.Join(t.TempDir(), "iris")})
	if err != nil {
		t.Fatal(err)
	}
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	b, err := tk.Check(context.Background(), runner(t), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := strings.Join(b.Warnings, "\n")
	if !strings.Contains(w, filepath.Join(dirs[0], "iris.csv")) || !strings.Contains(w, "hide:") {
		t.Errorf("warnings %q, want one naming the bundled iris.csv and hide:", b.Warnings)
	}
	tk.Hide = append(tk.Hide, dirs[0])
	if got := tk.SystemCopies(l, DefaultPython, nil); len(got) != 0 {
		t.Errorf("with hide: %s, warnings %q, want none", dirs[0], got)
	}
}

// TestCheckRefusesVisibleLabels: an evaluator reading a labels file from
// the workspace is refused unless allowed.
func TestCheckRefusesVisibleLabels(t *testing.T) {
	dir := writeTask(t, minimal)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	tk.Commands.Evaluate = "python3 {task}/eval.py --pred {workspace}/predictions.csv --labels {workspace}/test_labels.csv"
	_, err = tk.Check(context.Background(), nil, Layout{Workspace: t.TempDir() + "/w", Private: t.TempDir() + "/p"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "test_labels.csv") || !strings.Contains(err.Error(), "--allow-visible-labels") {
		t.Errorf("err = %v, want a refusal naming test_labels.csv and --allow-visible-labels", err)
	}
}

// TestCheckExplainsNoBaseline: a prototype that writes nothing gives no
// baseline; task check says how to run it anyway, or, when the task
// already says reference: first-run, that this is expected.
func TestCheckExplainsNoBaseline(t *testing.T) {
	for _, tt := range []struct{ yaml, want string }{
		{minimal + "outputs: [p.csv]\n", "run anyway with --reference first-run"},
		{minimal + "outputs: [p.csv]\nreference: first-run\n", "as this task's reference: first-run expects"},
	} {
		dir := writeTask(t, tt.yaml)
		os.WriteFile(filepath.Join(dir, "eval.py"), []byte("import sys\nopen(sys.argv[2])\n"), 0o644)
		tk, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tk.Check(context.Background(), runner(t), Layout{Workspace: t.TempDir() + "/w", Private: t.TempDir() + "/p"}, Options{})
		var se *StepError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("err = %v, want a step error with %q", err, tt.want)
		}
	}
}
