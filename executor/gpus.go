package executor

import (
	"context"
	"sync"
	"time"

	"github.com/mlrc/mlrc/internal/gpu"
	"github.com/mlrc/mlrc/sandbox"
)

// GPURunner gives each local run PerRun GPUs from Pool: the sandbox binds
// their devices and sets CUDA_VISIBLE_DEVICES, so concurrent runs (tree
// workers, validation re-runs) each have their own. A run waits while
// too few are free. While it runs, their memory and utilisation are
// sampled with Probe and recorded in the result's Placement.
type GPURunner struct {
	Runner sandbox.Runner
	Pool   *gpu.Pool
	PerRun int
	Probe  gpu.Probe
	// Names are the devices' names by index, for the Placement.
	Names map[string]string
	// Every is the sampling interval; default 2 s.
	Every time.Duration
}

// Run runs spec with its GPUs.
func (g *GPURunner) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	if g.PerRun <= 0 || len(spec.GPUDevices) > 0 {
		return g.Runner.Run(ctx, spec)
	}
	devs, release, err := g.Pool.Acquire(ctx, g.PerRun)
	if err != nil {
		return nil, err
	}
	defer release()
	spec.GPUDevices = devs
	spec.Limits.GPUs = len(devs)
	s := g.sample(devs)
	res, err := g.Runner.Run(ctx, spec)
	peak, util := s.stop()
	if res != nil {
		res.Placement.GPUs = nil
		for _, d := range devs {
			name := d
			if n := g.Names[d]; n != "" {
				name += " " + n
			}
			res.Placement.GPUs = append(res.Placement.GPUs, name)
		}
		res.Placement.GPUMemory, res.Placement.GPUUtilization = peak, util
	}
	return res, err
}

// sampler polls the devices' memory and utilisation.
type sampler struct {
	stopOnce sync.Once
	quit     chan struct{}
	done     chan struct{}
	peak     int64
	utilSum  float64
	n        int
}

func (g *GPURunner) sample(devs []string) *sampler {
	s := &sampler{quit: make(chan struct{}), done: make(chan struct{})}
	every := g.Every
	if every <= 0 {
		every = 2 * time.Second
	}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			s.once(g.Probe, devs)
			select {
			case <-s.quit:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *sampler) once(p gpu.Probe, devs []string) {
	got, err := p.Query(context.Background(), devs...)
	if err != nil || len(got) == 0 {
		return
	}
	var mem int64
	var util float64
	for _, d := range got {
		mem += d.MemoryUsed
		util += float64(d.Utilization)
	}
	if mem > s.peak {
		s.peak = mem
	}
	s.utilSum += util / float64(len(got))
	s.n++
}

// stop ends the sampling: the peak memory in use and the mean
// utilisation.
func (s *sampler) stop() (int64, float64) {
	s.stopOnce.Do(func() { close(s.quit) })
	<-s.done
	if s.n == 0 {
		return s.peak, 0
	}
	return s.peak, s.utilSum / float64(s.n)
}

// withGPUs asks batch schedulers for n GPUs for every run (Slurm --gres,
// Kubernetes nvidia.com/gpu); the scheduler picks them.
type withGPUs struct {
	sandbox.Runner
	n int
}

func (w withGPUs) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	if spec.Limits.GPUs == 0 {
		spec.Limits.GPUs = w.n
	}
	return w.Runner.Run(ctx, spec)
}
