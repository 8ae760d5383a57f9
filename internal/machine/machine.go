// Package machine describes the computer experiments run on: its cores, its
// memory and its GPUs, for the ExperimentAgent's brief and for sizing work.
package machine

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/mlrc/mlrc/internal/gpu"
	"github.com/mlrc/mlrc/internal/meminfo"
)

// Machine is what a run can use.
type Machine struct {
	Cores  int   `json:"cores"`
	Memory int64 `json:"memory"` // bytes; 0 when unknown
	// GPUs names each GPU ("GPU 0: NVIDIA A100-SXM4-40GB (UUID: …)"); empty
	// when there is none.
	GPUs []string `json:"gpus,omitempty"`
}

// Detect describes this machine. Cores are those this process may run on;
// GPUs come from GPUs.
func Detect(ctx context.Context) Machine {
	return Machine{Cores: runtime.NumCPU(), Memory: meminfo.Total(), GPUs: GPUs(ctx)}
}

// GPUs lists the NVIDIA GPUs as internal/gpu finds them (nvidia-smi,
// else /dev/nvidiaN), one line each: "GPU 0: NVIDIA A100-SXM4-40GB, 40 GiB".
func GPUs(ctx context.Context) []string {
	return gpuNames(ctx, gpu.Host)
}

func gpuNames(ctx context.Context, p gpu.Probe) []string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	devs, err := p.Devices(ctx)
	if err != nil || len(devs) == 0 {
		return nil
	}
	names := make([]string, len(devs))
	for i, d := range devs {
		names[i] = fmt.Sprintf("GPU %s: %s", d.Index, d.Name)
		if d.MemoryTotal > 0 {
			names[i] += fmt.Sprintf(", %d GiB", d.MemoryTotal>>30)
		}
	}
	return names
}

// String is the machine in one line: "2 cores, 24 GiB of memory, GPUs: none".
func (m Machine) String() string {
	mem := "unknown memory"
	if m.Memory > 0 {
		mem = fmt.Sprintf("%.0f GiB of memory", float64(m.Memory)/(1<<30))
	}
	gpu := "none"
	if len(m.GPUs) > 0 {
		gpu = fmt.Sprintf("%d (%s)", len(m.GPUs), strings.Join(m.GPUs, "; "))
	}
	cores := fmt.Sprintf("%d cores", m.Cores)
	if m.Cores == 1 {
		cores = "1 core"
	}
	return fmt.Sprintf("%s, %s, GPUs: %s", cores, mem, gpu)
}
