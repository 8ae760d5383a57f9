package gpu

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeSMI writes an nvidia-smi that prints out.
func fakeSMI(t *testing.T, out string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "nvidia-smi")
	if err := os.WriteFile(p, []byte("#!/bin/sh\ncat <<'EOF'\n"+out+"EOF\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func fakeDev(t *testing.T, names ...string) string {
	dev := t.TempDir()
	for _, n := range names {
		os.WriteFile(filepath.Join(dev, n), nil, 0o666)
	}
	return dev
}

func TestDevicesFromDev(t *testing.T) {
	dev := fakeDev(t, "nvidia1", "nvidia0", "nvidia10", "nvidiactl", "nvidia-uvm", "null")
	devs, err := Probe{Dev: dev}.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range devs {
		got = append(got, d.Index)
	}
	if want := []string{"0", "1", "10"}; len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Errorf("indexes %v, want %v", got, want)
	}
	if devs, _ := (Probe{Dev: fakeDev(t, "null")}).Devices(context.Background()); len(devs) != 0 {
		t.Errorf("no NVIDIA device, found %v", devs)
	}
}

func TestDevicesFromSMI(t *testing.T) {
	smi := fakeSMI(t, "1, NVIDIA A100-SXM4-40GB, 40960, 1024, 37\n0, NVIDIA A100-SXM4-40GB, 40960, [N/A], [N/A]\n")
	p := Probe{Dev: fakeDev(t, "nvidia0", "nvidia1"), SMI: smi}
	devs, err := p.Devices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 || devs[0].Index != "0" || devs[1].Name != "NVIDIA A100-SXM4-40GB" || devs[1].MemoryTotal != 40<<30 || devs[1].MemoryUsed != 1<<30 || devs[1].Utilization != 37 || devs[0].MemoryUsed != 0 {
		t.Errorf("devices %+v", devs)
	}
	got, _ := p.Query(context.Background(), "1")
	if len(got) != 1 || got[0].Index != "1" {
		t.Errorf("query of GPU 1: %+v", got)
	}
	if s := Summary(devs); s != "2 GPUs: 0 NVIDIA A100-SXM4-40GB (40 GiB), 1 NVIDIA A100-SXM4-40GB (40 GiB)" {
		t.Errorf("summary %q", s)
	}
	if s := Summary(nil); s != "no GPU" {
		t.Errorf("summary %q", s)
	}
	// A broken nvidia-smi leaves the devices under /dev.
	p.SMI = fakeSMI(t, "")
	os.WriteFile(p.SMI, []byte("#!/bin/sh\nexit 9\n"), 0o755)
	if devs, _ := p.Devices(context.Background()); len(devs) != 2 || devs[0].Name != "NVIDIA GPU" {
		t.Errorf("with a failing nvidia-smi: %+v", devs)
	}
}

func TestPool(t *testing.T) {
	p := NewPool([]string{"0", "1"})
	if _, _, err := p.Acquire(context.Background(), 3); err == nil {
		t.Error("asking for more GPUs than there are did not fail")
	}
	var busy, most atomic.Int32
	held := sync.Map{}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			devs, release, err := p.Acquire(context.Background(), 1)
			if err != nil {
				t.Error(err)
				return
			}
			if _, dup := held.LoadOrStore(devs[0], true); dup {
				t.Errorf("GPU %s given to two runs at once", devs[0])
			}
			n := busy.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(10 * time.Millisecond)
			busy.Add(-1)
			held.Delete(devs[0])
			release()
			release() // twice is harmless
		}()
	}
	wg.Wait()
	if most.Load() != 2 {
		t.Errorf("%d runs held GPUs at once, want 2", most.Load())
	}
	_, release, _ := p.Acquire(context.Background(), 2)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, _, err := p.Acquire(ctx, 1); err == nil {
		t.Error("an Acquire with no GPU free did not wait for its context")
	}
	release()
}
