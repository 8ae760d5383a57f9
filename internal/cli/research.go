package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

func (a *app) researchCommand() *cobra.Command {
	var p research.Params
	var auto bool
	var rehearsal, tolerance string
	cmd := &cobra.Command{
		Use:   "research (--paper P [--paper ...] | --plan FILE) --task DIR [--model M | --rehearsal SCRIPT] [--auto|--human] [--search linear|tree]",
		Short: "Do research end to end: ideas from the papers, experiments on the task, validation, a report",
		Long: `One resumable run of four phases: the IdeaAgent proposes and ranks ideas from the papers (feasible in
the task), the ExperimentAgent implements the chosen one, validation re-runs the baseline and the best
solution over several seeds through the task's evaluator and tests the difference, and the report
(report.md, report.html) is written into the run directory. mlrc resume RUN continues a killed run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (len(p.Papers) == 0 && p.PlanFile == "") || p.Task == "" {
				return usageError("--task and --paper (or --plan) are required (e.g. --paper examples/papers/fashion-mnist.md --task examples/tasks/digits)")
			}
			if p.PlanFile != "" {
				if len(p.Papers) > 0 {
					return usageError("--plan and --paper exclude each other: a plan skips the idea phase that reads the papers")
				}
				plan, err := research.ReadPlan(p.PlanFile)
				if err != nil {
					return usageError("%w", err)
				}
				p.Plan = plan
				if p.PlanFile, err = filepath.Abs(p.PlanFile); err != nil {
					return err
				}
			}
			if auto && p.Human {
				return usageError("--auto and --human exclude each other")
			}
			if p.Search != "linear" && p.Search != "tree" {
				return usageError("--search %q: want linear or tree", p.Search)
			}
			if rehearsal != "" {
				if cmd.Flags().Changed("model") {
					return usageError("--rehearsal and --model exclude each other: a rehearsal's answers come from its script")
				}
				if _, err := os.Stat(rehearsal); err != nil {
					return usageError("--rehearsal %s: %v (the shipped script is examples/rehearsal/digits.yaml)", rehearsal, err)
				}
				p.Model = "scripted/" + rehearsal
			}
			if p.Experiments < 1 {
				return usageError("--n-experiments %d: want at least 1", p.Experiments)
			}
			if p.Experiments > p.N {
				return usageError("--n-experiments %d is more than the %d ideas asked for (--n)", p.Experiments, p.N)
			}
			if err := task.CheckReference(p.Reference); err != nil {
				return usageError("--%w", err)
			}
			if cmd.Flags().Changed("tolerance") {
				tol, err := validate.ParseTolerance(tolerance)
				if err != nil {
					return usageError("--%w", err)
				}
				p.Tolerance = &tol
			}
			if len(p.Seeds) < 2 {
				return usageError("--seeds needs at least 2 seeds to test a difference")
			}
			abs, err := filepath.Abs(p.Task)
			if err != nil {
				return err
			}
			p.Task = abs
			for i, f := range p.Papers {
				if _, err := os.Stat(f); err == nil {
					p.Papers[i], _ = filepath.Abs(f)
				}
			}
			_, err = a.runResearch(cmd.Context(), &p, "")
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.Papers, "paper", nil, "a paper: PDF, .txt/.md, arXiv id or URL (repeat for several)")
	f.StringVar(&p.Task, "task", "", "task directory (with task.yaml)")
	f.StringVar(&p.PlanFile, "plan", "", "implement this plan and skip the idea phase: a Markdown/text file, or ideas.json from `mlrc idea` (its top idea)")
	f.IntVar(&p.N, "n", 5, "candidate ideas to generate")
	f.StringVar(&p.Search, "search", "linear", "experiment search: linear or tree")
	f.BoolVar(&auto, "auto", false, "no human gates (the default)")
	f.BoolVar(&p.Human, "human", false, "ask a person: which idea, before the first run, every --gate-every steps, before the final answer")
	f.IntVar(&p.Every, "gate-every", 5, "with --human, a checkpoint every N steps")
	f.IntVar(&p.MaxSteps, "max-steps", 0, "most agent steps (default: the task's limits.max_steps)")
	f.IntVar(&p.Workers, "workers", 2, "with --search tree, parallel workers")
	f.IntSliceVar(&p.Seeds, "seeds", []int{0, 1, 2}, "seeds for validation (the first is the experiment's)")
	f.StringVar(&p.Index, "index", "", "literature index (default: literature: in the config, or <runs-dir>/literature.db)")
	f.BoolVar(&p.Offline, "offline", false, "do not query Semantic Scholar, OpenAlex or arXiv")
	f.StringVar(&rehearsal, "rehearsal", "", "rehearse with no model: the model's answers come from this script (examples/rehearsal/digits.yaml); everything else runs for real, and the run says it is a rehearsal")
	f.IntVar(&p.Experiments, "n-experiments", 1, "try the top K ideas in sequence, each with 1/K of the steps, and validate the best")
	f.BoolVar(&p.NoMemory, "no-memory", false, "neither tell the models what earlier runs on this task and data found nor remember this run (see mlrc memory)")
	f.Float64Var(&p.MinRelative, "min-improvement", 0, "success needs at least this relative improvement (0.1 = 10%) besides significance")
	f.StringVar(&p.Reference, "reference", "", research.ReferenceUsage)
	f.StringVar(&tolerance, "tolerance", validate.DefaultTolerance.String(), "how far the metric the agent reported may lie outside the range of the best solution's re-runs: a relative tolerance (e.g. 1e-3), or relative=R,absolute=A,sds=K (allowed: max(A, R×|reported|) + K×SD of the re-runs; R at most 0.05, K at most 5)")
	return cmd
}

// runResearch runs (or, with resumeID, continues) a research run. Each
// phase that finished is read back rather than redone.
func (a *app) runResearch(ctx context.Context, p *research.Params, resumeID string) (o *research.Outcome, err error) {
	t, err := task.Load(p.Task)
	if err != nil {
		return nil, usageError("%w", err)
	}
	if p.Model == "" {
		if p.Model, err = a.modelName(ctx); err != nil {
			return nil, err
		}
	}
	out := a.env.Stdout
	if research.IsRehearsal(p.Model) {
		// The first and the last line say it: no language model answers.
		fmt.Fprintln(out, research.RehearsalLine)
		defer fmt.Fprintln(out, "\n"+research.RehearsalLine)
	}
	r, err := a.openLabRun(ctx, t, p.Model, "research", research.Config{Settings: a.cfg, Research: p}, resumeID)
	if err != nil {
		return nil, err
	}
	defer func() { r.end(a, err) }()
	o, err = a.researchRun(r, p.Model).Research(ctx, p)
	return o, inputError(err)
}

// inputError makes a research.InputError a usage error (exit code 2).
func inputError(err error) error {
	var ie *research.InputError
	if errors.As(err, &ie) {
		return usageError("%w", err)
	}
	return err
}
