package executor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/internal/gpu"
	"github.com/mlrc/mlrc/sandbox"
)

// Concurrent local runs each get a GPU of their own; the result says
// which, and what it used, as the fake nvidia-smi reports it.
func TestGPUAssignment(t *testing.T) {
	smi := filepath.Join(t.TempDir(), "nvidia-smi")
	os.WriteFile(smi, []byte("#!/bin/sh\necho '0, NVIDIA T4, 15360, 2048, 50'\necho '1, NVIDIA T4, 15360, 4096, 90'\n"), 0o755)
	probe := gpu.Probe{SMI: smi}
	devs, err := probe.Devices(context.Background())
	if err != nil || len(devs) != 2 {
		t.Fatalf("devices %v, %v", devs, err)
	}
	var mu sync.Mutex
	inUse := map[string]bool{}
	inner := runnerFunc(func(_ context.Context, s sandbox.Spec) (*sandbox.Result, error) {
		if len(s.GPUDevices) != 1 || s.Limits.GPUs != 1 {
			t.Errorf("spec GPUs %v (limit %d), want one", s.GPUDevices, s.Limits.GPUs)
			return &sandbox.Result{}, nil
		}
		d := s.GPUDevices[0]
		mu.Lock()
		if inUse[d] {
			t.Errorf("GPU %s given to two runs at once", d)
		}
		inUse[d] = true
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		inUse[d] = false
		mu.Unlock()
		return &sandbox.Result{}, nil
	})
	r, err := New(Local, inner, Options{GPUsPerRun: 1, GPUs: devs, Probe: &probe})
	if err != nil {
		t.Fatal(err)
	}
	r.(*GPURunner).Every = 5 * time.Millisecond
	var wg sync.WaitGroup
	results := make([]*sandbox.Result, 5)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := r.Run(context.Background(), sandbox.Spec{Command: []string{"true"}})
			if err != nil {
				t.Error(err)
			}
			results[i] = res
		}()
	}
	wg.Wait()
	for _, res := range results {
		if res == nil {
			continue
		}
		p := res.Placement
		if len(p.GPUs) != 1 || !strings.HasSuffix(p.GPUs[0], " NVIDIA T4") || p.Executor != Local {
			t.Errorf("placement %+v", p)
		}
		want := map[string]int64{"0": 2 << 30, "1": 4 << 30}[p.GPUs[0][:1]]
		if p.GPUMemory != want || p.GPUUtilization == 0 {
			t.Errorf("GPU %s: memory %d (want %d), utilisation %.0f", p.GPUs[0], p.GPUMemory, want, p.GPUUtilization)
		}
		if !strings.Contains(p.String(), "1 GPU (") || !strings.Contains(p.String(), "GPU memory peak") {
			t.Errorf("placement line %q", p.String())
		}
	}

	// A spec that names its GPUs keeps them; none asked, none given.
	r2, _ := New(Local, runnerFunc(func(_ context.Context, s sandbox.Spec) (*sandbox.Result, error) {
		if len(s.GPUDevices) != 0 {
			t.Errorf("GPUs %v given with gpus_per_run 0", s.GPUDevices)
		}
		return &sandbox.Result{}, nil
	}), Options{GPUsPerRun: 0, GPUs: devs})
	r2.Run(context.Background(), sandbox.Spec{Command: []string{"true"}})
}

// On a cluster the scheduler picks the GPUs: every run asks for n.
func TestBatchGPUs(t *testing.T) {
	var got int
	r := batchGPUs(runnerFunc(func(_ context.Context, s sandbox.Spec) (*sandbox.Result, error) {
		got = s.Limits.GPUs
		return &sandbox.Result{}, nil
	}), 2)
	r.Run(context.Background(), sandbox.Spec{})
	if got != 2 {
		t.Errorf("limit GPUs %d, want 2", got)
	}
}
