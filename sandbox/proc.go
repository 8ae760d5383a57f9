//go:build linux

package sandbox

import (
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// proc is one process as /proc/<pid>/stat shows it.
type proc struct {
	pid, ppid, sid int
	state          byte
	comm           string
}

// procs lists the host's processes.
func procs() map[int]proc {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	ps := make(map[int]proc, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(pid); ok {
			ps[pid] = p
		}
	}
	return ps
}

// readProc reads process pid's /proc/<pid>/stat; false when it is gone.
func readProc(pid int) (proc, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	// pid (comm) state ppid pgrp session …; comm may hold spaces and
	// parentheses, so split at the last ')'.
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return proc{}, false
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 4 {
		return proc{}, false
	}
	p := proc{pid: pid, comm: s[open+1 : end], state: f[0][0]}
	p.ppid, _ = strconv.Atoi(f[1])
	p.sid, _ = strconv.Atoi(f[3])
	return p, true
}

// leftovers are the run's processes still alive after its command exited:
// descendants of the first process (the shim, pid root) and members of its
// session, except the shim, zombies, and the init of a nested pid
// namespace (bwrap's reaper, which only waits for the others).
//
// members, when not nil, lists the run's processes already: its cgroup's,
// where nothing the run starts can leave the group (see runMembers). Then
// only those are read, not the host's whole process table.
func leftovers(root int, members func() []int) []proc {
	if members != nil {
		var left []proc
		for _, pid := range members() {
			p, ok := readProc(pid)
			if !ok || pid == root || p.state == 'Z' || p.state == 'X' || nsInit(pid) {
				continue
			}
			left = append(left, p)
		}
		return left
	}
	ps := procs()
	children := map[int][]int{}
	for _, p := range ps {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	run := map[int]bool{}
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if !run[c] {
				run[c] = true
				queue = append(queue, c)
			}
		}
	}
	for _, p := range ps {
		if p.sid == root {
			run[p.pid] = true
		}
	}
	var left []proc
	for pid := range run {
		p, ok := ps[pid]
		if !ok || pid == root || p.state == 'Z' || p.state == 'X' || nsInit(pid) {
			continue
		}
		left = append(left, p)
	}
	return left
}

// lingering is leftovers that are still there a moment later: processes of
// the sandbox's own machinery (bwrap) that are exiting with the command are
// not the command's background processes. It waits on each process's
// pidfd, so it returns as soon as they have all exited, and at most after
// lingerWait.
func lingering(root int, members func() []int) []proc {
	left := leftovers(root, members)
	if len(left) == 0 {
		return nil
	}
	type watched struct {
		p  proc
		fd int
	}
	var ws []watched
	for _, p := range left {
		fd, err := unix.PidfdOpen(p.pid, 0)
		if err != nil {
			continue // gone already
		}
		ws = append(ws, watched{p, fd})
	}
	defer func() {
		for _, w := range ws {
			unix.Close(w.fd)
		}
	}()
	deadline := time.Now().Add(lingerWait)
	for len(ws) > 0 {
		ms := int(time.Until(deadline) / time.Millisecond)
		if ms <= 0 {
			break
		}
		pfds := make([]unix.PollFd, len(ws))
		for i, w := range ws {
			pfds[i] = unix.PollFd{Fd: int32(w.fd), Events: unix.POLLIN}
		}
		if _, err := unix.Poll(pfds, ms); err != nil && err != unix.EINTR {
			break
		}
		still := ws[:0]
		for i, w := range ws {
			if pfds[i].Revents != 0 { // exited
				unix.Close(w.fd)
				continue
			}
			still = append(still, w)
		}
		ws = still
	}
	// Still alive, and still the run's (not a reused pid elsewhere).
	again := map[int]bool{}
	for _, p := range leftovers(root, members) {
		again[p.pid] = true
	}
	var out []proc
	for _, w := range ws {
		if again[w.p.pid] {
			out = append(out, w.p)
		}
	}
	return out
}

// lingerWait is how long a process found after the command exited may take
// to exit before it counts as left running.
const lingerWait = 260 * time.Millisecond

// nsInit reports whether pid is pid 1 in its innermost pid namespace.
func nsInit(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "NSpid:"); ok {
			f := strings.Fields(v)
			return len(f) > 1 && f[len(f)-1] == "1"
		}
	}
	return false
}

// names lists the distinct command names of ps.
func names(ps []proc) []string {
	seen := map[string]bool{}
	var ns []string
	for _, p := range ps {
		if !seen[p.comm] {
			seen[p.comm] = true
			ns = append(ns, p.comm)
		}
	}
	sort.Strings(ns)
	return ns
}
