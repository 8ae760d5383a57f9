package experiment

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mlrc/mlrc/internal/termsafe"
)

// Question is asked of the person supervising a run at a gate.
type Question struct {
	Gate string // "first_run", "checkpoint", "final", "ask"
	Text string
}

// Answer is the person's decision: approve (the zero Answer), stop, or go
// on with guidance that enters the agent's next prompt.
type Answer struct {
	Stop     bool   `json:"stop,omitempty"`
	Guidance string `json:"guidance,omitempty"`
}

// Human answers gates. The call blocks until an answer or ctx is done.
type Human interface {
	Ask(ctx context.Context, q Question) (Answer, error)
}

// Gates says when to ask the human: before the first experiment, every
// Every steps, and before the final answer. A nil Human means --auto.
type Gates struct {
	Human Human
	Every int
}

func (g Gates) on() bool { return g.Human != nil }

// Terminal asks on a terminal: Enter approves, "s" or "stop" stops, any
// other line is guidance.
type Terminal struct {
	In  io.Reader
	Out io.Writer

	once  sync.Once
	lines chan string
}

func (t *Terminal) start() {
	t.lines = make(chan string)
	go func() {
		sc := bufio.NewScanner(t.In)
		for sc.Scan() {
			t.lines <- sc.Text()
		}
		close(t.lines)
	}()
}

// Ask prints the question and reads one line.
func (t *Terminal) Ask(ctx context.Context, q Question) (Answer, error) {
	t.once.Do(t.start)
	// The question carries the model's words: no escape sequence of
	// theirs reaches the terminal.
	fmt.Fprintf(t.Out, "\n── %s ──\n%s\n[Enter] go on · s = stop · or type guidance for the agent: ", gateTitle(q.Gate), termsafe.String(strings.TrimSpace(q.Text)))
	select {
	case <-ctx.Done():
		return Answer{}, ctx.Err()
	case line, ok := <-t.lines:
		if !ok {
			return Answer{}, fmt.Errorf("the terminal closed before an answer (use --auto to run without gates)")
		}
		line = strings.TrimSpace(line)
		switch strings.ToLower(line) {
		case "":
			return Answer{}, nil
		case "s", "stop", "q", "quit":
			return Answer{Stop: true}, nil
		}
		return Answer{Guidance: line}, nil
	}
}

func gateTitle(g string) string {
	switch g {
	case "first_run":
		return "before the first experiment"
	case "checkpoint":
		return "checkpoint"
	case "final":
		return "before the final answer"
	}
	return "the agent asks"
}

// Scripted answers gates from a list, for tests and rehearsals.
type Scripted struct {
	mu      sync.Mutex
	Answers []Answer
	Asked   []Question
}

// Ask returns the next answer; approval once the list is used up.
func (s *Scripted) Ask(_ context.Context, q Question) (Answer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Asked = append(s.Asked, q)
	if len(s.Answers) == 0 {
		return Answer{}, nil
	}
	a := s.Answers[0]
	s.Answers = s.Answers[1:]
	return a, nil
}
