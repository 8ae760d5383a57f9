package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func needSklearn(t *testing.T) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import numpy, pandas, sklearn").CombinedOutput(); err != nil {
		t.Skipf("/usr/bin/python3 lacks numpy, pandas or sklearn (%v: %s): install python3-sklearn", err, out)
	}
}

// TestTaskNewThenCheck: mlrc task new on a CSV gives a task that passes
// task check, in one command.
func TestTaskNewThenCheck(t *testing.T) {
	needSklearn(t)
	var b strings.Builder
	b.WriteString("size,rooms,area,price\n")
	for i := 0; i < 200; i++ {
		size, rooms := 50+i%97, 1+i%5
		fmt.Fprintf(&b, "%d,%d,%s,%d\n", size, rooms, []string{"north", "south"}[i%2], 1000*size+5000*rooms+(i*7919)%3000)
	}
	dir := t.TempDir()
	csv := filepath.Join(dir, "homes.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	out := filepath.Join(dir, "homes-task")
	r := run(t, nil, "task", "new", "--csv", csv, "--target", "price", "--metric", "r2", "--test-size", "0.3", "--out", out)
	if r.code != 0 {
		t.Fatalf("task new: code %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "homes-task: baseline r2 = 0.9") {
		t.Errorf("stdout %q, want a baseline r2 above 0.9 (the price is linear in the columns)", r.stdout)
	}
	// The task stands on its own.
	if r := run(t, nil, "task", "check", out); r.code != 0 {
		t.Errorf("task check: code %d, stderr %s", r.code, r.stderr)
	}
	if r := run(t, nil, "task", "new", "--csv", csv, "--target", "cost", "--metric", "r2", "--out", filepath.Join(dir, "x")); r.code == 0 || !strings.Contains(r.stderr, "size, rooms, area, price") {
		t.Errorf("unknown target: code %d, stderr %q, want the columns listed", r.code, r.stderr)
	}
}

func TestTaskImportSurvey(t *testing.T) {
	up := "../../task/testdata/upstream/"
	dir := t.TempDir()
	r := run(t, nil, "task", "import", up+"semeval24", "--out", filepath.Join(dir, "s"))
	if r.code == 0 || !strings.Contains(r.stderr, "--allow-visible-labels") {
		t.Errorf("semeval24: code %d, stderr %q, want a refusal", r.code, r.stderr)
	}
	r = run(t, nil, "task", "import", up+"fathomnet", "--out", filepath.Join(dir, "f"), "--metric", "map_at_20", "--goal", "maximize")
	if r.code != 0 {
		t.Fatalf("fathomnet: code %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"needs download", "needed by the evaluator (fatal when missing)", "MISSING   keras", "kaggle: competition fathomnet-out-of-sample-detection", "touch prepared"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
}
