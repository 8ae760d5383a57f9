// Package agent is the generic tool-calling loop: it builds each request
// from a brief, a compact running summary and the last few steps in full,
// calls the model, runs the tools it asks for, and hands every completed
// step to hooks that persist it. Stop conditions and loop detection are
// small functions, not branches of the loop.
//
// The loop is deterministic given its history: a run resumed from its
// completed steps builds exactly the request it would have sent, so a
// recorded answer can be reused instead of asking the model again.
package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mlrc/mlrc/llm"
)

// Model is what the agent calls; llm.Provider satisfies it.
type Model interface {
	Complete(ctx context.Context, req *llm.Request) (*llm.Response, error)
}

// Tool is one action the model may take.
type Tool interface {
	Definition() llm.Tool
	// Call runs the tool. A mistake the model should see (file not found,
	// an edit that did not match) is a Result with IsError; only an
	// infrastructure failure is an error, and it ends the run.
	Call(ctx context.Context, args json.RawMessage) (Result, error)
}

// Result is what a tool tells the model.
type Result struct {
	Content string
	IsError bool
	// Final ends the run after this step (the final answer).
	Final bool
	// Summary is a one-line account for the running summary; empty means
	// one is made from the call and the content.
	Summary string
	// Data is kept with the step for hooks and reports (e.g. a metric).
	Data json.RawMessage
}

// Outcome is one tool call and its result within a step.
type Outcome struct {
	Call    llm.ToolCall    `json:"call"`
	Content string          `json:"content"`
	IsError bool            `json:"is_error,omitempty"`
	Summary string          `json:"summary"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// Step is one completed turn: the model's message and what its tool calls
// returned. Steps are what is persisted and what a resumed run replays.
type Step struct {
	N        int         `json:"n"` // 1-based
	Message  llm.Message `json:"message"`
	Outcomes []Outcome   `json:"outcomes,omitempty"`
	// Notes are told to the model with the results: loop warnings, limits.
	Notes []string `json:"notes,omitempty"`
	// Guidance is what a human said before this step.
	Guidance string    `json:"guidance,omitempty"`
	Usage    llm.Usage `json:"usage"`
	Final    bool      `json:"final,omitempty"`
}

// Agent runs the loop.
type Agent struct {
	Model  Model
	System string
	// Brief is the task and the plan, the first thing the model reads.
	Brief string
	Tools []Tool
	// KeepLast is how many recent steps are sent in full; older ones are
	// sent as one summary line each. Default 4.
	KeepLast int
	// MaxContent cuts each tool result in the context to its head and tail.
	// Default 6000 characters.
	MaxContent int
	// MaxSteps bounds the run. Default 30.
	MaxSteps  int
	MaxTokens int
	// Checks run after each step and may add notes for the model (loop
	// detection) or stop the run. Default: DefaultChecks().
	Checks []Check
	// Before is called before each step; it may return guidance for the
	// model or stop the run (a human gate). Optional.
	Before func(ctx context.Context, next int, history []Step) (Gate, error)
	// After is called with each completed step before the next begins; it
	// persists it. An error ends the run.
	After func(ctx context.Context, s Step) error
	// OnDelta streams the model's text, optional.
	OnDelta func(llm.Delta)
}

// Gate is a decision taken before a step.
type Gate struct {
	Stop     bool
	Reason   string
	Guidance string
}

// Check looks at the history after each step. It returns notes for the
// model and, to end the run, a stop reason.
type Check func(history []Step) (notes []string, stop string)

// Stopped says why a run ended.
type Stopped struct {
	Reason string // "final", "max_steps", or a check's or gate's reason
	Steps  []Step
}

// ErrNoTools is returned when an agent has no tools.
var ErrNoTools = errors.New("agent: no tools")

func (a *Agent) defaults() {
	if a.KeepLast <= 0 {
		a.KeepLast = 4
	}
	if a.MaxContent <= 0 {
		a.MaxContent = 6000
	}
	if a.MaxSteps <= 0 {
		a.MaxSteps = 30
	}
	if a.Checks == nil {
		a.Checks = DefaultChecks()
	}
}

// Run continues from history (empty for a new run) until the model gives
// its final answer, a check or gate stops it, or MaxSteps is reached.
func (a *Agent) Run(ctx context.Context, history []Step) (*Stopped, error) {
	if len(a.Tools) == 0 {
		return nil, ErrNoTools
	}
	a.defaults()
	tools := map[string]Tool{}
	var defs []llm.Tool
	for _, t := range a.Tools {
		d := t.Definition()
		tools[d.Name] = t
		defs = append(defs, d)
	}
	steps := append([]Step(nil), history...)
	if n := len(steps); n > 0 && steps[n-1].Final {
		return &Stopped{Reason: "final", Steps: steps}, nil
	}
	for {
		next := len(steps) + 1
		if next > a.MaxSteps {
			return &Stopped{Reason: fmt.Sprintf("max_steps: reached the limit of %d steps", a.MaxSteps), Steps: steps}, nil
		}
		var gate Gate
		if a.Before != nil {
			g, err := a.Before(ctx, next, steps)
			if err != nil {
				return &Stopped{Reason: "error", Steps: steps}, err
			}
			if g.Stop {
				return &Stopped{Reason: orDefault(g.Reason, "stopped by a person"), Steps: steps}, nil
			}
			gate = g
		}
		req := a.request(steps, gate.Guidance, defs)
		if a.OnDelta != nil {
			req.Stream = a.OnDelta
		}
		resp, err := a.Model.Complete(ctx, req)
		if err != nil {
			return &Stopped{Reason: "error", Steps: steps}, err
		}
		step := Step{N: next, Message: resp.Message, Usage: resp.Usage, Guidance: gate.Guidance}
		step.Message.Role = llm.RoleAssistant
		calls := resp.ToolCalls()
		if len(calls) == 0 {
			step.Notes = append(step.Notes, "You answered without calling a tool. Act through the tools; when you are done, call final_answer.")
		}
		for _, c := range calls {
			o, final, err := a.call(ctx, tools, c)
			if err != nil {
				return &Stopped{Reason: "error", Steps: steps}, err
			}
			step.Outcomes = append(step.Outcomes, o)
			step.Final = step.Final || final
		}
		all := append(steps, step)
		stop := ""
		for _, check := range a.Checks {
			notes, why := check(all)
			step.Notes = append(step.Notes, notes...)
			if why != "" && stop == "" {
				stop = why
			}
		}
		steps = append(steps, step)
		if a.After != nil {
			if err := a.After(ctx, step); err != nil {
				return &Stopped{Reason: "error", Steps: steps}, err
			}
		}
		switch {
		case step.Final:
			return &Stopped{Reason: "final", Steps: steps}, nil
		case stop != "":
			return &Stopped{Reason: stop, Steps: steps}, nil
		}
	}
}

func (a *Agent) call(ctx context.Context, tools map[string]Tool, c llm.ToolCall) (Outcome, bool, error) {
	o := Outcome{Call: c}
	t, ok := tools[c.Name]
	if !ok {
		o.Content = fmt.Sprintf("There is no tool %q. The tools are: %s.", c.Name, strings.Join(names(tools), ", "))
		o.IsError = true
		o.Summary = fmt.Sprintf("%s: no such tool", c.Name)
		return o, false, nil
	}
	args := c.Arguments
	if t := strings.TrimSpace(string(args)); t == "" || t == "null" {
		args = json.RawMessage("{}")
	}
	r, err := t.Call(ctx, args)
	if err != nil {
		return o, false, fmt.Errorf("tool %s: %w", c.Name, err)
	}
	o.Content, o.IsError, o.Data = r.Content, r.IsError, r.Data
	o.Summary = r.Summary
	if o.Summary == "" {
		o.Summary = summarize(c, r)
	}
	return o, r.Final, nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
