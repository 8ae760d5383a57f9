package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/executor/slurm/slurmtest"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/validate"
)

// TestResearchOnSlurm is the rehearsal with executor: slurm on a
// single-node Slurm the test starts: every experiment run, evaluation and
// validation re-run is a batch job running the sandbox on the node (this
// test binary stands in for mlrc there). The report names the jobs, and
// the verdict is the local run's.
func TestResearchOnSlurm(t *testing.T) {
	taskDir := digitsTask(t)
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("needs bubblewrap")
	}
	slurmtest.Start(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	node := filepath.Join(bin, "mlrc")
	if err := os.WriteFile(node, []byte(fmt.Sprintf("#!/bin/sh\nMLRC_TEST_AS_CLI=1 exec '%s' \"$@\"\n", exe)), 0o755); err != nil {
		t.Fatal(err)
	}
	runs := t.TempDir()
	conf := filepath.Join(bin, "mlrc.yaml")
	yaml := fmt.Sprintf("executor: slurm\nslurm:\n  shared_dir: %s\n  shared_paths: [%s]\n  mlrc: %s\n", runs, taskDir, node)
	if err := os.WriteFile(conf, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"research", "--rehearsal", rehearsalScript, "--offline",
		"--paper", "../../examples/papers/fashion-mnist.md", "--task", taskDir, "--auto", "--seeds", "0,1"}
	noModel := map[string]string{"HF_HUB_OFFLINE": "1"}
	r := run(t, noModel, append([]string{"--config", conf, "--runs-dir", runs}, args...)...)
	if r.code != 0 {
		t.Fatalf("research on Slurm: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	dir, onSlurm := runVerdict(t, runs)

	// Every validation re-run was a Slurm job of its own.
	var jobs []string
	for _, p := range onSlurm.Placements {
		if p.Where.Executor != "slurm" || p.Where.Job == "" || p.Where.Host == "" {
			t.Errorf("re-run %s seed %d ran at %+v, want a Slurm job", p.Arm, p.Seed, p.Where)
		}
		jobs = append(jobs, p.Where.Job)
	}
	if got, want := len(onSlurm.Placements), 4; got != want {
		t.Errorf("%d re-runs placed, want %d (2 arms × 2 seeds)", got, want)
	}
	slices.Sort(jobs)
	if len(slices.Compact(jobs)) != len(onSlurm.Placements) {
		t.Errorf("re-runs share job ids: %v", jobs)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Where the runs ran", "slurm job " + onSlurm.Placements[0].Where.Job + " on "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if !regexp.MustCompile(`experiment step \d+ \| slurm job \d+ on `).Match(md) {
		_, where, _ := strings.Cut(string(md), "## Where the runs ran")
		t.Errorf("report.md names no Slurm job of an experiment run:\n%.2000s", where)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "slurm job "+onSlurm.Placements[0].Where.Job) {
		t.Error("report.html does not name the Slurm jobs")
	}

	// The same run on this machine's sandbox gives the same verdict.
	localRuns := t.TempDir()
	r = run(t, noModel, append([]string{"--runs-dir", localRuns}, args...)...)
	if r.code != 0 {
		t.Fatalf("local research: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	_, local := runVerdict(t, localRuns)
	if local.Success != onSlurm.Success || !slices.Equal(local.Baseline.Values, onSlurm.Baseline.Values) || !slices.Equal(local.Best.Values, onSlurm.Best.Values) {
		t.Errorf("verdicts differ:\nslurm %v %v %v\nlocal %v %v %v", onSlurm.Success, onSlurm.Baseline.Values, onSlurm.Best.Values, local.Success, local.Baseline.Values, local.Best.Values)
	}
	for _, p := range local.Placements {
		if p.Where.Executor != "local" {
			t.Errorf("local re-run placed at %+v", p.Where)
		}
	}
}

// runVerdict reads the only run's directory and verdict.
func runVerdict(t *testing.T, runs string) (string, *validate.Verdict) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	if len(list) != 1 {
		t.Fatalf("%d runs, want 1", len(list))
	}
	b, err := os.ReadFile(filepath.Join(list[0].Dir, "verdict.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v validate.Verdict
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return list[0].Dir, &v
}
