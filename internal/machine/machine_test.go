package machine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestGPUs(t *testing.T) {
	ctx := context.Background()
	smiOut := func(s string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { return []byte(s), nil }
	}
	missing := func(context.Context) ([]byte, error) { return nil, errors.New("not found") }
	dev := t.TempDir()
	// No devices: none, and nvidia-smi is not asked.
	if got := gpus(ctx, dev, func(context.Context) ([]byte, error) { t.Fatal("nvidia-smi run without devices"); return nil, nil }); got != nil {
		t.Errorf("no devices: %v", got)
	}
	for _, f := range []string{"nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"} {
		os.WriteFile(filepath.Join(dev, f), nil, 0o644)
	}
	got := gpus(ctx, dev, smiOut("GPU 0: NVIDIA A100 (UUID: GPU-1)\nGPU 1: NVIDIA A100 (UUID: GPU-2)\n"))
	if want := []string{"GPU 0: NVIDIA A100 (UUID: GPU-1)", "GPU 1: NVIDIA A100 (UUID: GPU-2)"}; !reflect.DeepEqual(got, want) {
		t.Errorf("with nvidia-smi: %v, want %v", got, want)
	}
	got = gpus(ctx, dev, missing)
	if len(got) != 2 || !strings.Contains(got[0], "nvidia0") || !strings.Contains(got[1], "nvidia1") {
		t.Errorf("without nvidia-smi: %v, want the two devices", got)
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
