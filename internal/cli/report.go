package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

func (a *app) reportCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "report RUN",
		Short: "Write a run's report (report.md, report.html) again from what the store and its directory hold",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			run, info, t, err := a.pastRun(ctx, st, args[0])
			if err != nil {
				return err
			}
			if err := run.Lock(); err != nil {
				return inUse(err)
			}
			defer run.Unlock()
			p, state, err := research.ReadState(ctx, run, info, t)
			if err != nil {
				return err
			}
			_, isolation, err := a.sandbox()
			if err != nil {
				isolation = "unknown"
			}
			r := research.New(research.Options{Store: run, Task: t, Isolation: isolation, Python: a.cfg.Python, Packages: pythonPackages,
				Redact: a.redact.String, Out: a.env.Stdout, Err: a.env.Stderr})
			if info.Status != store.StatusDone {
				// A run that did not end done keeps its "Run stopped" section.
				state.Phase = lastPhase(ctx, run)
				r.StoppedReport(ctx, p, state, errors.New(orText(info.Error, "the run "+info.Status)))
				return nil
			}
			path, err := r.Render(ctx, p, state)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "report: %s\n", path)
			return nil
		},
	}
}

// pastRun opens a run of the store with its task, refusing a run a process
// works on and a run without a task.
func (a *app) pastRun(ctx context.Context, st *store.Store, ref string) (*store.Run, store.RunInfo, *task.Task, error) {
	run, err := st.Run(ctx, ref)
	if err != nil {
		return nil, store.RunInfo{}, nil, usageError("%w (list runs with `mlrc runs`)", err)
	}
	info, err := run.Info(ctx)
	if err != nil {
		return nil, info, nil, err
	}
	if pid, held, err := store.Holder(info.Dir); err == nil && held {
		return nil, info, nil, inUse(&store.InUseError{Run: info.ID, PID: pid})
	}
	rc, err := research.ReadConfig(info)
	if err != nil {
		return nil, info, nil, err
	}
	if rc.TaskDir() == "" {
		return nil, info, nil, usageError("run %s (%s) has no task: only experiment and research runs have a report", info.ID, info.Kind)
	}
	t, err := task.Load(rc.TaskDir())
	if err != nil {
		return nil, info, nil, usageError("run %s: its task: %w", info.ID, err)
	}
	return run, info, t, nil
}

// lastPhase is the last phase the run began, "setup" before any.
func lastPhase(ctx context.Context, run *store.Run) string {
	phases, err := run.Phases(ctx)
	if err != nil || len(phases) == 0 {
		return "setup"
	}
	return phases[len(phases)-1].Name
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func (a *app) validateCommand() *cobra.Command {
	var seeds []int
	var minRel float64
	cmd := &cobra.Command{
		Use:   "validate RUN [--seeds 0,1,2]",
		Short: "Validate an experiment run: re-run the prototype and the best solution over seeds, test the difference, write the report",
		Long: `Validation for a run of mlrc experiment, as a research run does it: the prototype (from the run's
first snapshot) and the best solution (best/) are re-run over the seeds through the task's evaluator, the
difference is tested, the integrity checks are run, and verdict.json and the report are written into the
run directory. A research run validates itself; continue one with mlrc resume.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			ctx := cmd.Context()
			if len(seeds) < 2 {
				return usageError("--seeds needs at least 2 seeds to test a difference")
			}
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			run, info, t, err := a.pastRun(ctx, st, args[0])
			if err != nil {
				return err
			}
			if info.Kind != "experiment" {
				return usageError("run %s is a %s run: mlrc validate takes a run of mlrc experiment (a research run validates itself; continue it with mlrc resume %s)", info.ID, info.Kind, info.ID)
			}
			p, state, err := research.ReadState(ctx, run, info, t)
			if err != nil {
				return err
			}
			if state.Result == nil {
				return usageError("run %s: %w", info.ID, research.ErrNoResult)
			}
			p.Seeds, p.MinRelative = seeds, minRel
			runner, isolation, err := a.runner()
			if err != nil {
				return err
			}
			s, err := a.reopenRun(ctx, st, info.ID)
			if err != nil {
				return err
			}
			defer s.close()
			r := research.New(research.Options{Store: s.run, Log: s.log, Task: t, Sandbox: runner, Isolation: isolation,
				Python: a.cfg.Python, Packages: pythonPackages, Redact: a.redact.String, Out: a.env.Stdout, Err: a.env.Stderr})
			defer a.follow(r)()
			defer func() { r.Finish(ctx, err) }()
			fmt.Fprintf(a.env.Stdout, "validating run %s · task %s · seeds %v · sandbox %s\n", info.ID, t.Name, seeds, isolation)
			if state.Verdict, err = r.Validation(ctx, p, state.Result, state.TaskHash); err != nil {
				return err
			}
			path, err := r.Report(ctx, p, state)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "\n%s\nreport: %s\n", research.VerdictLine(state.Verdict), path)
			return nil
		},
	}
	cmd.Flags().IntSliceVar(&seeds, "seeds", []int{0, 1, 2}, "seeds to re-run with")
	cmd.Flags().Float64Var(&minRel, "min-improvement", 0, "success needs at least this relative improvement (0.1 = 10%) besides significance")
	return cmd
}
