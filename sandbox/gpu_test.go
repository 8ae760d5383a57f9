package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestGPUBinds(t *testing.T) {
	dev := t.TempDir() // a fake /dev with two GPUs and no nvidia-modeset
	for _, n := range []string{"nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "null"} {
		os.WriteFile(filepath.Join(dev, n), nil, 0o666)
	}
	got := gpuBinds(dev, []string{"1"})
	want := []string{
		"--dev-bind", filepath.Join(dev, "nvidiactl"), "/dev/nvidiactl",
		"--dev-bind", filepath.Join(dev, "nvidia-uvm"), "/dev/nvidia-uvm",
		"--dev-bind", filepath.Join(dev, "nvidia-uvm-tools"), "/dev/nvidia-uvm-tools",
		"--dev-bind", filepath.Join(dev, "nvidia1"), "/dev/nvidia1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("binds for GPU 1:\n got %q\nwant %q", got, want)
	}
	if slices.Contains(got, filepath.Join(dev, "nvidia0")) {
		t.Error("GPU 0 is bound into a run given GPU 1")
	}
	if got := gpuBinds(dev, nil); got != nil {
		t.Errorf("no GPU given, binds %q", got)
	}
	if got := gpuBinds(dev, []string{"../null", "7"}); len(got) != 9 {
		t.Errorf("a path or a missing GPU must bind nothing of its own: %q", got)
	}
}

func TestGPUEnv(t *testing.T) {
	env := map[string]string{"A": "b"}
	got := gpuEnv(env, []string{"0", "2"})
	if got["CUDA_VISIBLE_DEVICES"] != "0,2" || got["A"] != "b" {
		t.Errorf("env %v", got)
	}
	if _, ok := env["CUDA_VISIBLE_DEVICES"]; ok {
		t.Error("the spec's own map was changed")
	}
	if got := gpuEnv(map[string]string{"CUDA_VISIBLE_DEVICES": "3"}, []string{"0"}); got["CUDA_VISIBLE_DEVICES"] != "3" {
		t.Errorf("an explicit CUDA_VISIBLE_DEVICES was overridden: %v", got)
	}
	if got := gpuEnv(env, nil); len(got) != 1 {
		t.Errorf("no GPU, env %v", got)
	}
}
