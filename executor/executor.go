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

	"github.com/mlrc/mlrc/executor/kubeconf"
	"github.com/mlrc/mlrc/executor/slurm"
	"github.com/mlrc/mlrc/internal/gpu"
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
	Kubernetes kubeconf.Config
	// Exe is the mlrc binary Slurm jobs run when Slurm.MLRC is empty.
	Exe string
	// Log hears batch jobs' output as it comes; optional.
	Log io.Writer
	// GPUsPerRun is how many GPUs each run gets: locally from GPUs, on a
	// cluster from its scheduler. Zero: none.
	GPUsPerRun int
	// GPUs are this machine's GPUs (gpu.Host.Devices), for local runs.
	GPUs []gpu.Device
	// Probe samples the local GPUs' use; default gpu.Host.
	Probe *gpu.Probe
}

// New returns the executor kind ("" is local) that runs in local, the
// local sandbox, what it runs here.
func New(kind string, local sandbox.Runner, opt Options) (sandbox.Runner, error) {
	switch kind {
	case "", Local:
		host, _ := os.Hostname()
		var r sandbox.Runner = &LocalRunner{Runner: local, Host: host}
		if opt.GPUsPerRun > 0 && len(opt.GPUs) > 0 {
			probe := gpu.Host
			if opt.Probe != nil {
				probe = *opt.Probe
			}
			names := map[string]string{}
			var idx []string
			for _, d := range opt.GPUs {
				names[d.Index] = d.Name
				idx = append(idx, d.Index)
			}
			r = &GPURunner{Runner: r, Pool: gpu.NewPool(idx), PerRun: opt.GPUsPerRun, Probe: probe, Names: names}
		}
		return r, nil
	case Slurm:
		e, err := slurm.New(opt.Slurm, opt.Exe)
		if err != nil {
			return nil, err
		}
		e.Log = opt.Log
		return batchGPUs(e, opt.GPUsPerRun), nil
	case Kubernetes:
		e, err := newKubernetes(opt)
		if err != nil {
			return nil, err
		}
		return batchGPUs(e, opt.GPUsPerRun), nil
	}
	return nil, fmt.Errorf("executor %q: want local, slurm or kubernetes", kind)
}

func batchGPUs(r sandbox.Runner, n int) sandbox.Runner {
	if n <= 0 {
		return r
	}
	return withGPUs{Runner: r, n: n}
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
