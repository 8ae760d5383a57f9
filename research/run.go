package research

import (
	"context"
	"io"
	"log/slog"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Options are what a run works with. The caller (the command line, a
// server) opens the store's run and builds the model; the run sequences
// the phases.
type Options struct {
	// Store is the run in the store: every step, call and event of the
	// run is recorded there. Required.
	Store *store.Run
	Log   *slog.Logger
	// Task is the task experiments run on; nil for an idea run without a
	// task.
	Task *task.Task
	// Sandbox runs the experiments; Isolation names it for the user.
	Sandbox   sandbox.Runner
	Isolation string
	// Python runs the tasks' commands; Catalog lists what retrieve offers.
	Python  string
	Catalog *experiment.Catalog
	// Model is the run's model, recorded into Store; ModelFor returns one
	// recorded into rec (each tree-search node records into its own step).
	Model    llm.Provider
	ModelFor func(rec llm.Recorder) agent.Model
	// Meter counts the run's tokens and cost against the budget.
	Meter *llm.Meter
	// Human answers the experiment's gates when the run asks a person
	// (Params.Human); Chooser picks the idea. A terminal, a web page, or
	// both, first answer wins: that is the caller's choice.
	Human   experiment.Human
	Chooser idea.Chooser
	// Literature opens what the idea phase searches.
	Literature func(ctx context.Context, p IdeaParams) (*Literature, error)
	// Packages lists the Python packages for the report's manifest.
	Packages func(ctx context.Context, python string) (map[string]string, error)
	// Redact masks secrets in text the run stores or prints.
	Redact func(string) string
	// Out receives the run's lines for the user; Err its warnings.
	Out, Err io.Writer
}

// Literature is what the idea phase searches: every source, the local
// index among them (nil without one, then novelty is not checked).
type Literature struct {
	Sources []lit.Source
	Index   lit.Source
	Close   func()
}

// Run is one run in progress. Make one with New, then run it whole
// (Research, Experiment) or phase by phase.
type Run struct {
	opts Options
	out  io.Writer
	// ID and Dir are the store run's.
	ID, Dir string
}

// New returns the run for opts.
func New(opts Options) *Run {
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	if opts.Err == nil {
		opts.Err = io.Discard
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Redact == nil {
		opts.Redact = func(s string) string { return s }
	}
	return &Run{opts: opts, out: opts.Out, ID: opts.Store.ID, Dir: opts.Store.Dir}
}

// State is what a research run has so far: the phase it is in and what
// the phases before it produced.
type State struct {
	Phase    string
	TaskHash string
	Plan     string
	Ideas    *idea.Result
	Result   *experiment.Result
	Verdict  *validate.Verdict
}
