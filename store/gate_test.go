package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestGateLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := createTest(t, s, "g1")
	if _, err := r.OpenGate(ctx, "pick", "?", nil); err == nil || !strings.Contains(err.Error(), "pick_idea") {
		t.Fatalf("unknown kind: err = %v, want one naming the kinds", err)
	}
	g, err := r.OpenGate(ctx, GatePickIdea, "Which idea?", []map[string]any{{"title": "a"}, {"title": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if g.Seq != 1 || g.Status != GateOpen {
		t.Fatalf("opened gate = %+v, want seq 1, open", g)
	}
	open, err := s.Gates(ctx, "", true)
	if err != nil || len(open) != 1 || string(open[0].Options) != `[{"title":"a"},{"title":"b"}]` {
		t.Fatalf("open gates = %+v, %v; want the one with its options", open, err)
	}
	got, err := s.AnswerGate(ctx, "g1", 1, map[string]int{"pick": 1}, ByWeb)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != GateAnswered || got.AnsweredBy != ByWeb || string(got.Answer) != `{"pick":1}` || got.Closed.IsZero() {
		t.Fatalf("answered gate = %+v", got)
	}
	_, err = s.AnswerGate(ctx, "g1", 1, map[string]int{"pick": 0}, ByTerminal)
	var ce *ClosedError
	if !errors.As(err, &ce) || ce.Gate.AnsweredBy != ByWeb || string(ce.Gate.Answer) != `{"pick":1}` {
		t.Fatalf("second answer: err = %v, want a ClosedError carrying the web's answer", err)
	}
	if want := "already answered from the web"; !strings.Contains(err.Error(), want) {
		t.Fatalf("second answer: %q does not say %q", err, want)
	}
	if open, _ := s.Gates(ctx, "g1", true); len(open) != 0 {
		t.Fatalf("open gates after the answer: %+v", open)
	}

	// A gate left open (its process died) is cancelled when the run opens
	// the next one.
	if _, err := r.OpenGate(ctx, GateCheckpoint, "step 5", nil); err != nil {
		t.Fatal(err)
	}
	g3, err := r.OpenGate(ctx, GateFinal, "done?", nil)
	if err != nil || g3.Seq != 3 {
		t.Fatalf("third gate = %+v, %v", g3, err)
	}
	all, _ := s.Gates(ctx, "g1", false)
	if len(all) != 3 || all[1].Status != GateCancelled || all[2].Status != GateOpen {
		t.Fatalf("gates = %+v, want answered, cancelled, open", all)
	}

	// Every change is an event, in the database and in events.jsonl.
	evs, err := s.EventsAfter(ctx, "g1", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range evs {
		types = append(types, e.Type)
	}
	want := "gate_opened gate_closed gate_opened gate_closed gate_opened"
	if strings.Join(types, " ") != want {
		t.Fatalf("events = %v, want %s", types, want)
	}
	if lines := readLines(t, filepath.Join(r.Dir, "events.jsonl")); len(lines) != len(evs) {
		t.Fatalf("events.jsonl has %d lines, want %d", len(lines), len(evs))
	}
	if later, _ := s.EventsAfter(ctx, "g1", 3, 1); len(later) != 1 || later[0].Seq != 4 {
		t.Fatalf("EventsAfter(3, limit 1) = %+v, want event 4", later)
	}
}

// Many answers at once, from goroutines: exactly one wins and every other
// is told who won.
func TestGateConcurrentAnswers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := createTest(t, s, "race")
	g, err := r.OpenGate(ctx, GateCheckpoint, "go on?", nil)
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			by := ByWeb
			if i%2 == 0 {
				by = ByTerminal
			}
			_, errs[i] = s.AnswerGate(ctx, "race", g.Seq, map[string]int{"who": i}, by)
		}()
	}
	wg.Wait()
	winners := 0
	for i, err := range errs {
		var ce *ClosedError
		switch {
		case err == nil:
			winners++
		case errors.As(err, &ce):
			if ce.Gate.Status != GateAnswered {
				t.Errorf("answer %d lost to a gate in status %s", i, ce.Gate.Status)
			}
		default:
			t.Errorf("answer %d: %v", i, err)
		}
	}
	if winners != 1 {
		t.Fatalf("%d answers won, want exactly 1", winners)
	}
	final, _ := s.Gate(ctx, "race", g.Seq)
	closed := 0
	evs, _ := s.EventsAfter(ctx, "race", 0, 0)
	for _, e := range evs {
		if e.Type == EventGateClosed {
			closed++
		}
	}
	if closed != 1 || final.Status != GateAnswered {
		t.Fatalf("gate %+v with %d close events, want answered once", final, closed)
	}
}

// TestGateAnswerHelper is a child process answering a gate, for
// TestWaitGateAcrossProcesses.
func TestGateAnswerHelper(t *testing.T) {
	db, id := os.Getenv("MLRC_GATE_DB"), os.Getenv("MLRC_GATE_RUN")
	if db == "" {
		t.Skip("helper process for TestWaitGateAcrossProcesses")
	}
	s, err := Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AnswerGate(context.Background(), id, 1, json.RawMessage(`{"guidance":"from afar"}`), ByMCP); err != nil {
		t.Fatal(err)
	}
}

// WaitGate sees an answer written by another process.
func TestWaitGateAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := createTest(t, s, "far")
	if _, err := r.OpenGate(ctx, GateAsk, "which loss?", nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan Gate, 1)
	go func() {
		g, err := s.WaitGate(ctx, "far", 1, 20*time.Millisecond)
		if err != nil {
			t.Error(err)
		}
		done <- g
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestGateAnswerHelper$")
	cmd.Env = append(os.Environ(), "MLRC_GATE_DB="+s.Path(), "MLRC_GATE_RUN=far")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("helper: %v\n%s", err, out)
	}
	select {
	case g := <-done:
		if g.AnsweredBy != ByMCP || string(g.Answer) != `{"guidance":"from afar"}` {
			t.Fatalf("waited gate = %+v", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitGate did not see the other process's answer")
	}

	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := r.OpenGate(ctx, GateFinal, "done?", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WaitGate(cctx, "far", 2, 10*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitGate on an unanswered gate: %v, want the context's deadline", err)
	}
	if _, err := s.CancelGate(ctx, "far", 2, "the run stopped"); err != nil {
		t.Fatal(err)
	}
	_, err := s.AnswerGate(ctx, "far", 2, "x", ByWeb)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("cancelled (%s)", "the run stopped")) {
		t.Fatalf("answer to a cancelled gate: %v", err)
	}
}
