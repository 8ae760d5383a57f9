package store

import (
	"bufio"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm"
)

// TestHelperHolder is not a test: TestLockAcrossProcesses runs the test
// binary again with envWriter=holder, and this takes the lock of the run
// "held", prints "locked" and waits to be killed.
func TestHelperHolder(t *testing.T) {
	if os.Getenv(envWriter) != "holder" {
		t.Skip("helper process for TestLockAcrossProcesses")
	}
	ctx := context.Background()
	s, err := Open(ctx, os.Getenv(envDB))
	if err == nil {
		var run *Run
		if run, err = s.Run(ctx, "held"); err == nil {
			err = run.Lock()
		}
	}
	if err != nil {
		os.Stderr.WriteString("holder: " + err.Error() + "\n")
		os.Exit(2)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute) // a bound, in case the parent dies without killing us
	os.Exit(0)
}

// A run held by another process cannot be locked, names that process, and
// shows as running; once the holder is killed, the run shows as interrupted
// and can be locked.
func TestLockAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "mlrc.db")
	s, err := Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	created, err := s.CreateRun(ctx, NewRun{ID: "held", Kind: "test", RunsDir: filepath.Join(dir, "runs")})
	if err != nil {
		t.Fatal(err)
	}
	created.Unlock() // as if this process had ended

	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHolder$")
	cmd.Env = append(os.Environ(), envWriter+"=holder", envDB+"="+dbPath)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("holder said %q; stderr: %s", line, stderr.String())
	}

	run, err := s.Run(ctx, "held")
	if err != nil {
		t.Fatal(err)
	}
	err = run.Lock()
	var iu *InUseError
	if !errors.As(err, &iu) || iu.PID != cmd.Process.Pid || iu.Run != "held" {
		t.Fatalf("Lock while another process holds the run: %v, want an *InUseError naming process %d", err, cmd.Process.Pid)
	}
	if got, want := err.Error(), "run held is in use by process "; !strings.HasPrefix(got, want) {
		t.Errorf("error %q, want it to start with %q", got, want)
	}
	info, err := run.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusRunning || info.PID != cmd.Process.Pid {
		t.Errorf("held run: status %s, pid %d; want running, %d", info.Status, info.PID, cmd.Process.Pid)
	}

	cmd.Process.Kill()
	cmd.Wait()
	list, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Status != StatusInterrupted || list[0].PID != 0 {
		t.Fatalf("after the holder was killed, runs = %+v; want the run interrupted", list)
	}
	sum, err := s.Summary(ctx, "held")
	if err != nil || sum.Status != StatusInterrupted {
		t.Fatalf("summary status %v (%v), want interrupted", sum, err)
	}
	if err := run.Lock(); err != nil {
		t.Fatalf("Lock after the holder died: %v", err)
	}
	defer run.Unlock()
	if info, _ := run.Info(ctx); info.Status != StatusRunning || info.PID != os.Getpid() {
		t.Errorf("locked again: status %s, pid %d; want running, %d", info.Status, info.PID, os.Getpid())
	}
	// The stored status is never "interrupted".
	if rf := readRunFile(t, run.Dir); rf["status"] != StatusRunning {
		t.Errorf("run.json status %v, want running", rf["status"])
	}
}

// Within one process two handles exclude each other too; a run that ended
// is not interrupted, whoever holds it.
func TestLockHandles(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	first := createTest(t, s, "r")
	second, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var iu *InUseError
	if err := second.Lock(); !errors.As(err, &iu) || iu.PID != os.Getpid() {
		t.Fatalf("second handle Lock: %v, want in use by this process (%d)", err, os.Getpid())
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("a refused Lock took %s; it must fail at once", d)
	}
	if err := first.Lock(); err != nil {
		t.Errorf("Lock by the holder again: %v", err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	if info, _ := second.Info(ctx); info.Status != StatusInterrupted {
		t.Errorf("running run nobody holds: status %s, want interrupted", info.Status)
	}
	if err := second.Lock(); err != nil {
		t.Fatalf("Lock after Unlock: %v", err)
	}
	if err := second.SetStatus(ctx, StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	second.Unlock()
	if info, _ := second.Info(ctx); info.Status != StatusDone {
		t.Errorf("ended run: status %s, want done", info.Status)
	}
}

// A call answered from the record keeps the seq of the call it reused and
// counts as replayed, not sent.
func TestReplayedCall(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run := createTest(t, s, "r")
	st, err := run.BeginStep(ctx, "", "work", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.RecordCall(ctx, testCall("h", llm.Usage{InputTokens: 10, OutputTokens: 5}, llm.Cost{USD: 0.5})); err != nil {
		t.Fatal(err)
	}
	st.End(ctx, StatusStopped, nil)
	st, _ = run.BeginStep(ctx, "", "work", nil)
	again := testCall("h", llm.Usage{}, llm.Cost{})
	again.ReplayOf = 1
	if err := run.RecordCall(ctx, again); err != nil {
		t.Fatal(err)
	}
	calls, err := run.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].ReplayOf != 0 || calls[1].ReplayOf != 1 || calls[1].Step != st.Seq() {
		t.Fatalf("calls = %+v; want the second to replay call 1 in step %d", calls, st.Seq())
	}
	sum, err := s.Summary(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != 1 || sum.Replayed != 1 || sum.Usage.Total() != 15 || sum.Cost.USD != 0.5 {
		t.Errorf("summary: %d sent, %d replayed, %d tokens, %v; want 1, 1, 15, $0.5", sum.Calls, sum.Replayed, sum.Usage.Total(), sum.Cost)
	}
	lines := readLines(t, filepath.Join(run.Dir, "llm-calls.jsonl"))
	if len(lines) != 2 || lines[1]["replay_of"] != float64(1) {
		t.Errorf("llm-calls.jsonl second line: %v", lines[len(lines)-1])
	}
}
