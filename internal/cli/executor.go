package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/executor"
	"github.com/mlrc/mlrc/executor/slurm"
	"github.com/mlrc/mlrc/internal/gpu"
	"github.com/mlrc/mlrc/sandbox"
)

// runner is the configured sandbox behind the configured executor: where
// experiment runs, evaluations and validation re-runs go. (mlrc task
// check, doctor and bench perf use the local sandbox itself.)
func (a *app) runner() (sandbox.Runner, string, error) {
	r, isolation, err := a.sandbox()
	if err != nil {
		return nil, "", err
	}
	if r, err = a.executor(r); err != nil {
		return nil, "", err
	}
	return r, isolation, nil
}

// executor sends the runs the local sandbox would run to the configured
// executor (config executor:, --executor).
func (a *app) executor(local sandbox.Runner) (sandbox.Runner, error) {
	sc := a.cfg.Slurm
	if sc.Sandbox == "" {
		sc.Sandbox = a.cfg.Sandbox
	}
	exe, _ := os.Executable()
	opt := executor.Options{Slurm: sc, Kubernetes: a.cfg.Kubernetes, Exe: exe}
	if a.cfg.Log.Level == "debug" || a.cfg.Log.Level == "info" {
		opt.Log = a.env.Stderr // batch jobs' output as it comes
	}
	if err := a.gpus(&opt); err != nil {
		return nil, err
	}
	r, err := executor.New(a.cfg.Executor, local, opt)
	if err != nil {
		return nil, usageError("%w", err)
	}
	return r, nil
}

// sandboxJobCommand is what a Slurm job runs on its node: the sandbox,
// from the job directory's spec. Hidden: people do not run it.
func (a *app) sandboxJobCommand() *cobra.Command {
	return &cobra.Command{
		Use:                "sandbox-job [--sandbox KIND] JOB-DIR",
		Short:              "run one sandboxed run of a Slurm job (run by the job, not by people)",
		Hidden:             true,
		DisableFlagParsing: true,
		PersistentPreRunE:  func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			getenv := a.env.Getenv
			if getenv == nil {
				getenv = os.Getenv
			}
			return slurm.NodeMain(cmd.Context(), args, getenv, func(kind string) (sandbox.Runner, error) {
				r, warning, err := sandbox.New(kind)
				if err == nil && warning != "" {
					fmt.Fprintf(a.env.Stderr, "mlrc: warning: %s\n", warning)
				}
				return r, err
			})
		},
	}
}

// gpus fills in the GPUs each run gets: gpus_per_run, or by default one
// per run when runs are local and this machine has NVIDIA GPUs.
func (a *app) gpus(opt *executor.Options) error {
	per := a.cfg.GPUsPerRun
	local := a.cfg.Executor == "" || a.cfg.Executor == executor.Local
	if !local {
		opt.GPUsPerRun = max(per, 0)
		return nil
	}
	if per == 0 {
		return nil
	}
	devs, err := gpu.Host.Devices(context.Background())
	if err != nil {
		return err
	}
	switch {
	case per > 0 && len(devs) < per:
		return usageError("gpus_per_run is %d but this machine has %s: set gpus_per_run: 0 to run without GPUs", per, gpu.Summary(devs))
	case per < 0 && len(devs) > 0:
		per = 1
	case per < 0:
		per = 0
	}
	opt.GPUsPerRun, opt.GPUs = per, devs
	return nil
}

// checkGPU says which GPUs runs get, and where runs go.
func (a *app) checkGPU(ctx context.Context) check {
	devs, err := gpu.Host.Devices(ctx)
	c := check{name: "gpu", ok: true, text: gpu.Summary(devs)}
	if err != nil {
		c.text = err.Error()
	}
	if a.cfg.Executor != "" && a.cfg.Executor != executor.Local {
		c.text = fmt.Sprintf("runs go to %s (gpus_per_run %d); this machine: %s", a.cfg.Executor, max(a.cfg.GPUsPerRun, 0), c.text)
	} else if len(devs) > 0 {
		c.text += "; each run gets its own (gpus_per_run)"
	}
	return c
}
