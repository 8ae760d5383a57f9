package machine

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/mlrc/mlrc/internal/gpu"
)

// The GPUs are internal/gpu's: none without a device, nvidia-smi's names
// and memory when it runs, the devices under /dev when it does not.
func TestGPUs(t *testing.T) {
	ctx := context.Background()
	dev := t.TempDir()
	if got := gpuNames(ctx, gpu.Probe{Dev: dev}); got != nil {
		t.Errorf("no devices: %v", got)
	}
	for _, f := range []string{"nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"} {
		os.WriteFile(filepath.Join(dev, f), nil, 0o644)
	}
	smi := filepath.Join(t.TempDir(), "nvidia-smi")
	os.WriteFile(smi, []byte("#!/bin/sh\necho '0, NVIDIA A100, 40960, 0, 0'\necho '1, NVIDIA A100, 40960, 0, 0'\n"), 0o755)
	got := gpuNames(ctx, gpu.Probe{Dev: dev, SMI: smi})
	if want := []string{"GPU 0: NVIDIA A100, 40 GiB", "GPU 1: NVIDIA A100, 40 GiB"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with nvidia-smi: %v, want %v", got, want)
	}
	got = gpuNames(ctx, gpu.Probe{Dev: dev})
	if want := []string{"GPU 0: NVIDIA GPU", "GPU 1: NVIDIA GPU"}; !reflect.DeepEqual(got, want) {
		t.Errorf("without nvidia-smi: %v, want %v", got, want)
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		m    Machine
		want string
	}{
		{Machine{Cores: 2, Memory: 24 << 30}, "2 cores, 24 GiB of memory, GPUs: none"},
		{Machine{Cores: 1, GPUs: []string{"GPU 0: T4"}}, "1 core, unknown memory, GPUs: 1 (GPU 0: T4)"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.m, got, tc.want)
		}
	}
	if m := Detect(context.Background()); m.Cores < 1 || m.Memory <= 0 {
		t.Errorf("Detect: %+v", m)
	}
}
