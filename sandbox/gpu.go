package sandbox

import (
	"os"
	"path/filepath"
	"strings"
)

// gpuControl are the NVIDIA devices every GPU user needs besides its own
// /dev/nvidiaN.
var gpuControl = []string{"nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"}

// gpuBinds is the bind list that shows a run its GPUs: the NVIDIA control
// devices and /dev/nvidiaN for each index in devices, as bwrap
// --dev-bind arguments, for those that exist under dev (the host's
// /dev). The sandbox's own /dev has none of them otherwise, so a run sees
// the GPUs it was given and no other. The driver's libraries and
// nvidia-smi are under /usr, which every run sees read-only.
func gpuBinds(dev string, devices []string) []string {
	if len(devices) == 0 {
		return nil
	}
	var names []string
	names = append(names, gpuControl...)
	for _, d := range devices {
		if d == "" || strings.ContainsAny(d, "/.") {
			continue // an index, never a path
		}
		names = append(names, "nvidia"+d)
	}
	var a []string
	for _, n := range names {
		host := filepath.Join(dev, n)
		if _, err := os.Stat(host); err != nil {
			continue
		}
		a = append(a, "--dev-bind", host, "/dev/"+n)
	}
	return a
}

// gpuEnv names the run's GPUs to CUDA (CUDA_VISIBLE_DEVICES), unless the
// spec's environment already does; env is not changed.
func gpuEnv(env map[string]string, devices []string) map[string]string {
	if len(devices) == 0 {
		return env
	}
	if _, ok := env["CUDA_VISIBLE_DEVICES"]; ok {
		return env
	}
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	out["CUDA_VISIBLE_DEVICES"] = strings.Join(devices, ",")
	return out
}
