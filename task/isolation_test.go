package task

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExperimentIsolation checks, in the real sandbox, that an experiment
// sees its workspace and nothing it must not: the held-out labels, the
// task's evaluator, hidden system files; and that protected files stay
// read-only.
func TestExperimentIsolation(t *testing.T) {
	needPython(t, "sklearn")
	r := runner(t)
	tk := loadExample(t, "digits")
	ctx := context.Background()
	run := t.TempDir()
	l := Layout{Workspace: filepath.Join(run, "workspace"), Private: filepath.Join(run, "private")}
	prep, err := tk.Setup(ctx, r, l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(prep.Isolation, "bwrap") {
		t.Skipf("needs the bwrap sandbox; this runner is %q", prep.Isolation)
	}
	digitsData := tk.Hide[0]
	tests := []struct {
		name, line string
		ok         bool
	}{
		{"workspace writable", "echo x > notes.txt && cat data/train.csv > /dev/null", true},
		{"protected read-only", "echo x >> data/train.csv", false},
		{"protected not removable", "rm -f data/test.csv && test ! -e data/test.csv", false},
		{"private hidden", "cat " + filepath.Join(l.Private, "labels.csv"), false},
		{"task hidden", "cat " + filepath.Join(tk.Dir, "eval", "eval.py"), false},
		{"hidden file empty", fmt.Sprintf("test -s %s", digitsData), false},
		{"load_digits fails", "python3 -c 'from sklearn.datasets import load_digits; load_digits()'", false},
		{"tmp writable", "echo x > /tmp/x && cat /tmp/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := tk.Exec(ctx, r, l, Options{}, tt.line)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() != tt.ok {
				t.Errorf("%q: ok = %v, want %v (stderr %q)", tt.line, res.OK(), tt.ok, res.Stderr.Text)
			}
		})
	}
}

// TestFashionMNISTTestLabelsHidden checks that the system's copy of the
// Fashion-MNIST test labels is out of an experiment's reach.
func TestFashionMNISTTestLabelsHidden(t *testing.T) {
	tk := loadExample(t, "fashion-mnist")
	labels := filepath.Join(tk.Data["fmnist"], "t10k-labels-idx1-ubyte.gz")
	if _, err := os.Stat(labels); err != nil {
		t.Skipf("%s: %v (install dataset-fashion-mnist)", labels, err)
	}
	run := t.TempDir()
	l := Layout{Workspace: filepath.Join(run, "workspace"), Private: filepath.Join(run, "private")}
	if err := os.MkdirAll(filepath.Join(l.Workspace, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := tk.Exec(context.Background(), runner(t), l, Options{}, "cat "+labels+" | wc -c")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Isolation, "bwrap") {
		t.Skipf("needs the bwrap sandbox; this runner is %q", res.Isolation)
	}
	if res.OK() && strings.TrimSpace(res.Stdout.Text) != "0" {
		t.Errorf("an experiment read %s bytes of the test labels", strings.TrimSpace(res.Stdout.Text))
	}
}
