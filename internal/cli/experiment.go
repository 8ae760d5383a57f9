package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/replay"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// experimentParams are the settings of an experiment run, stored with the
// run so that `mlrc resume` continues it exactly.
type experimentParams struct {
	Task     string `json:"task"` // absolute task directory
	Plan     string `json:"plan,omitempty"`
	PlanFile string `json:"plan_file,omitempty"`
	Model    string `json:"model"`
	Search   string `json:"search"`
	Human    bool   `json:"human"`
	Every    int    `json:"gate_every,omitempty"`
	MaxSteps int    `json:"max_steps,omitempty"`
	Workers  int    `json:"workers,omitempty"`
	Seed     int    `json:"seed"`
}

// runConfig is what a run stores as its config: mlrc's settings and the
// command's own.
type runConfig struct {
	Settings   any               `json:"settings"`
	Experiment *experimentParams `json:"experiment,omitempty"`
	Research   *researchParams   `json:"research,omitempty"`
	ReplayOf   string            `json:"replay_of,omitempty"`
}

func (a *app) experimentCommand() *cobra.Command {
	var p experimentParams
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
			abs, err := filepath.Abs(p.Task)
			if err != nil {
				return err
			}
			p.Task = abs
			if p.PlanFile != "" {
				plan, err := readPlan(p.PlanFile)
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
	return cmd
}

// readPlan reads a plan file: text or Markdown, or an ideas.json from
// mlrc idea, whose first idea (the chosen one) becomes the plan.
func readPlan(path string) (string, error) {
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		res, err := idea.Read(path)
		if err != nil {
			return "", fmt.Errorf("plan: %w", err)
		}
		if len(res.Ideas) == 0 {
			return "", fmt.Errorf("plan %s holds no idea", path)
		}
		return idea.PlanText(res.Ideas[0]), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read plan: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("plan %s is empty", path)
	}
	return string(b), nil
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
			var rc runConfig
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
func (a *app) runExperiment(ctx context.Context, p *experimentParams, resumeID string) (err error) {
	t, err := task.Load(p.Task)
	if err != nil {
		return usageError("%w", err)
	}
	if p.Model == "" {
		if p.Model, err = a.modelName(ctx); err != nil {
			return err
		}
	}
	r, err := a.openLabRun(ctx, t, p.Model, "experiment", runConfig{Settings: a.cfg, Experiment: p}, resumeID)
	if err != nil {
		return err
	}
	defer func() { r.end(a, err) }()
	fmt.Fprintf(a.env.Stdout, "run %s · task %s · model %s · sandbox %s\n", r.s.run.ID, t.Name, p.Model, r.lab.isolation)
	_, err = a.experimentPhase(ctx, r.s, p, r.lab)
	return err
}

// labRun is a run that uses the sandbox and a model, with what it runs with.
type labRun struct {
	st  *store.Store
	s   *session
	lab labSetup
}

// openLabRun opens the store, checks the model and the sandbox, then
// creates the run (or reopens it, to resume it) and dresses the model for
// it: recorded, metered and, on resume, answering the interrupted steps
// from their recorded calls.
func (a *app) openLabRun(ctx context.Context, t *task.Task, model, kind string, config runConfig, resumeID string) (_ *labRun, err error) {
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
		if reuse, err = a.resumeModel(ctx, s.run, meter); err == nil {
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
	a.finishRun(r.s, err)
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

// experimentPhase runs the ExperimentAgent in the run s and prints its
// outcome.
func (a *app) experimentPhase(ctx context.Context, s *session, p *experimentParams, lab labSetup) (*experiment.Result, error) {
	out := a.env.Stdout
	t, meter := lab.task, lab.meter
	if !strings.HasPrefix(lab.isolation, "bwrap") {
		fmt.Fprintf(a.env.Stderr, "mlrc: WARNING: experiments run with weaker isolation: %s\n", lab.isolation)
	}
	cfg := experiment.Config{
		Task: t, Sandbox: lab.runner, Isolation: lab.isolation, Python: a.cfg.Python, Seed: p.Seed,
		Model: lab.model, Plan: p.Plan, MaxSteps: p.MaxSteps, Run: s.run, Log: s.log,
		Catalog:  experiment.NewCatalog(a.cfg.Python, a.env.Getenv),
		Progress: a.progress(meter),
		// Each call recorded with its own step: tree search runs nodes in
		// parallel, so several steps are open at once.
		ModelFor: func(rec llm.Recorder) agent.Model {
			m := a.dress(p.Model, lab.backend, meter, rec)
			if lab.reuse != nil {
				return lab.reuse.Wrap(m, redactingRecorder{next: rec, a: a})
			}
			return m
		},
	}
	if p.Human {
		cfg.Gates = experiment.Gates{Human: &experiment.Terminal{In: a.env.Stdin, Out: out}, Every: p.Every}
	}
	var res *experiment.Result
	var err error
	switch p.Search {
	case "tree":
		res, err = experiment.Tree(ctx, cfg, experiment.TreeOptions{Workers: p.Workers})
	default:
		res, err = experiment.Run(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	usage, cost, _ := meter.Totals()
	fmt.Fprintf(out, "\nended: %s after %d steps\n", res.Reason, res.Steps)
	fmt.Fprintf(out, "baseline %s = %.6g\n", res.Metric, res.Baseline)
	if res.Best != nil {
		fmt.Fprintf(out, "best     %s = %.6g (run %d, %s)\n", res.Metric, *res.Best.Metric, res.Best.Run, change(res.Baseline, *res.Best.Metric))
		fmt.Fprintf(out, "best code: %s (diff: %s)\n", res.BestDir, filepath.Join(s.run.Dir, "best.diff"))
	} else {
		fmt.Fprintf(out, "no run beat the baseline\n")
	}
	fmt.Fprintf(out, "tokens %d · cost %s · run directory %s\n", usage.Total(), costText(cost), s.run.Dir)
	return res, nil
}

// resumeModel reads back what the run has spent into the meter and returns
// the answers it may reuse (see reusable), so that no call already made is
// sent again.
func (a *app) resumeModel(ctx context.Context, run *store.Run, meter *llm.Meter) (*replay.Reuse, error) {
	if _, err := run.AbandonSteps(ctx); err != nil {
		return nil, err
	}
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	phases, err := run.Phases(ctx)
	if err != nil {
		return nil, err
	}
	calls, err := run.Calls(ctx)
	if err != nil {
		return nil, err
	}
	var usage llm.Usage
	var cost llm.Cost
	sent := 0
	for _, c := range calls {
		usage, cost = usage.Add(c.Usage), cost.Add(c.Cost)
		if c.ReplayOf == 0 {
			sent++
		}
	}
	meter.Restore(usage, cost, sent)
	reuse := reusable(steps, phases, calls)
	if len(reuse) > 0 {
		a.log.Info("reusing recorded answers of interrupted steps", "calls", len(reuse))
	}
	return replay.NewReuse(reuse), nil
}

// redoPhases are the phases a resumed run starts again from their beginning
// when they did not end done: their steps that did end done are redone too.
var redoPhases = map[string]bool{"idea": true}

// reusable returns the answers a resumed run may reuse, in order: the
// successful calls of the steps that were cut off (killed, or stopped by an
// interrupt), and of every step of a phase that was cut off and starts again
// from scratch, that no later call has reused yet. A reused answer is
// recorded again with the step that used it (ReplayOf); that copy, not the
// first, is the one to reuse should that step be cut off as well. Failed
// steps and phases are left out: their answers may be what failed, and a
// resume asks again.
func reusable(steps []store.StepInfo, phases []store.PhaseInfo, calls []llm.Call) []llm.Call {
	redo := map[string]bool{}
	for _, p := range phases {
		if redoPhases[p.Name] && (p.Status == store.StatusRunning || p.Status == store.StatusStopped) {
			redo[p.Name] = true
		}
	}
	open := map[int64]bool{}
	for _, s := range steps {
		if s.Status == store.StatusStopped || s.Status == store.StatusRunning || redo[s.Phase] {
			open[s.Seq] = true
		}
	}
	reused := map[int64]bool{}
	for _, c := range calls {
		if c.ReplayOf != 0 {
			reused[c.ReplayOf] = true
		}
	}
	var out []llm.Call
	for _, c := range calls {
		if c.Step != 0 && open[c.Step] && c.Response != nil && !reused[c.Seq] {
			out = append(out, c)
		}
	}
	return out
}

func change(base, best float64) string {
	if base == 0 {
		return fmt.Sprintf("%+.6g", best-base)
	}
	return fmt.Sprintf("%+.2f%% vs baseline", 100*(best-base)/abs(base))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// progress prints one line per event: step, action, metric so far, tokens
// and cost so far.
func (a *app) progress(meter *llm.Meter) func(experiment.Event) {
	start := time.Now()
	return func(e experiment.Event) {
		out := a.env.Stdout
		switch e.Kind {
		case "step":
			usage, cost, _ := meter.Totals()
			metric := "-"
			if e.Metric != nil {
				metric = fmt.Sprintf("%.6g", *e.Metric)
			}
			best := "-"
			if e.Best != nil {
				best = fmt.Sprintf("%.6g", *e.Best)
			}
			fmt.Fprintf(out, "step %3d │ %-60s │ metric %s · best %s │ %d tok · %s · %s\n", e.Step, clipLine(e.Action, 60), metric, best,
				usage.Total(), costText(cost), time.Since(start).Round(time.Second))
		default:
			if e.Message != "" {
				fmt.Fprintf(out, "%s: %s\n", e.Kind, e.Message)
			}
		}
	}
}

// clipLine makes s one clean line of at most n characters: the agent's
// words are cleaned before they are measured.
func clipLine(s string, n int) string {
	s = strings.NewReplacer("\n", " ", "\t", " ").Replace(termsafe.String(s))
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
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
