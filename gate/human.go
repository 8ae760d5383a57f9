package gate

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/store"
)

// Human asks at gates through the store: each question is a gate of Run,
// answered by whoever answers first, the Console or another process.
type Human struct {
	Run *store.Run
	// Console, when set, asks on the terminal as well.
	Console *Console
	// Poll is how often the store is read for an answer (store.GatePoll
	// when 0).
	Poll time.Duration
	// Editor edits an idea at a pick ("e N"); default $EDITOR, then vi.
	Editor string
}

var (
	_ experiment.Human = (*Human)(nil)
	_ idea.Chooser     = (*Human)(nil)
)

// Ask opens a gate for q and returns the first answer.
func (h *Human) Ask(ctx context.Context, q experiment.Question) (experiment.Answer, error) {
	kind := Kind(q)
	prompt := func(ctx context.Context, c *Console) (json.RawMessage, error) {
		line, err := c.ask(ctx, fmt.Sprintf("\n── %s ──\n%s\n[Enter] go on · s = stop · or type guidance for the agent: ",
			title(kind), termsafe.String(strings.TrimSpace(q.Text))))
		if err != nil {
			return nil, err
		}
		return json.Marshal(ParseLine(line))
	}
	raw, err := h.ask(ctx, kind, q.Text, nil, prompt)
	if err != nil {
		return experiment.Answer{}, err
	}
	var a experiment.Answer
	if err := json.Unmarshal(raw, &a); err != nil {
		return experiment.Answer{}, fmt.Errorf("gate answer %s: %w", raw, err)
	}
	return a, nil
}

// ParseLine reads a terminal answer as experiment.Terminal does: Enter
// goes on, "s" or "stop" stops, any other line is guidance.
func ParseLine(line string) experiment.Answer {
	line = strings.TrimSpace(line)
	switch strings.ToLower(line) {
	case "":
		return experiment.Answer{}
	case "s", "stop", "q", "quit":
		return experiment.Answer{Stop: true}
	}
	return experiment.Answer{Guidance: line}
}

// Choose opens a pick_idea gate with the ranking as its options and
// returns the first answer.
func (h *Human) Choose(ctx context.Context, res *idea.Result) (idea.Choice, error) {
	prompt := func(ctx context.Context, c *Console) (json.RawMessage, error) {
		text := "\n── " + title(store.GatePickIdea) + " ──\n" + termsafe.String(idea.Ranking(res))
		for {
			line, err := c.ask(ctx, fmt.Sprintf("%s\nPick an idea [1-%d, Enter = 1], e N to edit idea N, r FEEDBACK for new ideas: ", text, len(res.Ideas)))
			if err != nil {
				return nil, err
			}
			text = ""
			p, msg := parsePick(line, len(res.Ideas))
			if msg != "" {
				fmt.Fprintln(c.Out, msg)
				continue
			}
			if p.Edited != nil { // "e N": edit idea N
				edited, err := idea.Edit(ctx, h.Editor, c.Out, res.Ideas[p.Pick])
				if err != nil {
					fmt.Fprintf(c.Out, "edit failed: %v\n", termsafe.String(err.Error()))
					continue
				}
				p.Edited = edited
			}
			return json.Marshal(p)
		}
	}
	raw, err := h.ask(ctx, store.GatePickIdea, "Which idea should the experiment implement?", res.Ideas, prompt)
	if err != nil {
		return idea.Choice{}, err
	}
	var p Pick
	if err := json.Unmarshal(raw, &p); err != nil {
		return idea.Choice{}, fmt.Errorf("gate answer %s: %w", raw, err)
	}
	return idea.Choice{Pick: p.Pick, Edited: p.Edited, Regenerate: p.Regenerate, Feedback: p.Feedback}, nil
}

// parsePick reads a pick on the terminal; msg is set when the line is not
// understood. For "e N", Edited is set to a placeholder to edit.
func parsePick(line string, n int) (p Pick, msg string) {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return Pick{}, ""
	case strings.HasPrefix(line, "r "):
		if fb := strings.TrimSpace(line[2:]); fb != "" {
			return Pick{Regenerate: true, Feedback: fb}, ""
		}
	case strings.HasPrefix(line, "e "):
		k, err := strconv.Atoi(strings.TrimSpace(line[2:]))
		if err == nil && k >= 1 && k <= n {
			return Pick{Pick: k - 1, Edited: &idea.Idea{}}, ""
		}
		return Pick{}, fmt.Sprintf("no idea %q", termsafe.String(line[2:]))
	default:
		if k, err := strconv.Atoi(line); err == nil && k >= 1 && k <= n {
			return Pick{Pick: k - 1}, ""
		}
	}
	return Pick{}, fmt.Sprintf("answer with a number from 1 to %d, e N, or r FEEDBACK", n)
}

type answer struct {
	raw json.RawMessage
	err error
}

// ask opens a gate and waits for the first answer: from the console, whose
// answer is written to the store unless another came first, or from the
// store. The side that did not answer is told; a cancelled ctx cancels the
// gate.
func (h *Human) ask(ctx context.Context, kind, question string, options any,
	prompt func(context.Context, *Console) (json.RawMessage, error)) (json.RawMessage, error) {
	g, err := h.Run.OpenGate(ctx, kind, question, options)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()

	stored := make(chan store.Gate, 1)
	waitErr := make(chan error, 1)
	go func() {
		closed, err := h.Run.WaitGate(wctx, g.Seq, h.Poll)
		if err != nil {
			waitErr <- err
			return
		}
		stored <- closed
	}()
	var typed chan answer
	if h.Console != nil {
		typed = make(chan answer, 1)
		go func() {
			raw, err := prompt(wctx, h.Console)
			typed <- answer{raw, err}
		}()
	}
	for {
		select {
		case a := <-typed:
			if a.err != nil {
				if ctx.Err() != nil {
					continue // the store's wait reports it
				}
				// The terminal closed (nohup, CI): the answer comes from
				// elsewhere.
				fmt.Fprintf(h.Console.Out, "\nno answer on the terminal (%v): waiting for one from the web UI (mlrc serve), gate %d of run %s\n",
					a.err, g.Seq, g.Run)
				typed = nil
				continue
			}
			closed, err := h.Run.AnswerGate(ctx, g.Seq, a.raw, store.ByTerminal)
			var ce *store.ClosedError
			if errors.As(err, &ce) && ce.Gate.Status == store.GateAnswered {
				h.Console.tell(ce.Gate)
				return ce.Gate.Answer, nil
			}
			if err != nil {
				return nil, err
			}
			return closed.Answer, nil
		case closed := <-stored:
			if closed.Status != store.GateAnswered {
				return nil, fmt.Errorf("gate %d of run %s was %s (%s)", closed.Seq, closed.Run, closed.Status, closed.AnsweredBy)
			}
			cancel() // stops the terminal's prompt
			if h.Console != nil {
				h.Console.tell(closed)
			}
			return closed.Answer, nil
		case err := <-waitErr:
			if ctx.Err() != nil {
				h.Run.CancelGate(context.WithoutCancel(ctx), g.Seq, "the run stopped waiting")
				return nil, ctx.Err()
			}
			return nil, err
		}
	}
}

// Console asks on a terminal. One goroutine reads its input, a line at a
// time and only when a question wants one: a prompt given up (answered
// elsewhere) leaves its read pending for the next question, and between
// questions nothing reads, so an editor started for "e N" has the terminal
// to itself.
type Console struct {
	In  io.Reader
	Out io.Writer

	once    sync.Once
	want    chan struct{}
	lines   chan string
	mu      sync.Mutex // serializes prompts and what is told; guards pending and eof
	pending bool       // a line was asked for and has not been taken
	eof     bool
}

func (c *Console) start() {
	c.want = make(chan struct{})
	c.lines = make(chan string, 1)
	go func() {
		r := bufio.NewReader(c.In)
		for range c.want {
			line, err := r.ReadString('\n')
			if err != nil && line == "" {
				close(c.lines)
				return
			}
			c.lines <- strings.TrimRight(line, "\r\n")
		}
	}()
}

// ask prints text and reads one line; io.EOF when the input has ended.
func (c *Console) ask(ctx context.Context, text string) (string, error) {
	c.once.Do(c.start)
	c.mu.Lock()
	fmt.Fprint(c.Out, text)
	if c.eof {
		c.mu.Unlock()
		return "", io.EOF
	}
	if !c.pending {
		c.pending = true
		c.want <- struct{}{} // the reader is idle: it takes this at once
	}
	c.mu.Unlock()
	select {
	case <-ctx.Done():
		return "", ctx.Err()
	case line, ok := <-c.lines:
		c.mu.Lock()
		defer c.mu.Unlock()
		c.pending = false
		if !ok {
			c.eof = true
			return "", io.EOF
		}
		return line, nil
	}
}

// tell says on the terminal that g was answered from elsewhere.
func (c *Console) tell(g store.Gate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.Out, "\nanswered from the %s: %s\n", g.AnsweredBy, termsafe.String(Describe(g)))
}
