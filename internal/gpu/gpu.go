// Package gpu finds the machine's NVIDIA GPUs (the /dev/nvidiaN devices
// and, when nvidia-smi is installed, their names, memory and use), hands
// them out to concurrent runs, and samples what a run used.
package gpu

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Device is one GPU.
type Device struct {
	// Index is nvidia-smi's index, the N of /dev/nvidiaN and the value
	// CUDA_VISIBLE_DEVICES takes.
	Index string
	Name  string // "NVIDIA A100-SXM4-40GB"; "NVIDIA GPU" without nvidia-smi
	// MemoryTotal and MemoryUsed are bytes; Utilization percent. Zero
	// without nvidia-smi.
	MemoryTotal, MemoryUsed int64
	Utilization             int
}

// Probe says where to look: Dev is the devices' directory ("/dev"), SMI
// the nvidia-smi command ("nvidia-smi" looked up on PATH; "" to skip it).
type Probe struct {
	Dev string
	SMI string
}

// Host is the probe of this machine.
var Host = Probe{Dev: "/dev", SMI: "nvidia-smi"}

var devRE = regexp.MustCompile(`^nvidia([0-9]+)$`)

// Devices lists the GPUs, by index: those nvidia-smi reports when it
// runs, else one per /dev/nvidiaN.
func (p Probe) Devices(ctx context.Context) ([]Device, error) {
	if devs, err := p.smi(ctx); err == nil && len(devs) > 0 {
		return devs, nil
	}
	matches, err := filepath.Glob(filepath.Join(p.Dev, "nvidia*"))
	if err != nil {
		return nil, err
	}
	var devs []Device
	for _, m := range matches {
		if sm := devRE.FindStringSubmatch(filepath.Base(m)); sm != nil {
			devs = append(devs, Device{Index: sm[1], Name: "NVIDIA GPU"})
		}
	}
	sortDevices(devs)
	return devs, nil
}

// Query asks nvidia-smi about the devices with these indexes (all when
// none is given): their memory in use and utilisation now.
func (p Probe) Query(ctx context.Context, indexes ...string) ([]Device, error) {
	devs, err := p.smi(ctx)
	if err != nil || len(indexes) == 0 {
		return devs, err
	}
	var out []Device
	for _, d := range devs {
		for _, i := range indexes {
			if d.Index == i {
				out = append(out, d)
			}
		}
	}
	return out, nil
}

// smi runs nvidia-smi's CSV query.
func (p Probe) smi(ctx context.Context) ([]Device, error) {
	if p.SMI == "" {
		return nil, fmt.Errorf("gpu: no nvidia-smi")
	}
	path, err := exec.LookPath(p.SMI)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "--query-gpu=index,name,memory.total,memory.used,utilization.gpu", "--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil, fmt.Errorf("gpu: nvidia-smi: %w", err)
	}
	return ParseSMI(string(out)), nil
}

// ParseSMI reads nvidia-smi --query-gpu=index,name,memory.total,
// memory.used,utilization.gpu --format=csv,noheader,nounits. Values it
// cannot read ("[N/A]") are zero.
func ParseSMI(out string) []Device {
	var devs []Device
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, ",")
		if len(f) < 5 {
			continue
		}
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if _, err := strconv.Atoi(f[0]); err != nil {
			continue
		}
		total, _ := strconv.ParseInt(f[2], 10, 64)
		used, _ := strconv.ParseInt(f[3], 10, 64)
		util, _ := strconv.Atoi(f[4])
		devs = append(devs, Device{Index: f[0], Name: f[1], MemoryTotal: total << 20, MemoryUsed: used << 20, Utilization: util})
	}
	sortDevices(devs)
	return devs
}

func sortDevices(devs []Device) {
	sort.Slice(devs, func(i, j int) bool {
		a, _ := strconv.Atoi(devs[i].Index)
		b, _ := strconv.Atoi(devs[j].Index)
		return a < b
	})
}

// Summary is one sentence for the agent and the user: "2 GPUs: 0 NVIDIA
// A100 (40 GiB), 1 NVIDIA A100 (40 GiB)", or "no GPU".
func Summary(devs []Device) string {
	if len(devs) == 0 {
		return "no GPU"
	}
	parts := make([]string, len(devs))
	for i, d := range devs {
		parts[i] = d.Index + " " + d.Name
		if d.MemoryTotal > 0 {
			parts[i] += fmt.Sprintf(" (%d GiB)", d.MemoryTotal>>30)
		}
	}
	n := "GPU"
	if len(devs) > 1 {
		n = "GPUs"
	}
	return fmt.Sprintf("%d %s: %s", len(devs), n, strings.Join(parts, ", "))
}
