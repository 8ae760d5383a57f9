package store

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

const (
	envWriter = "MLRC_STORE_TEST_WRITER"
	envDB     = "MLRC_STORE_TEST_DB"
	envRuns   = "MLRC_STORE_TEST_RUNS"
)

// TestHelperWriter is not a test: TestCrash runs the test binary again with
// -test.run=TestHelperWriter and envWriter set, and this writes steps to the
// store until it is killed, printing "committed N" once step N has ended.
func TestHelperWriter(t *testing.T) {
	if os.Getenv(envWriter) != "1" {
		t.Skip("helper process for TestCrash")
	}
	ctx := context.Background()
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "writer:", err)
		os.Exit(2)
	}
	s, err := Open(ctx, os.Getenv(envDB))
	if err != nil {
		fail(err)
	}
	run, err := s.Run(ctx, "crash")
	if errors.Is(err, ErrNotFound) {
		run, err = s.CreateRun(ctx, NewRun{ID: "crash", Kind: "test", RunsDir: os.Getenv(envRuns)})
	}
	if err != nil {
		fail(err)
	}
	for range 1_000_000 { // a bound, in case the parent dies without killing us
		st, err := run.BeginStep(ctx, "", "work", map[string]string{"pad": strings.Repeat("x", 512)})
		if err != nil {
			fail(err)
		}
		c := llm.Call{Provider: "test", Model: "m", RequestHash: crashHash(st.Seq()),
			Request: json.RawMessage(`{"n":1}`), Usage: llm.Usage{InputTokens: 1}}
		if err := st.Recorder().RecordCall(ctx, c); err != nil {
			fail(err)
		}
		if err := st.End(ctx, StatusDone, map[string]int64{"seq": st.Seq()}); err != nil {
			fail(err)
		}
		if _, err := fmt.Printf("committed %d\n", st.Seq()); err != nil {
			os.Exit(3) // the parent has gone
		}
	}
	os.Exit(0)
}

func crashHash(seq int64) string { return fmt.Sprintf("step-%d", seq) }

// TestCrash kills a writing process at several points and checks that the
// database is intact and holds every step the writer saw committed.
func TestCrash(t *testing.T) {
	dir := t.TempDir()
	dbPath, runsDir := filepath.Join(dir, "mlrc.db"), filepath.Join(dir, "runs")
	reported := map[int64]bool{} // steps a writer said were committed, over all rounds
	var steps int64              // steps in the store after the last round
	for round, killAfter := range []int{30, 120, 7, 200} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$")
		cmd.Env = append(os.Environ(), envWriter+"=1", envDB+"="+dbPath, envRuns+"="+runsDir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var last int64 // the last step this writer reported
		seen := 0
		var other []string
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var n int64
			if _, err := fmt.Sscanf(sc.Text(), "committed %d", &n); err != nil {
				other = append(other, sc.Text())
				continue
			}
			// This writer's steps follow those already in the store.
			if want := steps + int64(seen) + 1; n != want {
				t.Errorf("round %d: writer reported step %d, want %d", round, n, want)
			}
			reported[n], last = true, n
			seen++
			if seen == killAfter {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			}
		}
		err = cmd.Wait()
		if seen < killAfter {
			t.Fatalf("round %d: writer stopped after %d commits (%v)\nstdout: %s\nstderr: %s",
				round, seen, err, strings.Join(other, "\n"), stderr.String())
		}
		if err == nil {
			t.Fatalf("round %d: writer exited cleanly, want killed", round)
		}
		steps = checkAfterCrash(t, round, dbPath, runsDir, reported, last)
		t.Logf("round %d: killed after step %d was reported; %d steps stored", round, last, steps)
	}
}

// checkAfterCrash opens the store a killed writer left and checks it: intact,
// steps numbered 1..M without gaps, every reported step done with its call,
// and still writable. It returns M.
func checkAfterCrash(t *testing.T, round int, dbPath, runsDir string, reported map[int64]bool, last int64) int64 {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("round %d: reopen after kill: %v", round, err)
	}
	defer s.Close()
	integrityCheck(t, s.db)
	var fkProblems int
	if err := s.db.QueryRow("SELECT COUNT(*) FROM pragma_foreign_key_check").Scan(&fkProblems); err != nil {
		t.Fatal(err)
	}
	if fkProblems != 0 {
		t.Errorf("round %d: %d foreign key violations", round, fkProblems)
	}

	run, err := s.Run(ctx, "crash")
	if err != nil {
		t.Fatal(err)
	}
	steps, err := run.Steps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := int64(len(steps))
	for i, st := range steps {
		if st.Seq != int64(i+1) {
			t.Fatalf("round %d: step %d has seq %d; want steps numbered 1..%d without gaps", round, i+1, st.Seq, m)
		}
		if reported[st.Seq] && st.Status != StatusDone {
			t.Errorf("round %d: step %d reported committed but has status %s", round, st.Seq, st.Status)
		}
	}
	// The writer is killed after it reports step last: at worst it has begun
	// and perhaps ended step last+1.
	if m < last || m > last+1 {
		t.Errorf("round %d: %d steps stored, want %d or %d", round, m, last, last+1)
	}
	for seq := range reported {
		if seq > m {
			t.Errorf("round %d: step %d reported committed but missing", round, seq)
		}
	}

	calls, err := run.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	linked := callSteps(t, s, run.ID)
	hashes := map[int64]string{}
	for _, c := range calls {
		hashes[linked[c.Seq]] = c.RequestHash
	}
	inFile := map[string]bool{}
	for _, l := range readLines(t, filepath.Join(run.Dir, "llm-calls.jsonl")) {
		inFile[fmt.Sprint(l["request_hash"])] = true
	}
	for seq := range reported {
		if got, want := hashes[seq], crashHash(seq); got != want {
			t.Errorf("round %d: call of step %d: hash %q, want %q", round, seq, got, want)
		}
		if !inFile[crashHash(seq)] {
			t.Errorf("round %d: call of step %d missing from llm-calls.jsonl", round, seq)
		}
	}

	// Still writable.
	other, err := s.CreateRun(ctx, NewRun{ID: fmt.Sprintf("after-%d", round), Kind: "test", RunsDir: runsDir})
	if err != nil {
		t.Fatalf("round %d: create run after kill: %v", round, err)
	}
	st, err := other.BeginStep(ctx, "", "k", nil)
	if err == nil {
		err = st.End(ctx, StatusDone, nil)
	}
	if err != nil {
		t.Fatalf("round %d: write after kill: %v", round, err)
	}
	return m
}
