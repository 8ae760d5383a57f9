//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeV2 is a cgroup v2 hierarchy in a temporary directory: mlrc's own
// group offers controllers, and its subtree enables what is written.
func fakeV2(t *testing.T, controllers string) (root, parent string) {
	root = t.TempDir()
	parent = filepath.Join(root, ownCgroup(""))
	os.MkdirAll(parent, 0o755)
	writeFile(t, filepath.Join(root, "cgroup.controllers"), controllers)
	writeFile(t, filepath.Join(parent, "cgroup.controllers"), controllers)
	writeFile(t, filepath.Join(parent, "cgroup.subtree_control"), "")
	return root, parent
}

func readTrim(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// On cgroup v2 the run's group gets memory.max, pids.max and cpu.max, and
// the controllers are enabled in mlrc's subtree.
func TestCgroupV2(t *testing.T) {
	root, parent := fakeV2(t, "cpuset cpu io memory pids")
	if layout, _ := cgroupLayout(root); layout != "v2" {
		t.Fatalf("layout = %s, want v2", layout)
	}
	cg := newCgroup(root, Limits{Memory: 1 << 30, Procs: 10, CPUs: 1.5})
	if !cg.memory.v2 || !cg.pids.v2 || !cg.cpu.v2 || cg.memory.dir != cg.pids.dir {
		t.Fatalf("cgroup = %+v, want one v2 group for all three", cg)
	}
	dir := cg.memory.dir
	if filepath.Dir(dir) != filepath.Clean(parent) {
		t.Errorf("group %s is not below mlrc's own %s", dir, parent)
	}
	for file, want := range map[string]string{"memory.max": "1073741824", "pids.max": "10", "cpu.max": "150000 100000"} {
		if got := readTrim(t, filepath.Join(dir, file)); got != want {
			t.Errorf("%s = %q, want %q", file, got, want)
		}
	}
	if got := readTrim(t, filepath.Join(parent, "cgroup.subtree_control")); !strings.Contains(got, "+memory") || !strings.Contains(got, "+pids") {
		t.Errorf("subtree_control = %q", got)
	}
	if err := cg.add(12345); err != nil || readTrim(t, filepath.Join(dir, "cgroup.procs")) != "12345" {
		t.Errorf("add: %v", err)
	}
	writeFile(t, filepath.Join(dir, "memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
	if got := cg.oomKills(); got != 2 {
		t.Errorf("oomKills = %d, want 2 (from memory.events)", got)
	}
	if s := limitsText(cg, Limits{Memory: 1 << 30, CPUs: 1.5}, true, false); !strings.Contains(s, "memory by cgroup v2") ||
		!strings.Contains(s, "processes by cgroup v2") || !strings.Contains(s, "CPU share (1.5 cores) by cgroup v2") {
		t.Errorf("limitsText = %q", s)
	}
}

// A v2 hierarchy without the controllers (a hybrid host, or a subtree not
// delegated) gives no group, and the limits say so.
func TestCgroupV2WithoutControllers(t *testing.T) {
	root, _ := fakeV2(t, "")
	if cg := newCgroup(root, Limits{Memory: 1 << 30, Procs: 10}); cg != nil {
		t.Errorf("cgroup = %+v, want none", cg)
	}
	if s := limitsText(nil, Limits{Memory: 1 << 30}, false, false); !strings.Contains(s, "RLIMIT_AS") ||
		!strings.Contains(s, "no process limit") {
		t.Errorf("limitsText = %q", s)
	}
}

// This host's layout, and what a run really gets from it.
func TestCgroupHost(t *testing.T) {
	layout, unified := cgroupLayout(cgroupRoot)
	t.Logf("layout %s, v2 at %q", layout, unified)
	if unified != "" && len(v2Controllers(filepath.Join(unified, ownCgroup("")), true)) == 0 {
		t.Logf("cgroup v2 here has no controllers mlrc may use; v1 is used where present")
	}
	cg := newCgroup(cgroupRoot, Limits{Memory: 1 << 30, Procs: 10, CPUs: 1}.withDefaults())
	defer cg.remove()
	if cg == nil {
		t.Skipf("no cgroup controller can be used here (layout %s, euid %d)", layout, os.Geteuid())
	}
	for _, c := range []ctl{cg.memory, cg.pids} {
		if c.dir == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(c.dir, "cgroup.procs")); err != nil {
			t.Errorf("%s is not a cgroup: %v", c.dir, err)
		}
	}
}

// Killing a v2 group waits for its cgroup.events to say it is empty, and
// returns as soon as they do.
func TestCgroupV2KillWaitsForEvents(t *testing.T) {
	root, _ := fakeV2(t, "memory pids")
	cg := newCgroup(root, Limits{Memory: 1 << 30, Procs: 10})
	if cg == nil || !cg.memory.v2 {
		t.Fatalf("cgroup = %+v", cg)
	}
	events := filepath.Join(cg.memory.dir, "cgroup.events")
	writeFile(t, events, "populated 1\nfrozen 0\n")
	// Rewritten in place, as the kernel's file never reads empty.
	f, err := os.OpenFile(events, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	go func() {
		time.Sleep(150 * time.Millisecond)
		f.WriteAt([]byte("populated 0\n"), 0)
	}()
	start := time.Now()
	cg.killAll()
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Errorf("killAll returned after %v, want soon after the group emptied (150 ms)", d)
	}
	if got := readTrim(t, filepath.Join(cg.memory.dir, "cgroup.kill")); got != "1" {
		t.Errorf("cgroup.kill = %q, want 1", got)
	}
	if waitUnpopulated(cg.memory.dir, 50*time.Millisecond) != true {
		t.Errorf("an empty group waited for")
	}
	f.WriteAt([]byte("populated 1\n"), 0)
	if waitUnpopulated(cg.memory.dir, 100*time.Millisecond) {
		t.Errorf("a populated group reported empty")
	}
}

// Without any group (not root, or no controller) the description says why
// rather than failing.
func TestCgroupHowWithoutGroup(t *testing.T) {
	for _, layout := range []string{"v2", "hybrid", "v1", "none"} {
		if s := cgroupHow(layout, nil); !strings.Contains(s, "none used") {
			t.Errorf("cgroupHow(%s, nil) = %q", layout, s)
		}
	}
}
