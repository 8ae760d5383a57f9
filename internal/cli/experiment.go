package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/replay"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

func (a *app) experimentCommand() *cobra.Command {
	var p research.ExperimentParams
	var auto bool
	cmd := &cobra.Command{
		Use:   "experiment --task DIR [--plan FILE] [--model M] [--search linear|tree] [--auto|--human] [--max-steps N]",
		Short: "Run the ExperimentAgent on a task: implement a plan, run, debug and improve",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.Task == "" {
				return usageError("--task DIR is required: a task directory with task.yaml (e.g. examples/tasks/digits)")
			}
			if auto && p.Human {
				return usageError("--auto and --human exclude each other")
			}
			switch p.Search {
			case "linear", "tree":
			default:
				return usageError("--search %q: want linear or tree", p.Search)
			}
			if err := task.CheckReference(p.Reference); err != nil {
				return usageError("--%w", err)
			}
			abs, err := filepath.Abs(p.Task)
			if err != nil {
				return err
			}
			p.Task = abs
			if p.PlanFile != "" {
				plan, err := research.ReadPlan(p.PlanFile)
				if err != nil {
					return usageError("%w", err)
				}
				p.Plan = plan
			}
			return a.runExperiment(cmd.Context(), &p, "")
		},
	}
	f := cmd.Flags()
	f.StringVar(&p.Task, "task", "", "task directory (with task.yaml)")
	f.StringVar(&p.PlanFile, "plan", "", "research plan: a Markdown/text file, or ideas.json from `mlrc idea` (its top idea)")
	f.StringVar(&p.Search, "search", "linear", "search: linear (one agent) or tree (drafts, debugging, improvement)")
	f.BoolVar(&auto, "auto", false, "run without human gates (the default)")
	f.BoolVar(&p.Human, "human", false, "ask a person at gates: before the first run, every --gate-every steps, before the final answer")
	f.IntVar(&p.Every, "gate-every", 5, "with --human, a checkpoint every N steps")
	f.IntVar(&p.MaxSteps, "max-steps", 0, "most agent steps (default: the task's limits.max_steps)")
	f.IntVar(&p.Workers, "workers", 2, "with --search tree, parallel workers")
	f.IntVar(&p.Seed, "seed", 0, "seed passed to the task as MLRC_SEED")
	f.StringVar(&p.Reference, "reference", "", research.ReferenceUsage)
	return cmd
}

func (a *app) resumeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "resume RUN",
		Short: "Continue a killed or stopped run from its last completed step",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			info, err := func() (store.RunInfo, error) {
				defer st.Close()
				run, err := st.Run(ctx, args[0])
				if err != nil {
					return store.RunInfo{}, err
				}
				return run.Info(ctx)
			}()
			if err != nil {
				return usageError("%w (list runs with `mlrc runs`)", err)
			}
			if info.Status == store.StatusDone {
				return usageError("run %s is already done; nothing to resume", info.ID)
			}
			// Fail at once, before the task or the model is looked at, when
			// another process works on the run; taking the lock (in
			// reopenRun) settles a race.
			if pid, held, err := store.Holder(info.Dir); err == nil && held {
				return inUse(&store.InUseError{Run: info.ID, PID: pid})
			}
			var rc research.Config
			if err := json.Unmarshal(info.Config, &rc); err != nil {
				return fmt.Errorf("run %s: read its config: %w", info.ID, err)
			}
			switch {
			case rc.Research != nil:
				_, err := a.runResearch(ctx, rc.Research, info.ID)
				return err
			case rc.Experiment != nil && rc.ReplayOf == "":
				return a.runExperiment(ctx, rc.Experiment, info.ID)
			}
			return usageError("run %s (%s) cannot be resumed: only experiment and research runs can", info.ID, info.Kind)
		},
	}
}

// runExperiment starts the run (resumeID empty) or continues it.
func (a *app) runExperiment(ctx context.Context, p *research.ExperimentParams, resumeID string) (err error) {
	t, err := task.Load(p.Task)
	if err != nil {
		return usageError("%w", err)
	}
	if p.Model == "" {
		if p.Model, err = a.modelName(ctx); err != nil {
			return err
		}
	}
	r, err := a.openLabRun(ctx, t, p.Model, "experiment", research.Config{Settings: a.cfg, Experiment: p}, resumeID)
	if err != nil {
		return err
	}
	defer func() { r.end(a, err) }()
	fmt.Fprintf(a.env.Stdout, "run %s · task %s · model %s · sandbox %s\n", r.s.run.ID, t.Name, p.Model, r.lab.isolation)
	_, err = a.researchRun(r, p.Model).Experiment(ctx, p)
	return err
}

// labRun is a run that uses the sandbox and a model, with what it runs with.
type labRun struct {
	st  *store.Store
	s   *session
	lab labSetup
	// run is the research run made of it (researchRun), followed on the
	// terminal until unfollow.
	run      *research.Run
	unfollow func()
}

// openLabRun opens the store, checks the model and the sandbox, then
// creates the run (or reopens it, to resume it) and dresses the model for
// it: recorded, metered and, on resume, answering the interrupted steps
// from their recorded calls.
func (a *app) openLabRun(ctx context.Context, t *task.Task, model, kind string, config research.Config, resumeID string) (_ *labRun, err error) {
	st, err := a.openStore(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			st.Close()
		}
	}()
	backend, err := a.backend(model, st)
	if err != nil {
		return nil, usageError("%w", err)
	}
	runner, isolation, err := a.runner()
	if err != nil {
		return nil, err
	}
	var s *session
	if resumeID == "" {
		s, err = a.startRunConfig(ctx, st, kind, model, config)
	} else {
		s, err = a.reopenRun(ctx, st, resumeID)
	}
	if err != nil {
		return nil, err
	}
	meter := a.meter()
	m, err := a.model(model, st, meter, s.run)
	var reuse *replay.Reuse
	if err == nil && resumeID != "" {
		if reuse, err = research.Resume(ctx, s.run, meter); err == nil {
			a.log.Info("resuming", "reusable answers", reuse.Unused())
			m = reuse.Wrap(m, redactingRecorder{next: s.run, a: a})
		}
	}
	if err != nil {
		a.finishRun(s, err)
		s.close()
		return nil, err
	}
	return &labRun{st: st, s: s, lab: labSetup{task: t, runner: runner, isolation: isolation, backend: backend, meter: meter, model: m, reuse: reuse}}, nil
}

// end records how the run ended and closes it.
func (r *labRun) end(a *app, err error) {
	if r.run != nil {
		r.run.Finish(context.Background(), err)
	} else {
		a.finishRun(r.s, err)
	}
	if r.unfollow != nil {
		r.unfollow()
	}
	if errors.Is(err, context.Canceled) {
		a.live.Line(fmt.Sprintf("stopped; continue with `mlrc resume %s`", r.s.run.ID))
	}
	r.s.close()
	r.st.Close()
}

// labSetup is what an experiment phase runs with.
type labSetup struct {
	task      *task.Task
	runner    sandbox.Runner
	isolation string
	backend   llm.Provider
	meter     *llm.Meter
	model     llm.Provider
	// reuse, on a resume, answers from the record what the run already
	// asked in steps that were cut off; nil otherwise.
	reuse *replay.Reuse
}

// researchRun is the research run of r: its store run, task, sandbox and
// model, with the terminal and the store (the web UI, an MCP client) to
// answer gates; its progress shows on the terminal.
func (a *app) researchRun(r *labRun, name string) *research.Run {
	r.run = research.New(a.researchOptions(r, name))
	r.unfollow = a.follow(r.run)
	return r.run
}

// researchOptions are what the research run of r works with.
func (a *app) researchOptions(r *labRun, name string) research.Options {
	lab := r.lab
	human := a.gateHuman(r.s.run)
	return research.Options{
		Store: r.s.run, Log: r.s.log, Task: lab.task, Sandbox: lab.runner, Isolation: lab.isolation,
		Python: a.cfg.Python, Catalog: experiment.NewCatalog(a.cfg.Python, a.env.Getenv),
		Model: lab.model, Meter: lab.meter,
		// Each call recorded with its own step: tree search runs nodes in
		// parallel, so several steps are open at once.
		ModelFor: func(rec llm.Recorder) agent.Model {
			m := a.dress(name, lab.backend, lab.meter, rec)
			if lab.reuse != nil {
				return lab.reuse.Wrap(m, redactingRecorder{next: rec, a: a})
			}
			return m
		},
		Human:   human,
		Chooser: human,
		Literature: func(ctx context.Context, p research.IdeaParams) (*research.Literature, error) {
			return a.literature(ctx, r.st, p)
		},
		Packages:    pythonPackages,
		Redact:      a.redact.String,
		Out:         a.env.Stdout,
		Err:         a.env.Stderr,
		PaperTokens: idea.PaperTokens(a.cfg.LLM.ContextWindow, a.cfg.LLM.MaxTokens),
		Runs:        r.st,
		NewExperimentRun: func(ctx context.Context, p *research.ExperimentParams) (*research.Run, func(error), error) {
			return a.experimentRunOf(ctx, r, p)
		},
	}
}

// experimentRunOf opens an experiment run of its own for one more idea of
// the research run r (--n-experiments): the same task, sandbox and meter,
// its own record and model.
func (a *app) experimentRunOf(ctx context.Context, r *labRun, p *research.ExperimentParams) (*research.Run, func(error), error) {
	cs, err := a.startRunConfig(ctx, r.st, "experiment", p.Model, research.Config{Settings: a.cfg, Experiment: p})
	if err != nil {
		return nil, nil, err
	}
	sub := &labRun{st: r.st, s: cs, lab: r.lab}
	sub.lab.reuse = nil
	if sub.lab.model, err = a.model(p.Model, r.st, r.lab.meter, cs.run); err != nil {
		a.finishRun(cs, err)
		cs.close()
		return nil, nil, err
	}
	run := research.New(a.researchOptions(sub, p.Model))
	unsubscribe := run.Subscribe(a.live.Event)
	return run, func(err error) {
		run.Finish(context.Background(), err)
		unsubscribe()
		cs.close()
	}, nil
}

// follow shows the run's progress on the terminal until the returned
// function is called.
func (a *app) follow(r *research.Run) func() {
	unsubscribe := r.Subscribe(a.live.Event)
	a.live.Start()
	return func() {
		unsubscribe()
		a.live.Stop()
	}
}

// sandbox returns the configured sandbox and a name for its isolation: the
// kind, or the warning that says how a fallback is weaker.
func (a *app) sandbox() (sandbox.Runner, string, error) {
	r, warning, err := sandbox.New(a.cfg.Sandbox)
	if err != nil {
		return nil, "", err
	}
	if warning != "" {
		return r, warning, nil
	}
	return r, a.cfg.Sandbox, nil
}
