package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/executor"
	"github.com/mlrc/mlrc/executor/slurm"
	"github.com/mlrc/mlrc/sandbox"
)

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
