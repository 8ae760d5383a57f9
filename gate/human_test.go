package gate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
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

func testRun(t *testing.T) (*store.Store, *store.Run) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	run, err := st.CreateRun(ctx, store.NewRun{Kind: "experiment", RunsDir: filepath.Join(dir, "runs")})
	if err != nil {
		t.Fatal(err)
	}
	return st, run
}

// openGate waits until the run has an open gate and returns it.
func openGate(t *testing.T, st *store.Store, run string) store.Gate {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute) // a loaded machine runs the sandbox slowly
	for time.Now().Before(deadline) {
		gs, err := st.Gates(context.Background(), run, true)
		if err != nil {
			t.Error(err)
			return store.Gate{}
		}
		if len(gs) == 1 {
			return gs[0]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Error("no gate opened")
	return store.Gate{}
}

func TestAnsweredFromTheWeb(t *testing.T) {
	st, run := testRun(t)
	in, _ := io.Pipe() // a terminal where nobody types
	out := &syncBuffer{}
	h := &Human{Run: run, Console: &Console{In: in, Out: out}, Poll: 10 * time.Millisecond}
	go func() {
		g := openGate(t, st, run.ID)
		if _, err := st.AnswerGate(context.Background(), run.ID, g.Seq, experiment.Answer{Guidance: "try an SVC"}, store.ByWeb); err != nil {
			t.Error(err)
		}
	}()
	a, err := h.Ask(context.Background(), experiment.Question{Gate: "checkpoint", Text: "5 steps done"})
	if err != nil {
		t.Fatal(err)
	}
	if a.Guidance != "try an SVC" {
		t.Fatalf("answer = %+v, want the web's guidance", a)
	}
	if got, want := out.String(), "answered from the web: guidance: try an SVC"; !strings.Contains(got, want) {
		t.Fatalf("terminal shows %q, want it to say %q", got, want)
	}
	gs, _ := st.Gates(context.Background(), run.ID, false)
	if len(gs) != 1 || gs[0].Kind != store.GateCheckpoint || gs[0].AnsweredBy != store.ByWeb {
		t.Fatalf("gates = %+v", gs)
	}
}

func TestAnsweredFromTheTerminal(t *testing.T) {
	st, run := testRun(t)
	out := &syncBuffer{}
	h := &Human{Run: run, Console: &Console{In: strings.NewReader("s\n"), Out: out}, Poll: 10 * time.Millisecond}
	a, err := h.Ask(context.Background(), experiment.Question{Gate: "final", Text: "done"})
	if err != nil || !a.Stop {
		t.Fatalf("answer = %+v, %v; want stop", a, err)
	}
	g, _ := st.Gate(context.Background(), run.ID, 1)
	if g.Status != store.GateAnswered || g.AnsweredBy != store.ByTerminal || g.Kind != store.GateFinal {
		t.Fatalf("gate = %+v, want answered from the terminal", g)
	}
	// The web, later, is told it lost.
	_, err = st.AnswerGate(context.Background(), run.ID, 1, experiment.Answer{}, store.ByWeb)
	if err == nil || !strings.Contains(err.Error(), "already answered from the terminal") {
		t.Fatalf("late web answer: %v", err)
	}
}

// With no terminal (nohup: stdin at EOF) the run waits for the web.
func TestNoTerminalWaitsForTheWeb(t *testing.T) {
	st, run := testRun(t)
	out := &syncBuffer{}
	h := &Human{Run: run, Console: &Console{In: strings.NewReader(""), Out: out}, Poll: 10 * time.Millisecond}
	res := &idea.Result{Ideas: []idea.Idea{{Title: "wider net", Hypothesis: "h"}, {Title: "SVC", Hypothesis: "h"}}}
	go func() {
		g := openGate(t, st, run.ID)
		var opts []idea.Idea
		json.Unmarshal(g.Options, &opts)
		if len(opts) != 2 || opts[1].Title != "SVC" {
			t.Errorf("the gate's options = %s, want the ranking", g.Options)
		}
		raw, err := Check(g, json.RawMessage(`{"pick": 1}`))
		if err != nil {
			t.Error(err)
		}
		st.AnswerGate(context.Background(), run.ID, g.Seq, raw, store.ByWeb)
	}()
	c, err := h.Choose(context.Background(), res)
	if err != nil || c.Pick != 1 || c.Regenerate {
		t.Fatalf("choice = %+v, %v; want idea 2", c, err)
	}
	for _, want := range []string{"no answer on the terminal", "mlrc serve", "answered from the web: idea 2: SVC"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestCancelledAsk(t *testing.T) {
	st, run := testRun(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	h := &Human{Run: run, Poll: 10 * time.Millisecond}
	if _, err := h.Ask(ctx, experiment.Question{Gate: "ask", Text: "?"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	g, _ := st.Gate(context.Background(), run.ID, 1)
	if g.Status != store.GateCancelled {
		t.Fatalf("gate after the run stopped waiting = %+v, want cancelled", g)
	}
}

func TestCheck(t *testing.T) {
	pick := store.Gate{Kind: store.GatePickIdea, Options: json.RawMessage(`[{"title":"a"},{"title":"b"}]`)}
	plan := store.Gate{Kind: store.GateApprovePlan}
	tests := []struct {
		g       store.Gate
		in      string
		want    string
		wantErr string
	}{
		{pick, `{"pick":1}`, `{"pick":1}`, ""},
		{pick, `{"pick":2}`, "", "want 0 to 1"},
		{pick, `{"regenerate":true}`, "", "need feedback"},
		{pick, `{"regenerate":true,"feedback":"simpler"}`, `{"pick":0,"regenerate":true,"feedback":"simpler"}`, ""},
		{pick, `{"pick":"x"}`, "", "pick_idea"},
		{plan, `{}`, `{}`, ""},
		{plan, `{"guidance":"  more data  "}`, `{"guidance":"more data"}`, ""},
		{plan, `{"stop":true}`, `{"stop":true}`, ""},
		{plan, `{"approve":true}`, "", "unknown field"},
		{plan, `{"guidance":"` + strings.Repeat("x", MaxText+1) + `"}`, "", "at most"},
	}
	for _, tt := range tests {
		got, err := Check(tt.g, json.RawMessage(tt.in))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Check(%s, %.40s) err = %v, want %q", tt.g.Kind, tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("Check(%s, %s) = %s, %v; want %s", tt.g.Kind, tt.in, got, err, tt.want)
		}
	}
}

// The Done-when case: a run with gates on the terminal and the store; the
// "web" (another writer of the store) answers the checkpoint with guidance,
// which reaches the agent's next request, and the terminal is told.
func TestWebAnswerReachesTheAgent(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	if exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run() != nil {
		t.Skip("/usr/bin/python3 lacks scikit-learn or pandas")
	}
	runner, _, err := sandbox.New("bwrap")
	if err != nil {
		t.Fatal(err)
	}
	tk, err := task.Load("../examples/tasks/digits")
	if err != nil {
		t.Fatal(err)
	}
	st, run := testRun(t)
	m := scripted.New("s", []scripted.Response{
		{ToolCalls: []scripted.ToolCall{{Name: "list_files"}}},
		{ToolCalls: []scripted.ToolCall{{Name: "final_answer", Arguments: map[string]any{"summary": "kept the baseline"}}}},
	})
	in, _ := io.Pipe()
	out := &syncBuffer{}
	cfg := experiment.Config{Task: tk, Sandbox: runner, Python: "/usr/bin/python3", Run: run,
		Model: llm.Stack{Provider: "scripted", Model: "s", Recorder: run}.Wrap(m),
		Gates: experiment.Gates{Human: &Human{Run: run, Console: &Console{In: in, Out: out}, Poll: 10 * time.Millisecond}, Every: 1}}
	go func() {
		// The checkpoint before step 2, then the final answer.
		for i, a := range []experiment.Answer{{Guidance: "look at the pixels"}, {}} {
			g := openGate(t, st, run.ID)
			for g.Seq != int64(i+1) { // the gate just answered may still show open
				time.Sleep(5 * time.Millisecond)
				g = openGate(t, st, run.ID)
			}
			if _, err := st.AnswerGate(context.Background(), run.ID, g.Seq, a, store.ByWeb); err != nil {
				t.Error(err)
			}
		}
	}()
	res, err := experiment.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != "final" {
		t.Fatalf("ended %q", res.Reason)
	}
	reqs := m.Requests()
	if len(reqs) < 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	var text strings.Builder
	for _, p := range last.Content {
		text.WriteString(p.Text)
	}
	if want := "Guidance from the researcher supervising you: look at the pixels"; !strings.Contains(text.String(), want) {
		t.Errorf("request 2 lacks the web's guidance %q:\n%s", want, text.String())
	}
	if want := "answered from the web: guidance: look at the pixels"; !strings.Contains(out.String(), want) {
		t.Errorf("the terminal was not told %q:\n%s", want, out.String())
	}
	gs, _ := st.Gates(context.Background(), run.ID, false)
	if len(gs) != 2 || gs[0].Kind != store.GateCheckpoint || gs[1].Kind != store.GateFinal {
		t.Errorf("gates = %+v, want a checkpoint and the final answer", gs)
	}
}

// The console reads only when a question wants a line: after an answer,
// nothing reads the terminal (an editor started for "e N" has it alone),
// and a line typed after a prompt was given up answers the next one.
func TestConsoleReadsOnDemand(t *testing.T) {
	in, w := io.Pipe()
	out := &syncBuffer{}
	c := &Console{In: in, Out: out}
	go w.Write([]byte("first\n"))
	if line, err := c.ask(context.Background(), "? "); err != nil || line != "first" {
		t.Fatalf("ask = %q, %v", line, err)
	}
	wrote := make(chan struct{})
	go func() { w.Write([]byte("second\n")); close(wrote) }()
	select {
	case <-wrote:
		t.Fatal("the console read the terminal with no question asked")
	case <-time.After(200 * time.Millisecond):
	}
	// A prompt given up leaves its read for the next question.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.ask(ctx, "? "); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ask: %v", err)
	}
	if line, err := c.ask(context.Background(), "? "); err != nil || line != "second" {
		t.Fatalf("next ask = %q, %v; want the line typed meanwhile", line, err)
	}
	w.Close()
	for range 2 {
		if _, err := c.ask(context.Background(), "? "); err != io.EOF {
			t.Fatalf("ask after the input closed: %v, want io.EOF", err)
		}
	}
}

// The terminal answers after the web did, before this process noticed: the
// terminal's answer loses, the web's is used, and the terminal is told.
func TestTerminalLosesToTheWeb(t *testing.T) {
	st, run := testRun(t)
	in, w := io.Pipe()
	out := &syncBuffer{}
	h := &Human{Run: run, Console: &Console{In: in, Out: out}, Poll: time.Hour} // the store is read once only
	go func() {
		g := openGate(t, st, run.ID)
		time.Sleep(50 * time.Millisecond) // past the wait's first read
		if _, err := st.AnswerGate(context.Background(), run.ID, g.Seq, experiment.Answer{Guidance: "web wins"}, store.ByWeb); err != nil {
			t.Error(err)
		}
		w.Write([]byte("terminal too late\n"))
	}()
	a, err := h.Ask(context.Background(), experiment.Question{Gate: "ask", Text: "which loss?"})
	if err != nil || a.Guidance != "web wins" {
		t.Fatalf("answer = %+v, %v; want the web's", a, err)
	}
	if !strings.Contains(out.String(), "answered from the web: guidance: web wins") {
		t.Errorf("the terminal was not told:\n%s", out.String())
	}
	g, _ := st.Gate(context.Background(), run.ID, 1)
	if g.AnsweredBy != store.ByWeb {
		t.Errorf("gate answered by %q", g.AnsweredBy)
	}
}
