package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/sandbox"
)

func TestSbatchArgs(t *testing.T) {
	e := &Executor{cfg: Config{SharedDir: "/shared", Partition: "gpu", Account: "lab", QoS: "short", TimeMargin: 2 * time.Minute, MemoryMargin: 256 << 20, SbatchArgs: []string{"--constraint=a100"}}}
	got := e.sbatchArgs(sandbox.Limits{Wall: 90 * time.Second, Memory: 1 << 30, CPUs: 1.5, GPUs: 2}, "/shared/job")
	for _, want := range []string{"--parsable", "--export=NONE", "--time=4", "--mem=1280M", "--cpus-per-task=2",
		"--gres=gpu:2", "--partition=gpu", "--account=lab", "--qos=short", "--constraint=a100", "--output=/shared/job/slurm.out"} {
		if !slices.Contains(got, want) {
			t.Errorf("sbatch args %q lack %s", got, want)
		}
	}
	// Defaults: no GPU, one CPU, the sandbox's default limits.
	got = (&Executor{cfg: Config{TimeMargin: time.Minute, MemoryMargin: 0}}).sbatchArgs(sandbox.Limits{}, "/j")
	for _, want := range []string{"--time=11", "--mem=4096M", "--cpus-per-task=1"} {
		if !slices.Contains(got, want) {
			t.Errorf("sbatch args %q lack %s", got, want)
		}
	}
	for _, a := range got {
		if strings.HasPrefix(a, "--gres") || strings.HasPrefix(a, "--partition") || strings.HasPrefix(a, "--account") || strings.HasPrefix(a, "--qos") {
			t.Errorf("unset option passed: %s", a)
		}
	}
}

func TestEnded(t *testing.T) {
	for _, tc := range []struct {
		out               string
		timedOut, oom     bool
		note              string
		parse             func(string) State
		state, node, exit string
	}{
		{out: "JobId=7 JobName=mlrc-run JobState=TIMEOUT Reason=TimeLimit Dependency=(null) ExitCode=0:15 NodeList=n1", parse: ParseScontrol,
			timedOut: true, note: "Slurm stopped job 7 at its time limit: TIMEOUT (TimeLimit)", state: "TIMEOUT", node: "n1", exit: "0:15"},
		{out: "OUT_OF_MEMORY|0:125|n2|None\n", parse: ParseSacct, oom: true, note: "out of memory", state: "OUT_OF_MEMORY", node: "n2"},
		{out: "PREEMPTED|0:15|n3|None", parse: ParseSacct, note: "Slurm preempted job 7: PREEMPTED", state: "PREEMPTED", node: "n3"},
		{out: "CANCELLED by 0|0:15|n1|None", parse: ParseSacct, note: "Slurm ended job 7 before the run finished: CANCELLED", state: "CANCELLED", node: "n1"},
		{out: "JobState=NODE_FAIL Reason=NodeDown NodeList=n4", parse: ParseScontrol, note: "NODE_FAIL (NodeDown)", state: "NODE_FAIL", node: "n4"},
		{out: "", parse: ParseSacct, note: "Slurm says nothing about it"},
	} {
		st := tc.parse(tc.out)
		if st.State != tc.state || st.Node != tc.node || (tc.exit != "" && st.Exit != tc.exit) {
			t.Errorf("%q parsed as %+v", tc.out, st)
		}
		res := endedBySlurm(st, "7", time.Second, sandbox.Limits{Memory: 1 << 30})
		if res.OK() || res.TimedOut != tc.timedOut || res.OOM != tc.oom {
			t.Errorf("%s: result %+v", tc.state, res)
		}
		if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], tc.note) {
			t.Errorf("%s: notes %q, want one containing %q", tc.state, res.Notes, tc.note)
		}
	}
}

func TestStageRefusesUnsharedPaths(t *testing.T) {
	shared := t.TempDir()
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "data.csv"), []byte("x"), 0o644)
	e := &Executor{cfg: Config{SharedDir: shared, Sandbox: "bwrap"}, node: []string{"/usr/bin/mlrc"}}
	_, err := e.stage(sandbox.Spec{Command: []string{"true"}, Mounts: []sandbox.Mount{{Source: other, Writable: true}}})
	if err == nil || !strings.Contains(err.Error(), "slurm.shared_paths") {
		t.Fatalf("a writable mount off the shared filesystem: err %v", err)
	}
	// An empty directory (a hide cover) is made again on the node.
	empty := t.TempDir()
	job, err := e.stage(sandbox.Spec{Command: []string{"true"}, Mounts: []sandbox.Mount{{Source: empty, Target: "/data"}}})
	if err != nil {
		t.Fatal(err)
	}
	script, _ := os.ReadFile(filepath.Join(job, scriptName))
	if !strings.Contains(string(script), "\nexec '/usr/bin/mlrc' 'sandbox-job' '--sandbox' 'bwrap' '"+job+"'\n") {
		t.Errorf("job script:\n%s", script)
	}
	b, _ := os.ReadFile(filepath.Join(job, specName))
	var jf jobFile
	if err := json.Unmarshal(b, &jf); err != nil || len(jf.Covers) != 1 || jf.Covers[0].Mount != 0 || !jf.Covers[0].Dir || jf.Spec.Mounts[0].Target != "/data" {
		t.Errorf("job file %s: %v", b, err)
	}
	if !strings.HasPrefix(job, filepath.Join(shared, "mlrc-jobs")) {
		t.Errorf("job directory %s is not under the shared directory", job)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{{}, {SharedDir: "rel"}, {SharedDir: "/s", SharedPaths: []string{"x"}}, {SharedDir: "/s", Sandbox: "docker"}} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if err := (Config{SharedDir: "/s", SharedPaths: []string{"/data"}}).Validate(); err != nil {
		t.Error(err)
	}
}

// cluster starts the test cluster and an executor whose nodes run this
// test binary as mlrc.
func cluster(t *testing.T, shared ...string) (*Executor, *syncBuffer) {
	startCluster(t)
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("bwrap is not installed")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{SharedDir: t.TempDir(), SharedPaths: shared}, exe)
	if err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	e.Log = log
	return e, log
}

func TestRunOnSlurm(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(filepath.Join(ws, "in.txt"), []byte("from the workspace\n"), 0o644)
	hidden := t.TempDir() // not shared: made again on the node
	e, log := cluster(t, ws)
	res, err := e.Run(context.Background(), sandbox.Spec{
		Command: []string{"/bin/sh", "-c", "cat in.txt; ls -A /hide | wc -l; echo out > out.txt; echo to-stderr >&2; exit 3"},
		Dir:     ws,
		Mounts:  []sandbox.Mount{{Source: ws, Writable: true}, {Source: hidden, Target: "/hide"}},
		Env:     map[string]string{"SECRET_NOT": "x"},
		Limits:  sandbox.Limits{Wall: 30 * time.Second, Memory: 512 << 20},
	})
	if err != nil {
		t.Fatalf("run: %v\nlog:\n%s", err, log.String())
	}
	if got, want := res.ExitCode, 3; got != want {
		t.Errorf("exit %d, want %d (%+v)", got, want, res)
	}
	if got, want := res.Stdout.Text, "from the workspace\n0\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if !strings.Contains(res.Stderr.Text, "to-stderr") {
		t.Errorf("stderr %q", res.Stderr.Text)
	}
	if b, err := os.ReadFile(filepath.Join(ws, "out.txt")); err != nil || string(b) != "out\n" {
		t.Errorf("the job's write to the workspace: %q, %v", b, err)
	}
	if res.Placement.Executor != "slurm" || res.Placement.Job == "" || res.Placement.Host == "" {
		t.Errorf("placement %+v", res.Placement)
	}
	if !strings.HasPrefix(res.Isolation, "bwrap") {
		t.Errorf("isolation on the node %q, want the bwrap sandbox", res.Isolation)
	}
	if !strings.Contains(log.String(), "mlrc: running on") {
		t.Errorf("the job's output was not streamed back: %q", log.String())
	}
	entries, _ := os.ReadDir(filepath.Join(e.cfg.SharedDir, "mlrc-jobs"))
	if len(entries) != 0 {
		t.Errorf("job directories left behind: %d", len(entries))
	}
}

func TestCancelScancels(t *testing.T) {
	ws := t.TempDir()
	e, log := cluster(t, ws)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Run(ctx, sandbox.Spec{Command: []string{"sleep", "120"}, Mounts: []sandbox.Mount{{Source: ws, Writable: true}}, Limits: sandbox.Limits{Wall: time.Minute}})
		done <- err
	}()
	waitLog(t, log, "mlrc: running on")
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the cancelled run did not return within 60 s")
	}
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "scancelled") {
		t.Fatalf("err %v, want a cancellation naming scancel", err)
	}
	if out, _ := exec.Command("squeue", "-h", "-t", "RUNNING,PENDING").Output(); strings.TrimSpace(string(out)) != "" {
		t.Errorf("jobs still queued after the cancel:\n%s", out)
	}
}

func TestJobEndedBySlurm(t *testing.T) {
	ws := t.TempDir()
	e, log := cluster(t, ws)
	done := make(chan *sandbox.Result, 1)
	go func() {
		res, err := e.Run(context.Background(), sandbox.Spec{Command: []string{"sleep", "120"}, Mounts: []sandbox.Mount{{Source: ws, Writable: true}}, Limits: sandbox.Limits{Wall: time.Minute}})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitLog(t, log, "mlrc: running on")
	// As an administrator or a preemption would: from outside mlrc.
	if out, err := exec.Command("scancel", "--name=mlrc-run").CombinedOutput(); err != nil {
		t.Fatalf("scancel: %v: %s", err, out)
	}
	var res *sandbox.Result
	select {
	case res = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("the run did not return within 60 s of its job's cancel")
	}
	if res == nil {
		t.FailNow()
	}
	if res.OK() || len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "CANCELLED") || res.Placement.Job == "" {
		t.Errorf("result %+v, want a failure saying Slurm cancelled job", res)
	}
}

func waitLog(t *testing.T, log *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(log.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the job's output within 60 s: %q", s, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
