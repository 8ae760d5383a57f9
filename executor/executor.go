// Package executor decides where sandboxed runs go: the local sandbox
// (the default), a Slurm cluster (executor/slurm) or a Kubernetes cluster
// (executor/kubernetes). Every executor is a sandbox.Runner, so task's
// Setup, Run and Evaluate, the ExperimentAgent's runs and validation's
// re-runs go through it unchanged; each result says where it ran
// (sandbox.Placement).
package executor

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/mlrc/mlrc/executor/kube"
	"github.com/mlrc/mlrc/executor/slurm"
	"github.com/mlrc/mlrc/sandbox"
)

// The executors.
const (
	Local      = "local"
	Slurm      = "slurm"
	Kubernetes = "kubernetes"
)

// Options are the executors' settings.
type Options struct {
	Slurm      slurm.Config
	Kubernetes kube.Config
	// Exe is the mlrc binary Slurm jobs run when Slurm.MLRC is empty.
	Exe string
	// Log hears batch jobs' output as it comes; optional.
	Log io.Writer
}

// New returns the executor kind ("" is local) that runs in local, the
// local sandbox, what it runs here.
func New(kind string, local sandbox.Runner, opt Options) (sandbox.Runner, error) {
	switch kind {
	case "", Local:
		host, _ := os.Hostname()
		return &LocalRunner{Runner: local, Host: host}, nil
	case Slurm:
		e, err := slurm.New(opt.Slurm, opt.Exe)
		if err != nil {
			return nil, err
		}
		e.Log = opt.Log
		return e, nil
	case Kubernetes:
		if err := opt.Kubernetes.Validate(); err != nil {
			return nil, err
		}
		client, err := kube.Client(opt.Kubernetes.Kubeconfig)
		if err != nil {
			return nil, err
		}
		e, err := kube.New(opt.Kubernetes, client)
		if err != nil {
			return nil, err
		}
		e.Log = opt.Log
		return e, nil
	}
	return nil, fmt.Errorf("executor %q: want local, slurm or kubernetes", kind)
}

// LocalRunner runs in the local sandbox and records the host.
type LocalRunner struct {
	Runner sandbox.Runner
	Host   string
}

// Run runs spec in the sandbox.
func (l *LocalRunner) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	res, err := l.Runner.Run(ctx, spec)
	if res != nil {
		res.Placement = sandbox.Placement{Executor: Local, Host: l.Host, GPUs: spec.GPUDevices, CPUs: spec.Limits.CPUs, Memory: spec.Limits.Memory}
	}
	return res, err
}
