package research

import (
	"context"
	"sync"

	"github.com/mlrc/mlrc/validate"
)

// Event is one thing that happened in a run, delivered to the run's
// subscribers as it happens. Type is the event's name in the store's
// events table for the events that are kept there (Persisted); the JSON of
// an event is its struct's.
type Event interface {
	Type() string
}

// PhaseStarted: a phase began (Index of Of: 1 of 4 for a research run).
type PhaseStarted struct {
	Phase string `json:"phase"`
	Index int    `json:"index"`
	Of    int    `json:"of"`
}

// PhaseEnded: a phase ended with Status done, failed or stopped.
type PhaseEnded struct {
	Phase  string `json:"phase"`
	Status string `json:"status"`
}

// StepStarted: a step of a phase began: an idea stage ("elements",
// "review"), an agent step, a validation.
type StepStarted struct {
	Phase string `json:"phase"`
	Step  int    `json:"step"`
	Name  string `json:"name"`
}

// StepEnded: a step ended. For the experiment's agent steps Action is what
// the agent did, Metric this step's last run's metric and Best the best so
// far (nil: none).
type StepEnded struct {
	Phase  string   `json:"phase"`
	Step   int      `json:"step"`
	Name   string   `json:"name"`
	Status string   `json:"status"`
	Action string   `json:"action,omitempty"`
	Metric *float64 `json:"metric,omitempty"`
	Best   *float64 `json:"best,omitempty"`
}

// ModelWaiting: a model call was sent; ModelAnswered: it came back.
type ModelWaiting struct {
	Phase string `json:"phase"`
}

// ModelAnswered: the call took Seconds; Error says why it failed.
type ModelAnswered struct {
	Phase   string  `json:"phase"`
	Seconds float64 `json:"seconds"`
	Tokens  int64   `json:"tokens"`
	Error   string  `json:"error,omitempty"`
}

// CommandStarted: a command began in the sandbox: N numbers the run's
// commands (1, 2, …), Name is "prepare", "run" (an experiment), "evaluate"
// or "exec"; its output goes to the files Stdout and Stderr (LogPath).
type CommandStarted struct {
	Phase  string `json:"phase"`
	N      int    `json:"n"`
	Name   string `json:"name"`
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// CommandOutput: one line the command printed (Stream "stdout" or
// "stderr"). Never kept in the store: the log files hold it all.
type CommandOutput struct {
	N      int    `json:"n"`
	Stream string `json:"stream"`
	Line   string `json:"line"`
}

// CommandProgress: a running command's elapsed time and the memory its
// processes hold now (bytes; 0 when unknown), every second or so.
type CommandProgress struct {
	N       int     `json:"n"`
	Seconds float64 `json:"seconds"`
	Memory  int64   `json:"memory"`
}

// CommandEnded: a command ended (ExitCode -1: killed; Error: it could not
// run), after Seconds, its processes having held at most PeakMemory bytes.
type CommandEnded struct {
	Phase      string  `json:"phase"`
	N          int     `json:"n"`
	Name       string  `json:"name"`
	ExitCode   int     `json:"exit_code"`
	Seconds    float64 `json:"seconds"`
	PeakMemory int64   `json:"peak_memory,omitempty"`
	Stdout     string  `json:"stdout"`
	Stderr     string  `json:"stderr"`
	Error      string  `json:"error,omitempty"`
}

// Metric: the experiment's metric after a step that ran something, with
// the best so far and the baseline.
type Metric struct {
	Step     int     `json:"step"`
	Value    float64 `json:"value"`
	Best     float64 `json:"best"`
	Baseline float64 `json:"baseline"`
}

// GateOpened: the run asks a person (Gate "ideas", "first_run",
// "checkpoint", "final", "ask"); GateAnswered: the answer.
type GateOpened struct {
	Gate string `json:"gate"`
	Text string `json:"text"`
}

// GateAnswered: Stop ends the run; Guidance enters the agent's prompt.
type GateAnswered struct {
	Gate     string `json:"gate"`
	Stop     bool   `json:"stop,omitempty"`
	Guidance string `json:"guidance,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Verdict: validation decided; its JSON is the verdict's (verdict.json).
type Verdict struct {
	*validate.Verdict
}

// Cost: what the run has spent so far, at the end of each phase.
type Cost struct {
	Tokens  int64   `json:"tokens"`
	USD     float64 `json:"usd"`
	Unknown int     `json:"unknown_price_calls,omitempty"`
}

// Warning: something was repaired, skipped or is weaker than it should be.
type Warning struct {
	Phase   string `json:"phase"`
	Message string `json:"message"`
}

// RunEnded: the run's process is done with it: Status done, failed or
// stopped; Report is the report's path when one was written.
type RunEnded struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	Report string `json:"report,omitempty"`
}

func (PhaseStarted) Type() string    { return "phase_started" }
func (PhaseEnded) Type() string      { return "phase_ended" }
func (StepStarted) Type() string     { return "step_started" }
func (StepEnded) Type() string       { return "step_ended" }
func (ModelWaiting) Type() string    { return "model_waiting" }
func (ModelAnswered) Type() string   { return "model_answered" }
func (CommandStarted) Type() string  { return "command_started" }
func (CommandOutput) Type() string   { return "command_output" }
func (CommandProgress) Type() string { return "command_progress" }
func (CommandEnded) Type() string    { return "command_ended" }
func (Metric) Type() string          { return "metric" }
func (GateOpened) Type() string      { return "gate_opened" }
func (GateAnswered) Type() string    { return "gate_answered" }
func (Verdict) Type() string         { return "verdict_decided" }
func (Cost) Type() string            { return "cost" }
func (Warning) Type() string         { return "warning" }
func (RunEnded) Type() string        { return "run_ended" }

// Persisted says whether events of e's type are kept in the store's events
// table (and events.jsonl), for other processes to follow the run: the
// coarse ones. Model calls are in the llm_calls table, steps in the steps
// table, command output in the log files. Gates are not: the store keeps
// them and writes its own gate_opened and gate_closed events as they open
// and close, whoever answers.
func Persisted(e Event) bool {
	switch e.(type) {
	case PhaseStarted, PhaseEnded, CommandEnded, Metric, Verdict, Cost, Warning, RunEnded:
		return true
	}
	return false
}

// bus delivers a run's events to its subscribers, in order, one at a time.
type bus struct {
	mu   sync.Mutex
	next int
	subs map[int]func(Event)
}

// Subscribe calls f with each event of the run from now on, until the
// returned function is called. f is called from the goroutine that caused
// the event, one event at a time: it must return quickly.
func (r *Run) Subscribe(f func(Event)) (unsubscribe func()) {
	b := &r.bus
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]func(Event){}
	}
	id := b.next
	b.next++
	b.subs[id] = f
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		delete(b.subs, id)
	}
}

// emit delivers e to the subscribers and keeps it in the store when it is
// a persisted one. A failure to store it is logged: an event is never
// worth ending a run for.
func (r *Run) emit(ctx context.Context, e Event) {
	b := &r.bus
	b.mu.Lock()
	for _, f := range b.subs {
		f(e)
	}
	b.mu.Unlock()
	if Persisted(e) {
		if err := r.opts.Store.Emit(context.WithoutCancel(ctx), e.Type(), e); err != nil {
			r.opts.Log.Warn("record event", "type", e.Type(), "err", err)
		}
	}
}
