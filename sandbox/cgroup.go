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
)

// cgroupRoot is where the cgroup v1 controllers are mounted.
const cgroupRoot = "/sys/fs/cgroup"

var cgroupSeq atomic.Int64

// cgroup is one run's cgroup v1 group in the memory and pids controllers.
// An empty directory means the controller was not available; a nil *cgroup
// means neither was. cgroup v2 is not implemented: where v1 controllers
// are missing (or mlrc is not root), the limits fall back to rlimits.
type cgroup struct {
	memory string
	pids   string
}

// newCgroup creates the run's groups below mlrc's own and sets the limits.
// It returns nil when no controller can be used.
func newCgroup(l Limits) *cgroup {
	name := fmt.Sprintf("mlrc-%d-%d", os.Getpid(), cgroupSeq.Add(1))
	cg := &cgroup{
		memory: makeGroup("memory", name,
			setting{"memory.limit_in_bytes", l.Memory, false},
			// memory + swap; not below the memory limit, so written second.
			setting{"memory.memsw.limit_in_bytes", l.Memory, true}),
		pids: makeGroup("pids", name, setting{"pids.max", int64(l.Procs), false}),
	}
	if cg.memory == "" && cg.pids == "" {
		return nil
	}
	return cg
}

// setting is a value written to a control file; an optional file may be
// missing (memory.memsw exists only with swap accounting).
type setting struct {
	file     string
	value    int64
	optional bool
}

// makeGroup creates the group name in controller and writes the settings
// in order. It returns the directory, or "" when that failed.
func makeGroup(controller, name string, settings ...setting) string {
	mount := filepath.Join(cgroupRoot, controller)
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
	for _, s := range settings {
		err := os.WriteFile(filepath.Join(dir, s.file), []byte(strconv.FormatInt(s.value, 10)), 0)
		if err != nil && !(s.optional && errors.Is(err, os.ErrNotExist)) {
			os.Remove(dir)
			return ""
		}
	}
	return dir
}

// ownCgroup is mlrc's own group in controller, from /proc/self/cgroup.
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

func (cg *cgroup) hasMemory() bool { return cg != nil && cg.memory != "" }
func (cg *cgroup) hasPids() bool   { return cg != nil && cg.pids != "" }

func (cg *cgroup) dirs() []string {
	var ds []string
	if cg.hasMemory() {
		ds = append(ds, cg.memory)
	}
	if cg.hasPids() {
		ds = append(ds, cg.pids)
	}
	return ds
}

// add moves the process pid into the groups; its children inherit them.
func (cg *cgroup) add(pid int) error {
	for _, d := range cg.dirs() {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0); err != nil {
			return fmt.Errorf("join cgroup %s: %w", d, err)
		}
	}
	return nil
}

// procs lists the processes in the groups.
func (cg *cgroup) procs() []int {
	seen := map[int]bool{}
	var ps []int
	for _, d := range cg.dirs() {
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

// killAll kills every process in the groups until they are empty, for at
// most about two seconds.
func (cg *cgroup) killAll() {
	if cg == nil {
		return
	}
	for range 100 {
		ps := cg.procs()
		if len(ps) == 0 {
			return
		}
		for _, p := range ps {
			syscall.Kill(p, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// oomKills is how many processes the kernel killed for lack of memory.
func (cg *cgroup) oomKills() int64 {
	if !cg.hasMemory() {
		return 0
	}
	return counter(filepath.Join(cg.memory, "memory.oom_control"), "oom_kill")
}

// pidsDenied is how many forks failed at pids.max.
func (cg *cgroup) pidsDenied() int64 {
	if !cg.hasPids() {
		return 0
	}
	return counter(filepath.Join(cg.pids, "pids.events"), "max")
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
	if cg == nil {
		return
	}
	for _, d := range cg.dirs() {
		for range 50 {
			if err := os.Remove(d); err == nil || errors.Is(err, os.ErrNotExist) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
