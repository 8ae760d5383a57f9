package task

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// examplesDir holds the example tasks, relative to this package.
const examplesDir = "../examples/tasks"

// exampleCase is an example task, the range its baseline must fall in, and
// its prediction file with a way to break it.
type exampleCase struct {
	name     string
	modules  []string // Python modules it needs beyond numpy and pandas
	lo, hi   float64  // plausible baseline: lo < value <= hi
	pred     string   // the prediction file the evaluator reads
	rejectAs string   // what the evaluator says about a truncated file
}

var examples = []exampleCase{
	{"digits", []string{"sklearn"}, 0.9, 1, "predictions.csv", "rows, want 540"},
	{"semrel", []string{"scipy"}, 0.70, 0.78, "predictions.csv", "rows, want 2600"},
	{"house-price", []string{"sklearn"}, 15000, 30000, "submission.csv", "rows, want 292"},
	{"spaceship-titanic", []string{"sklearn"}, 0.68, 0.78, "submission.csv", "rows, want 1739"},
	{"fashion-mnist", []string{"torch"}, 0.80, 0.92, "predictions.csv", "rows, want 10000"},
}

// loadExample loads an example, skipping the test when its data is absent.
func loadExample(t *testing.T, name string) *Task {
	t.Helper()
	tk, err := Load(filepath.Join(examplesDir, name))
	var md *MissingDataError
	if errors.As(err, &md) {
		t.Skipf("example %s: %v", name, err)
	}
	if err != nil {
		t.Fatalf("example %s: %v", name, err)
	}
	return tk
}

func TestExamplesLoad(t *testing.T) {
	entries, err := os.ReadDir(examplesDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	if got, want := len(names), len(examples); got != want {
		t.Errorf("%d example tasks (%v), want %d", got, names, want)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			tk := loadExample(t, name)
			if tk.Name != name {
				t.Errorf("name %q, want the directory's %q", tk.Name, name)
			}
			for _, f := range []string{"train.py", "README.md"} {
				if _, err := os.Stat(filepath.Join(tk.Workspace, f)); err != nil {
					t.Errorf("workspace/%s: %v", f, err)
				}
			}
			if !strings.Contains(tk.Commands.Evaluate, "{private}") {
				t.Errorf("evaluate %q does not read the held-out labels from {private}", tk.Commands.Evaluate)
			}
			if len(tk.Protected) == 0 {
				t.Errorf("no protected paths: the agent could rewrite its data")
			}
		})
	}
}

// TestExamplesBaseline runs every example's prototype as `mlrc task check`
// does and checks the baseline is plausible, then that the evaluator
// rejects a truncated prediction file with a clear message.
func TestExamplesBaseline(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every example's baseline")
	}
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			needPython(t, ex.modules...)
			tk := loadExample(t, ex.name)
			ctx := context.Background()
			run := t.TempDir()
			l := Layout{Workspace: filepath.Join(run, "workspace"), Private: filepath.Join(run, "private")}
			b, err := tk.Check(ctx, runner(t), l, Options{})
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			t.Logf("%s: baseline %s = %.4f (%s): prepare %.1f s, run %.1f s, evaluate %.1f s, total %.1f s",
				ex.name, b.Score.Metric, b.Score.Value, b.Score.Goal, b.Prepare.Duration.Seconds(), b.Run.Duration.Seconds(),
				b.Score.Result.Duration.Seconds(), b.Elapsed.Seconds())
			if v := b.Score.Value; !(v > ex.lo && v <= ex.hi) {
				t.Errorf("baseline %s = %v, want in (%v, %v]", b.Score.Metric, v, ex.lo, ex.hi)
			}

			// The held-out labels stay out of the workspace.
			filepath.WalkDir(l.Workspace, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && (d.Name() == "labels.csv" || d.Name() == "answer.csv" || strings.Contains(d.Name(), "t10k-labels")) {
					t.Errorf("held-out file %s is in the workspace", p)
				}
				return nil
			})

			// A truncated prediction file is rejected, saying why.
			pred := filepath.Join(l.Workspace, ex.pred)
			data, err := os.ReadFile(pred)
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.SplitAfter(string(data), "\n")
			if err := os.WriteFile(pred, []byte(strings.Join(lines[:len(lines)/2], "")), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = tk.Evaluate(ctx, runner(t), l, Options{})
			var se *StepError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), ex.rejectAs) {
				t.Errorf("truncated %s: err = %v, want a *StepError saying %q", ex.pred, err, ex.rejectAs)
			}
		})
	}
}

// TestEvaluatorRejectsMalformed feeds the digits evaluator broken
// prediction files.
func TestEvaluatorRejectsMalformed(t *testing.T) {
	needPython(t, "sklearn")
	tk := loadExample(t, "digits")
	ctx := context.Background()
	run := t.TempDir()
	l := Layout{Workspace: filepath.Join(run, "workspace"), Private: filepath.Join(run, "private")}
	if _, err := tk.Setup(ctx, runner(t), l, Options{}); err != nil {
		t.Fatal(err)
	}
	if res, err := tk.Run(ctx, runner(t), l, Options{}); err != nil || !res.OK() {
		t.Fatalf("run: %v %+v", err, res)
	}
	pred := filepath.Join(l.Workspace, "predictions.csv")
	good, err := os.ReadFile(pred)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(good)), "\n")
	header, rows := lines[0], lines[1:]
	id0 := strings.Split(rows[0], ",")[0]
	tests := []struct {
		name, content, want string
	}{
		{"missing file", "", "predictions.csv does not exist"},
		{"empty", "\n", "not a readable CSV"},
		{"wrong columns", "id,pred\n" + strings.Join(rows, "\n"), "column 'label' missing"},
		{"duplicate id", header + "\n" + rows[0] + "\n" + strings.Join(rows[:len(rows)-1], "\n"), "duplicate ids, e.g. " + id0},
		{"NaN", header + "\n" + id0 + ",\n" + strings.Join(rows[1:], "\n"), "missing values"},
		{"unknown id", header + "\n99999,3\n" + strings.Join(rows[1:], "\n"), "test ids have no prediction, e.g. " + id0},
		{"bad label", header + "\n" + id0 + ",12\n" + strings.Join(rows[1:], "\n"), "labels must be whole numbers 0-9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(pred)
			if tt.name != "missing file" {
				if err := os.WriteFile(pred, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := tk.Evaluate(ctx, runner(t), l, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
	if err := os.WriteFile(pred, good, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := tk.Evaluate(ctx, runner(t), l, Options{}); err != nil || s.Value <= 0.9 {
		t.Errorf("restored predictions: %v, %v; want accuracy above 0.9", s, err)
	}
}

func TestCheckDigits(t *testing.T) {
	needPython(t, "sklearn")
	b, err := Check(context.Background(), filepath.Join(examplesDir, "digits"), runner(t), Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Score.Value; !(v > 0.9 && v <= 1) {
		t.Errorf("digits baseline accuracy %v, want in (0.9, 1]", v)
	}
	if b.Prepare == nil || b.Run == nil || b.Elapsed <= 0 {
		t.Errorf("baseline %+v lacks its step results", b)
	}
}
