// Package machine describes the computer experiments run on: its cores, its
// memory and its GPUs, for the ExperimentAgent's brief and for sizing work.
package machine

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

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

// GPUs lists the NVIDIA GPUs: none unless /dev/nvidia<N> devices exist;
// then the lines of `nvidia-smi -L`, or one line per device when
// nvidia-smi is missing or fails.
func GPUs(ctx context.Context) []string {
	return gpus(ctx, "/dev", nvidiaSMI)
}

// nvidiaSMI runs `nvidia-smi -L`, bounded to a few seconds.
func nvidiaSMI(ctx context.Context) ([]byte, error) {
	path, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, "-L").Output()
}

func gpus(ctx context.Context, dev string, smi func(context.Context) ([]byte, error)) []string {
	devices, _ := filepath.Glob(filepath.Join(dev, "nvidia[0-9]*"))
	if len(devices) == 0 {
		return nil
	}
	if out, err := smi(ctx); err == nil {
		var names []string
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "GPU ") {
				names = append(names, l)
			}
		}
		if len(names) > 0 {
			return names
		}
	}
	names := make([]string, len(devices))
	for i, d := range devices {
		names[i] = fmt.Sprintf("NVIDIA device %s (nvidia-smi gave no details)", d)
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
