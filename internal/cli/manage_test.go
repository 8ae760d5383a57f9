package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
)

// runIn runs mlrc with stdin.
func runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" }})
	return result{code, stdout.String(), stderr.String()}
}

// `mlrc runs` shows each run's task, verdict and baseline → best; runs rm
// and runs gc remove runs and their directories, after asking, never a
// run a process holds nor a directory outside the runs directory.
func TestRunsManage(t *testing.T) {
	ctx := context.Background()
	runs := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	taskDir, _ := filepath.Abs("../../examples/tasks/digits")
	mk := func(status string, dir string) *store.Run {
		r, err := st.CreateRun(ctx, store.NewRun{Kind: "experiment", RunsDir: dir,
			Config: research.Config{Experiment: &research.ExperimentParams{Task: taskDir}}})
		if err != nil {
			t.Fatal(err)
		}
		best := 0.97
		r.Emit(ctx, "step", experiment.Event{Kind: "step", Step: 1, Baseline: 0.91, Best: &best})
		if status != store.StatusRunning {
			r.SetStatus(ctx, status, "")
			r.Unlock()
		}
		return r
	}
	done := mk(store.StatusDone, runs)
	os.WriteFile(filepath.Join(done.Dir, "verdict.json"), []byte(`{"success": true, "summary": "better"}`), 0o644)
	failed := mk(store.StatusFailed, runs)
	live := mk(store.StatusRunning, runs) // this process holds it
	defer live.Unlock()
	outside := mk(store.StatusFailed, t.TempDir())
	orphan := filepath.Join(runs, "20250101-000000-abcdef")
	os.MkdirAll(orphan, 0o755)
	os.WriteFile(filepath.Join(orphan, "run.json"), []byte(`{}`), 0o644)
	notRun := filepath.Join(runs, "keep-me")
	os.MkdirAll(notRun, 0o755)

	list := runIn(t, "", "runs", "--runs-dir", runs)
	if list.code != 0 {
		t.Fatalf("runs: %s", list.stderr)
	}
	for _, want := range []string{"TASK", "VERDICT", "BASELINE → BEST", "digits", "success", "accuracy 0.91 → 0.97"} {
		if !strings.Contains(list.stdout, want) {
			t.Errorf("runs lacks %q:\n%s", want, list.stdout)
		}
	}
	show := runIn(t, "", "runs", "show", done.ID, "--runs-dir", runs)
	for _, want := range []string{"task     digits", "metric   accuracy 0.91 → 0.97", "verdict  success: better"} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show.stdout)
		}
	}

	// Refused: a run in use; a run whose directory is elsewhere.
	if r := runIn(t, "", "runs", "rm", live.ID, "--yes", "--runs-dir", runs); r.code == 0 || !strings.Contains(r.stderr, "in use by process") {
		t.Errorf("rm of a run in use: exit %d, %s", r.code, r.stderr)
	}
	if r := runIn(t, "", "runs", "rm", outside.ID, "--yes", "--runs-dir", runs); r.code == 0 || !strings.Contains(r.stderr, "not "+outside.ID+" inside the runs directory") {
		t.Errorf("rm of a run outside the runs directory: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(outside.Dir); err != nil {
		t.Errorf("the outside directory is gone: %v", err)
	}
	// Asked, and not confirmed: nothing is removed.
	if r := runIn(t, "n\n", "runs", "rm", done.ID, "--runs-dir", runs); r.code != 0 || !strings.Contains(r.stdout, "nothing removed") {
		t.Errorf("rm, not confirmed: exit %d, %s", r.code, r.stdout)
	}
	if _, err := os.Stat(done.Dir); err != nil {
		t.Fatalf("removed without confirmation: %v", err)
	}
	if r := runIn(t, "y\n", "runs", "rm", done.ID, "--runs-dir", runs); r.code != 0 {
		t.Errorf("rm, confirmed: exit %d, %s", r.code, r.stderr)
	}
	if _, err := os.Stat(done.Dir); !os.IsNotExist(err) {
		t.Errorf("the run's directory is still there: %v", err)
	}
	if _, err := st.Run(ctx, done.ID); err == nil {
		t.Errorf("the run is still in the store")
	}

	// gc: the failed run (old enough) and the orphan directory go; the
	// run in use, the run outside and the directory that is no run stay.
	if r := runIn(t, "", "runs", "gc", "--older-than", "0s", "--yes", "--runs-dir", runs); r.code != 0 || !strings.Contains(r.stdout, "removed 1 run(s) and 1 directory(ies)") {
		t.Errorf("gc: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for dir, want := range map[string]bool{failed.Dir: false, orphan: false, live.Dir: true, outside.Dir: true, notRun: true} {
		if _, err := os.Stat(dir); (err == nil) != want {
			t.Errorf("%s there: %v, want %v", dir, err == nil, want)
		}
	}
	if r := runIn(t, "", "runs", "gc", "--older-than", "1h", "--yes", "--runs-dir", runs); !strings.Contains(r.stdout, "nothing to remove") {
		t.Errorf("gc again: %s", r.stdout)
	}
}
