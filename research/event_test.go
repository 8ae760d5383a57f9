package research

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
)

// fakeRunner prints to the spec's streams as a sandboxed command would.
type fakeRunner struct{}

func (fakeRunner) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	if spec.Started != nil {
		spec.Started(os.Getpid())
	}
	io.WriteString(spec.Stdout, "epoch 1\nepoch 2\rprogress 50%\r")
	io.WriteString(spec.Stderr, "a warning\n")
	return &sandbox.Result{ExitCode: 3}, nil
}

type fakeHuman struct{}

func (fakeHuman) Ask(context.Context, experiment.Question) (experiment.Answer, error) {
	return experiment.Answer{Guidance: "try an SVM"}, nil
}

func newRun(t *testing.T) (*store.Store, *store.Run) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	run, err := st.CreateRun(ctx, store.NewRun{Kind: "research", RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Unlock() })
	return st, run
}

// What a run calls raises events: the model, each sandboxed command (with
// its output line by line, its log files), the person at a gate. The
// coarse ones are kept in the store; output lines and model calls are not.
func TestEventsOfCalls(t *testing.T) {
	ctx := context.Background()
	_, run := newRun(t)
	model := llm.ProviderFunc(func(ctx context.Context, req *llm.Request) (*llm.Response, error) {
		return &llm.Response{Usage: llm.Usage{InputTokens: 5, OutputTokens: 2}}, nil
	})
	r := New(Options{Store: run, Model: model, Sandbox: fakeRunner{}, Human: fakeHuman{}})
	var mu sync.Mutex
	var got []Event
	unsubscribe := r.Subscribe(func(e Event) { mu.Lock(); got = append(got, e); mu.Unlock() })

	end := r.beginPhase(ctx, "experiment")
	if _, err := r.opts.Model.Complete(ctx, &llm.Request{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := r.opts.Sandbox.Run(ctx, sandbox.Spec{Name: "run"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.opts.Human.Ask(ctx, experiment.Question{Gate: "checkpoint", Text: "go on?"}); err != nil {
		t.Fatal(err)
	}
	end(nil)
	unsubscribe()
	r.emit(ctx, Warning{Phase: "x", Message: "after unsubscribing"})

	var types []string
	var lines []string
	for _, e := range got {
		types = append(types, e.Type())
		if o, ok := e.(CommandOutput); ok && o.N == 1 {
			lines = append(lines, o.Stream+":"+o.Line)
		}
	}
	want := "phase_started model_waiting model_answered command_started"
	if s := strings.Join(types, " "); !strings.HasPrefix(s, want) || !strings.Contains(s, "gate_opened gate_answered phase_ended") ||
		strings.Count(s, "command_ended") != 2 || strings.Contains(s, "warning") {
		t.Errorf("events: %s", s)
	}
	if g, w := strings.Join(lines, "|"), "stdout:epoch 1|stdout:epoch 2|stdout:progress 50%|stderr:a warning"; g != w {
		t.Errorf("output lines %q, want %q", g, w)
	}
	for _, e := range got {
		if a, ok := e.(ModelAnswered); ok && a.Tokens != 7 {
			t.Errorf("model answered with %d tokens, want 7", a.Tokens)
		}
		if c, ok := e.(CommandEnded); ok && (c.ExitCode != 3 || c.Name != "run" || c.Stdout != LogPath(run.Dir, c.N, "run", "stdout")) {
			t.Errorf("command ended: %+v", c)
		}
	}
	// The second command's logs are numbered on: nothing is overwritten.
	for n, want := range map[int]string{1: "epoch 1\nepoch 2\rprogress 50%\r", 2: "epoch 1\nepoch 2\rprogress 50%\r"} {
		b, err := os.ReadFile(LogPath(run.Dir, n, "run", "stdout"))
		if err != nil || string(b) != want {
			t.Errorf("log %d: %q, %v", n, b, err)
		}
	}
	stored, err := run.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, e := range stored {
		kept = append(kept, e.Type)
	}
	// Gates are stored by the store's gates (gate_opened, gate_closed),
	// whoever asks: the run's own gate events reach subscribers only.
	if s := strings.Join(kept, " "); s != "phase_started command_ended command_ended phase_ended warning" {
		t.Errorf("stored events: %s", s)
	}
	answered := false
	for _, e := range got {
		if g, ok := e.(GateAnswered); ok && g.Guidance == "try an SVM" {
			answered = true
		}
	}
	if !answered {
		t.Errorf("no GateAnswered with the guidance reached the subscriber")
	}
}

// A resumed run numbers its commands on from the logs already there.
func TestLogNumbersGoOn(t *testing.T) {
	_, run := newRun(t)
	os.MkdirAll(filepath.Join(run.Dir, "logs"), 0o755)
	os.WriteFile(LogPath(run.Dir, 7, "evaluate", "stdout"), nil, 0o644)
	r := New(Options{Store: run, Sandbox: fakeRunner{}})
	if _, err := r.opts.Sandbox.Run(context.Background(), sandbox.Spec{Name: "prepare"}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(run.Dir, "logs", "008-prepare.stderr")); err != nil {
		t.Errorf("the next command's log: %v", err)
	}
}
