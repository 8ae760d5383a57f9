//go:build linux

package sandbox

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// withDefaults fills zero fields with the defaults. CPUTime stays zero (no
// limit of its own: the wall-clock limit bounds it).
func (l Limits) withDefaults() Limits {
	if l.Wall <= 0 {
		l.Wall = DefaultWall
	}
	if l.Memory <= 0 {
		l.Memory = DefaultMemory
	}
	if l.FileSize <= 0 {
		l.FileSize = DefaultFileSize
	}
	if l.Procs <= 0 {
		l.Procs = DefaultProcs
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	if l.Disk <= 0 {
		l.Disk = DefaultDisk
	}
	return l
}

// rlimit is one resource limit for prlimit(2).
type rlimit struct {
	resource int
	cur, max uint64
}

// rlimits are the limits set on the run's first process and inherited by
// everything it starts. Memory goes into RLIMIT_AS only without a memory
// cgroup: an address-space limit counts reservations, not use (the Python
// ML stack reserves about 1.1 GiB of address space to use 350 MiB), so it is
// the weaker layer. Processes go into RLIMIT_NPROC only without a pids
// cgroup, and only when mlrc is not root: for root, and for root-mapped user
// namespaces, the kernel does not enforce it (measured).
//
// dropped says the run is started as the unprivileged sandbox uid (mlrc is
// root): RLIMIT_NPROC binds it.
func rlimits(l Limits, cg *cgroup, dropped bool) []rlimit {
	fsize := uint64(min(l.FileSize, l.Disk))
	rl := []rlimit{
		{syscall.RLIMIT_CORE, 0, 0},
		{syscall.RLIMIT_FSIZE, fsize, fsize},
	}
	if l.CPUTime > 0 {
		// The soft limit sends SIGXCPU (reported as such); the hard one a
		// second later kills a process that ignores it.
		s := uint64((l.CPUTime + 999_999_999) / 1e9)
		rl = append(rl, rlimit{syscall.RLIMIT_CPU, s, s + 1})
	}
	if !cg.hasMemory() {
		rl = append(rl, rlimit{syscall.RLIMIT_AS, uint64(l.Memory), uint64(l.Memory)})
	}
	if !cg.hasPids() && (os.Geteuid() != 0 || dropped) {
		// The kernel counts all of this user's processes and threads, so
		// the run gets Procs on top of what is running already.
		uid := os.Getuid()
		if dropped {
			if id, _, err := sandboxIdentity(); err == nil {
				uid = id.uid
			}
		}
		n := uint64(l.Procs + userTasks(uid))
		rl = append(rl, rlimit{rlimitNproc(), n, n})
	}
	return rl
}

// setRlimits applies rl to the process pid.
func setRlimits(pid int, rl []rlimit) error {
	for _, r := range rl {
		lim := syscall.Rlimit{Cur: r.cur, Max: r.max}
		_, _, errno := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(r.resource),
			uintptr(unsafe.Pointer(&lim)), 0, 0, 0)
		if errno != 0 {
			return fmt.Errorf("prlimit %d on pid %d: %w", r.resource, pid, errno)
		}
	}
	return nil
}

// setRlimitsOf applies rl to the process pid, which runs as id (the
// sandbox uid, not mlrc's). The kernel lets a caller set another
// process's limits when the caller's real uid and gid are that process's,
// or with CAP_SYS_RESOURCE, which root in a container often lacks. So the
// call is made from a thread of its own that takes id as its real uid and
// gid only (its effective ids, and so its capabilities, stay root's) and
// that ends with it: no other goroutine ever runs with those ids.
func setRlimitsOf(pid int, rl []rlimit, id identity) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's ids differ from the process's,
		// so the runtime must end the thread with this goroutine.
		runtime.LockOSThread()
		const keep = ^uintptr(0) // -1: leave that id as it is
		if _, _, e := syscall.RawSyscall(sysSetresgid, uintptr(id.gid), keep, keep); e != 0 {
			errc <- fmt.Errorf("set the real gid to %d: %w", id.gid, e)
			return
		}
		if _, _, e := syscall.RawSyscall(sysSetresuid, uintptr(id.uid), keep, keep); e != 0 {
			errc <- fmt.Errorf("set the real uid to %d: %w", id.uid, e)
			return
		}
		errc <- setRlimits(pid, rl)
	}()
	return <-errc
}

// rlimitNproc is RLIMIT_NPROC, which package syscall does not define.
func rlimitNproc() int {
	switch runtime.GOARCH {
	case "mips", "mipsle", "mips64", "mips64le":
		return 8
	case "sparc64":
		return 7
	}
	return 6
}

// userTasks counts the threads of all processes whose real uid is uid.
func userTasks(uid int) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		f, err := os.Open("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		var mine bool
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, _ := strings.Cut(sc.Text(), ":")
			fs := strings.Fields(v)
			switch {
			case k == "Uid" && len(fs) > 0:
				mine = fs[0] == strconv.Itoa(uid)
			case k == "Threads" && mine && len(fs) > 0:
				t, _ := strconv.Atoi(fs[0])
				n += t
			}
		}
		f.Close()
	}
	return n
}

// limitNotes explains the limits the command ran into, from the cgroup's
// counters or, without them, from the signal it died of (0: none) and its
// stderr; oom is whether it ran out of memory.
func limitNotes(lim Limits, cg *cgroup, sig syscall.Signal, stderr string) (notes []string, oom bool) {
	switch {
	case cg.hasMemory():
		if cg.oomKills() > 0 {
			oom = true
			notes = append(notes, fmt.Sprintf("out of memory (limit %s)", formatSize(lim.Memory)))
		}
	case hasAny(stderr, memorySigns):
		oom = true
		notes = append(notes, fmt.Sprintf("probably out of memory (limit %s): an allocation failed", formatSize(lim.Memory)))
	case sig == syscall.SIGKILL || sig == syscall.SIGSEGV:
		notes = append(notes, fmt.Sprintf("probably out of memory (limit %s): the command died of %s", formatSize(lim.Memory), signalName[sig]))
	}
	switch {
	case cg.hasPids():
		if cg.pidsDenied() > 0 {
			notes = append(notes, fmt.Sprintf("process limit (%d) reached", lim.Procs))
		}
	case os.Geteuid() != 0 && hasAny(stderr, forkSigns):
		notes = append(notes, fmt.Sprintf("probably process limit (%d) reached", lim.Procs))
	}
	if sig == syscall.SIGXFSZ || hasAny(stderr, fileSizeSigns) {
		notes = append(notes, fmt.Sprintf("file size limit (%s) reached", formatSize(lim.FileSize)))
	}
	if lim.CPUTime > 0 && (sig == syscall.SIGXCPU || hasAny(stderr, cpuSigns)) {
		notes = append(notes, fmt.Sprintf("CPU time limit (%s) reached", formatSeconds(lim.CPUTime)))
	}
	return notes, oom
}

var signalName = map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGSEGV: "SIGSEGV"}

// limitsText says how the limits were enforced, for Result.Isolation.
func limitsText(cg *cgroup, lim Limits, disk, nproc bool) string {
	mem := "memory by RLIMIT_AS (address space, not use)"
	if cg.hasMemory() {
		mem = "memory by " + cg.memory.version()
	}
	procs := "no process limit (root without a pids cgroup)"
	switch {
	case cg.hasPids():
		procs = "processes by " + cg.pids.version()
	case nproc:
		procs = "processes by RLIMIT_NPROC (counting all the sandbox user's processes)"
	}
	parts := []string{mem, procs}
	if lim.CPUs > 0 {
		if cg.hasCPU() {
			parts = append(parts, fmt.Sprintf("CPU share (%g cores) by %s", lim.CPUs, cg.cpu.version()))
		} else {
			parts = append(parts, "no CPU share (no cpu cgroup)")
		}
	}
	if disk {
		parts = append(parts, fmt.Sprintf("disk by watching the writable mounts (quota %s)", formatSize(lim.Disk)))
	}
	return "limits: " + strings.Join(parts, ", ") + ", file size and CPU time by rlimits"
}
