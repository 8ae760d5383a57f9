//go:build linux

package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupRoot is where cgroups are mounted: cgroup v2 itself (unified), or a
// tmpfs holding the v1 controllers and, on hybrid hosts, v2 at "unified".
const cgroupRoot = "/sys/fs/cgroup"

var cgroupSeq atomic.Int64

// cgroup is one run's groups. Each controller (memory, pids, cpu) is
// used from cgroup v2 when mlrc's own v2 group may delegate it, else from
// its v1 hierarchy when there is one; an empty directory means neither
// was available. A nil *cgroup means no controller was.
type cgroup struct {
	memory, pids, cpu ctl
}

// ctl is the group of one controller: its directory and whether it is v2.
type ctl struct {
	dir string
	v2  bool
}

// cgroupLayout is what the host offers: "v2" (unified), "hybrid" (v1
// controllers, v2 at unified/), "v1" or "none", and the v2 mount.
func cgroupLayout(root string) (layout, unified string) {
	switch {
	case exists(filepath.Join(root, "cgroup.controllers")):
		return "v2", root
	case exists(filepath.Join(root, "unified", "cgroup.controllers")):
		return "hybrid", filepath.Join(root, "unified")
	case exists(filepath.Join(root, "memory", "tasks")) || exists(filepath.Join(root, "pids", "tasks")):
		return "v1", ""
	}
	return "none", ""
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// newCgroup creates the run's groups below mlrc's own and sets the limits.
// It returns nil when no controller can be used.
func newCgroup(root string, l Limits) *cgroup {
	name := fmt.Sprintf("mlrc-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	cg := &cgroup{}
	if _, unified := cgroupLayout(root); unified != "" {
		cg.v2(unified, name, l)
	}
	if cg.memory.dir == "" {
		cg.memory = ctl{dir: makeGroup(root, "memory", name,
			setting{"memory.limit_in_bytes", strconv.FormatInt(l.Memory, 10), false},
			// memory + swap; not below the memory limit, so written second.
			setting{"memory.memsw.limit_in_bytes", strconv.FormatInt(l.Memory, 10), true})}
	}
	if cg.pids.dir == "" {
		cg.pids = ctl{dir: makeGroup(root, "pids", name, setting{"pids.max", strconv.Itoa(l.Procs), false})}
	}
	if cg.cpu.dir == "" && l.CPUs > 0 {
		const period = 100000
		cg.cpu = ctl{dir: makeGroup(root, "cpu", name,
			setting{"cpu.cfs_period_us", strconv.Itoa(period), false},
			setting{"cpu.cfs_quota_us", strconv.Itoa(int(l.CPUs * period)), false})}
	}
	if cg.memory.dir == "" && cg.pids.dir == "" && cg.cpu.dir == "" {
		return nil
	}
	return cg
}

// v2 creates the run's group in the v2 hierarchy at unified, below mlrc's
// own group, with the controllers that group can delegate.
func (cg *cgroup) v2(unified, name string, l Limits) {
	parent := filepath.Join(unified, ownCgroup(""))
	avail := v2Controllers(parent, l.CPUs > 0)
	if len(avail) == 0 {
		return
	}
	removeStale(parent)
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return
	}
	settings := map[string][]setting{
		"memory": {{"memory.max", strconv.FormatInt(l.Memory, 10), false}, {"memory.swap.max", "0", true}},
		"pids":   {{"pids.max", strconv.Itoa(l.Procs), false}},
		"cpu":    {{"cpu.max", fmt.Sprintf("%d 100000", int(l.CPUs*100000)), false}},
	}
	used := false
	for _, c := range avail {
		if write(dir, settings[c]) != nil {
			continue
		}
		used = true
		switch c {
		case "memory":
			cg.memory = ctl{dir, true}
		case "pids":
			cg.pids = ctl{dir, true}
		case "cpu":
			cg.cpu = ctl{dir, true}
		}
	}
	if !used {
		os.Remove(dir)
	}
}

// v2Controllers enables, in parent's subtree, the controllers mlrc uses
// that parent has, and returns those that are enabled. Enabling fails in a
// group that holds processes itself (mlrc's, unless it is the root): the
// subtree must be delegated to mlrc.
func v2Controllers(parent string, cpu bool) []string {
	want := []string{"memory", "pids"}
	if cpu {
		want = append(want, "cpu")
	}
	have := fields(filepath.Join(parent, "cgroup.controllers"))
	var missing []string
	for _, c := range want {
		if have[c] && !fields(filepath.Join(parent, "cgroup.subtree_control"))[c] {
			missing = append(missing, "+"+c)
		}
	}
	if len(missing) > 0 {
		os.WriteFile(filepath.Join(parent, "cgroup.subtree_control"), []byte(strings.Join(missing, " ")), 0o644)
	}
	on := fields(filepath.Join(parent, "cgroup.subtree_control"))
	var out []string
	for _, c := range want {
		if on[c] {
			out = append(out, c)
		}
	}
	return out
}

// fields reads a space-separated list of names ("+" signs dropped).
func fields(file string) map[string]bool {
	b, _ := os.ReadFile(file)
	m := map[string]bool{}
	for _, f := range strings.Fields(string(b)) {
		m[strings.TrimPrefix(f, "+")] = true
	}
	return m
}

// setting is a value written to a control file; an optional file may be
// missing (memory.memsw exists only with swap accounting).
type setting struct {
	file     string
	value    string
	optional bool
}

func write(dir string, settings []setting) error {
	for _, s := range settings {
		err := os.WriteFile(filepath.Join(dir, s.file), []byte(s.value), 0o644)
		if err != nil && !(s.optional && errors.Is(err, os.ErrNotExist)) {
			return err
		}
	}
	return nil
}

// makeGroup creates the v1 group name in controller and writes the
// settings in order. It returns the directory, or "" when that failed.
func makeGroup(root, controller, name string, settings ...setting) string {
	mount := filepath.Join(root, controller)
	if _, err := os.Stat(filepath.Join(mount, "tasks")); err != nil {
		return "" // not a cgroup v1 hierarchy
	}
	parent := mount
	if own := ownCgroup(controller); own != "" {
		if fi, err := os.Stat(filepath.Join(mount, own)); err == nil && fi.IsDir() {
			parent = filepath.Join(mount, own)
		}
	}
	removeStale(parent)
	dir := filepath.Join(parent, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return ""
	}
	if write(dir, settings) != nil {
		os.Remove(dir)
		return ""
	}
	return dir
}

// ownCgroup is mlrc's own group in a v1 controller, or in v2 for "", from
// /proc/self/cgroup.
func ownCgroup(controller string) string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if controller == "" {
			if parts[0] == "0" && parts[1] == "" {
				return parts[2]
			}
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			if c == controller {
				return parts[2]
			}
		}
	}
	return ""
}

// removeStale removes groups left by mlrc processes that no longer exist
// (a crash between creating a group and removing it).
func removeStale(parent string) {
	dirs, _ := filepath.Glob(filepath.Join(parent, "mlrc-*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.Split(filepath.Base(d), "-")[1])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.Remove(d) // fails, harmlessly, while processes remain
		}
	}
}

func (cg *cgroup) hasMemory() bool { return cg != nil && cg.memory.dir != "" }
func (cg *cgroup) hasPids() bool   { return cg != nil && cg.pids.dir != "" }
func (cg *cgroup) hasCPU() bool    { return cg != nil && cg.cpu.dir != "" }

// dirs are the distinct group directories.
func (cg *cgroup) dirs() []string {
	if cg == nil {
		return nil
	}
	var ds []string
	for _, c := range []ctl{cg.memory, cg.pids, cg.cpu} {
		if c.dir != "" && !contains(ds, c.dir) {
			ds = append(ds, c.dir)
		}
	}
	return ds
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// add moves the process pid into the groups; its children inherit them.
func (cg *cgroup) add(pid int) error {
	for _, d := range cg.dirs() {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("join cgroup %s: %w", d, err)
		}
	}
	return nil
}

// procsOf lists the processes in the group directories dirs.
func procsOf(dirs []string) []int {
	seen := map[int]bool{}
	var ps []int
	for _, d := range dirs {
		b, _ := os.ReadFile(filepath.Join(d, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if p, err := strconv.Atoi(f); err == nil && !seen[p] {
				seen[p] = true
				ps = append(ps, p)
			}
		}
	}
	return ps
}

// killAll kills every process in the groups. A v2 group is killed at once
// by cgroup.kill and waited for on its cgroup.events (populated 0); v1
// groups, which have no such events, are emptied by killing what they
// list until they are empty, looking again after 1, 2, 4… (at most 20) ms,
// for at most about two seconds.
func (cg *cgroup) killAll() {
	if cg == nil {
		return
	}
	var v1 []string
	for _, d := range cg.dirs() {
		v2 := (cg.memory.v2 && cg.memory.dir == d) || (cg.pids.v2 && cg.pids.dir == d) || (cg.cpu.v2 && cg.cpu.dir == d)
		if v2 && os.WriteFile(filepath.Join(d, "cgroup.kill"), []byte("1"), 0o644) == nil && // Linux 5.14+
			waitUnpopulated(d, 2*time.Second) {
			continue
		}
		v1 = append(v1, d) // kill what is listed
	}
	deadline := time.Now().Add(2 * time.Second)
	for pause := time.Millisecond; ; pause = min(2*pause, 20*time.Millisecond) {
		ps := procsOf(v1)
		if len(ps) == 0 || time.Now().After(deadline) {
			return
		}
		for _, p := range ps {
			syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(pause)
	}
}

// waitUnpopulated waits until the v2 group dir holds no process, woken by
// inotify on its cgroup.events, for at most timeout.
func waitUnpopulated(dir string, timeout time.Duration) bool {
	events := filepath.Join(dir, "cgroup.events")
	populated := func() bool { return counter(events, "populated") != 0 }
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return !populated()
	}
	defer unix.Close(fd)
	if _, err := unix.InotifyAddWatch(fd, events, unix.IN_MODIFY); err != nil {
		return !populated()
	}
	deadline := time.Now().Add(timeout)
	buf := make([]byte, 4096)
	for populated() {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			return false
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, ms); err != nil && err != unix.EINTR {
			return false
		}
		for {
			if n, _ := unix.Read(fd, buf); n <= 0 {
				break
			}
		}
	}
	return true
}

// oomKills is how many processes the kernel killed for lack of memory.
func (cg *cgroup) oomKills() int64 {
	switch {
	case !cg.hasMemory():
		return 0
	case cg.memory.v2:
		return counter(filepath.Join(cg.memory.dir, "memory.events"), "oom_kill")
	}
	return counter(filepath.Join(cg.memory.dir, "memory.oom_control"), "oom_kill")
}

// pidsDenied is how many forks failed at pids.max.
func (cg *cgroup) pidsDenied() int64 {
	if !cg.hasPids() {
		return 0
	}
	return counter(filepath.Join(cg.pids.dir, "pids.events"), "max")
}

// counter reads the value of key from a "key value" lines file.
func counter(file, key string) int64 {
	f, err := os.Open(file)
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		if k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// remove deletes the groups, waiting briefly for exiting processes.
func (cg *cgroup) remove() {
	for _, d := range cg.dirs() {
		for range 50 {
			if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// version names how a controller is enforced, for the notes.
func (c ctl) version() string {
	if c.v2 {
		return "cgroup v2"
	}
	return "cgroup v1"
}
