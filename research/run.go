package research

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/report"
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
	// PaperTokens is the budget for the papers' text in the idea phase's
	// prompts (0: idea's default).
	PaperTokens int
	// Runs is the whole store: the research memory lives there. Nil: the
	// run neither reads nor adds to the memory.
	Runs *store.Store
	// NewExperimentRun opens an experiment run of its own, with this run's
	// task, sandbox and meter, for one more idea (--n-experiments); finish
	// records how it ended. Nil: only the first idea is tried.
	NewExperimentRun func(ctx context.Context, p *ExperimentParams) (run *Run, finish func(error), err error)
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
	bus     bus

	mu       sync.Mutex
	phase    string   // the phase the run is in
	phases   []string // the phases of the whole run, in order
	commands int      // sandboxed commands so far
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
	r := &Run{out: opts.Out, ID: opts.Store.ID, Dir: opts.Store.Dir}
	// Everything the run calls raises events: the model, the sandbox,
	// the person at a gate.
	if opts.Model != nil {
		opts.Model = watchModel{r: r, next: opts.Model}
	}
	if f := opts.ModelFor; f != nil {
		opts.ModelFor = func(rec llm.Recorder) agent.Model { return watchModel{r: r, next: f(rec)} }
	}
	if opts.Sandbox != nil {
		opts.Sandbox = watchRunner{r: r, next: opts.Sandbox}
	}
	if opts.Human != nil {
		opts.Human = watchHuman{r: r, next: opts.Human}
	}
	if opts.Chooser != nil {
		opts.Chooser = watchChooser{r: r, next: opts.Chooser}
	}
	r.opts = opts
	return r
}

// beginPhase raises PhaseStarted and returns the function that raises
// PhaseEnded (and the cost so far) with the phase's outcome.
func (r *Run) beginPhase(ctx context.Context, name string) func(err error) {
	r.mu.Lock()
	r.phase = name
	ev := PhaseStarted{Phase: name, Index: 1, Of: 1}
	for i, p := range r.phases {
		if p == name {
			ev.Index, ev.Of = i+1, len(r.phases)
		}
	}
	r.mu.Unlock()
	r.emit(ctx, ev)
	return func(err error) {
		status, _ := EndStatus(err)
		r.emit(ctx, PhaseEnded{Phase: name, Status: status})
		r.emitCost(ctx)
	}
}

func (r *Run) emitCost(ctx context.Context) {
	if r.opts.Meter == nil {
		return
	}
	usage, cost, _ := r.opts.Meter.Totals()
	r.emit(ctx, Cost{Tokens: usage.Total(), USD: cost.USD, Unknown: cost.Unknown})
}

// EndStatus is the status a run or phase ending with err has: done,
// stopped (interrupted, out of budget) or failed, with the error's text.
func EndStatus(err error) (status, msg string) {
	var budget *llm.BudgetError
	switch {
	case err == nil:
		return store.StatusDone, ""
	case errors.As(err, &budget), errors.Is(err, context.Canceled):
		return store.StatusStopped, err.Error()
	}
	return store.StatusFailed, err.Error()
}

// Finish records how the run ended (its status in the store) and raises
// RunEnded. Call it once, after the run's last phase.
func (r *Run) Finish(ctx context.Context, err error) {
	ctx = context.WithoutCancel(ctx)
	status, msg := EndStatus(err)
	msg = r.opts.Redact(msg)
	if status != store.StatusDone {
		r.opts.Log.Info("run ended", "status", status, "err", msg)
	}
	if serr := r.opts.Store.SetStatus(ctx, status, msg); serr != nil {
		r.opts.Log.Error("record run status", "err", serr)
	}
	e := RunEnded{Status: status, Error: msg}
	if _, serr := os.Stat(filepath.Join(r.Dir, "report.html")); serr == nil {
		e.Report = filepath.Join(r.Dir, "report.html")
	}
	r.emit(ctx, e)
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
	// Trials are the ideas tried with --n-experiments, for the report.
	Trials []report.Trial
}
