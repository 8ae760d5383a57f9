//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// shimScript is the run's first process, /bin/sh, pid 1 of a new pid
// namespace. It waits on fd 3 until mlrc has put it into the run's cgroup
// and set its rlimits (so everything it starts inherits them), runs the
// command, closes bwrap's status fd 5, reports the exit status on fd 4, and
// keeps the namespace alive until mlrc has looked for background processes
// and kills it. Killing it, pid 1, kills everything in the namespace.
// Its own messages (sh reports "Killed" for a killed child) go to
// /dev/null; the command gets the real stderr, saved on fd 6, in a subshell
// (sh applies a simple command's redirections in the parent, messages and
// all).
//
// This replaces bwrap's --die-with-parent: with it, bwrap kills the
// sandbox as soon as the command exits, so background processes could not
// be seen and reported. The shim gets SIGKILL when mlrc dies (Pdeathsig),
// which takes the sandbox with it just the same.
const shimScript = `exec 6>&2 2>/dev/null
read -r _ <&3 || exit 125
(exec "$@") 2>&6 3<&- 4>&- 6>&-
st=$?
exec 5>&- 6>&-
echo "$st" >&4
exec 4>&-
read -r _ <&3
`

// launch is what a runner hands to execute.
type launch struct {
	argv      []string            // what the shim runs
	env       []string            // the shim's environment, passed on to argv
	dir       string              // the shim's working directory; "" keeps mlrc's
	attr      syscall.SysProcAttr // namespaces and credentials of the shim
	bwrap     bool                // argv is bwrap, writing JSON status to fd 5
	extra     []*os.File          // passed on from fd 7 (fd 6 is the shim's own)
	setup     func(pid int) error // run on the shim before it is released
	watch     []string            // host directories counted against Limits.Disk
	dropped   bool                // the shim runs as the sandbox uid, not as root (mlrc's uid)
	id        identity            // the sandbox uid, when dropped
	isolation string              // what the runner isolates
	phases    *timeline           // where the time goes; nil: not kept
	// stdout and stderr also get the output as it comes (Spec.Stdout,
	// Spec.Stderr); started hears the shim's pid once released.
	stdout, stderr io.Writer
	started        func(pid int)
}

// outcome is how a run ended, as seen from outside.
type outcome struct {
	code      int // exit status the shim reported; -1: none
	timedOut  bool
	cancelled bool
	left      []proc // background processes found after the command exited
	duration  time.Duration
	disk      int64 // bytes in the watched directories when the quota stopped the run; 0: it did not
}

// execute runs l under the limits and collects the result.
func execute(ctx context.Context, l launch, lim Limits) (*Result, error) {
	tl := l.phases
	cg := newCgroup(cgroupRoot, lim)
	tl.mark("cgroup")
	defer cg.remove()
	s, err := startShim(l, lim)
	if err != nil {
		return nil, err
	}
	defer s.close()
	tl.mark("start")
	if l.setup != nil {
		if err := l.setup(s.pid); err != nil {
			s.stop(nil, cg)
			return nil, fmt.Errorf("sandbox: set up mounts: %w", err)
		}
		tl.mark("stage")
	}
	if err := s.release(cg, rlimits(lim, cg, l.dropped), l); err != nil {
		s.stop(nil, cg)
		return nil, fmt.Errorf("sandbox: set up limits: %w", err)
	}
	tl.mark("limits")
	if l.started != nil {
		l.started(s.pid)
	}
	quota := watchDisk(l.watch, lim.Disk)
	out := s.wait(ctx, lim.Wall, quota.exceeded, runMembers(l, cg), tl)
	quota.stop()
	s.stop(out.left, cg)
	tl.mark("stop")
	if out.cancelled {
		return nil, fmt.Errorf("sandbox: run cancelled: %w", ctx.Err())
	}
	if l.bwrap && !out.timedOut && out.code >= 0 && !bwrapExited(s.bwrapStatus) {
		return nil, fmt.Errorf("sandbox: bwrap failed (exit %d): %s", out.code, strings.TrimSpace(s.stderr.Output().Text))
	}
	return s.result(l, lim, cg, out), nil
}

// runMembers lists the run's processes from its cgroup, or is nil when the
// host's process table must be searched instead. Only under bwrap: there
// the command sees no /sys and runs as an unprivileged uid, so nothing it
// starts can move itself out of the group; the fallback's command, root
// without capabilities for root, could write cgroup.procs.
func runMembers(l launch, cg *cgroup) func() []int {
	ds := cg.dirs()
	if !l.bwrap || len(ds) == 0 {
		return nil
	}
	return func() []int { return procsOf(ds[:1]) }
}

// shim is the run's first process with its pipes.
type shim struct {
	cmd            *exec.Cmd
	pid            int
	ctl            *os.File // the shim's fd 3: go on, then exit
	status         *os.File // the shim's fd 4: the command's exit status
	stdout, stderr *capture
	bwrapStatus    []byte // bwrap's JSON status, from fd 5
	readers        sync.WaitGroup
	readEnds       []*os.File
	exited         chan struct{}
	start          time.Time
}

// startShim starts the shim, blocked until release, and drains its output.
// It locks the goroutine to its thread until close: Pdeathsig fires when
// the thread that started the shim ends.
func startShim(l launch, lim Limits) (*shim, error) {
	var p [5][2]*os.File // ctl, status, bwrap status, stdout, stderr
	for i := range p {
		r, w, err := os.Pipe()
		if err != nil {
			closeAll(p[:i])
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		p[i] = [2]*os.File{r, w}
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", shimScript, "mlrc-sandbox"}, l.argv...)...)
	cmd.Env = append([]string{}, l.env...) // never nil: nil would inherit mlrc's
	cmd.Dir = l.dir
	cmd.Stdout, cmd.Stderr = p[3][1], p[4][1]
	cmd.ExtraFiles = []*os.File{p[0][0], p[1][1]}
	if l.bwrap {
		cmd.ExtraFiles = append(cmd.ExtraFiles, p[2][1])
	}
	if len(l.extra) > 0 {
		for len(cmd.ExtraFiles) < 4 {
			cmd.ExtraFiles = append(cmd.ExtraFiles, nil)
		}
		cmd.ExtraFiles = append(cmd.ExtraFiles, l.extra...)
	}
	attr := l.attr
	attr.Setsid = true
	attr.Pdeathsig = syscall.SIGKILL
	cmd.SysProcAttr = &attr

	runtime.LockOSThread()
	err := cmd.Start()
	for _, f := range []*os.File{p[0][0], p[1][1], p[2][1], p[3][1], p[4][1]} {
		f.Close()
	}
	if err != nil {
		runtime.UnlockOSThread()
		closeAll(p[:])
		return nil, fmt.Errorf("sandbox: start %s: %w", l.argv[0], err)
	}
	s := &shim{
		cmd: cmd, pid: cmd.Process.Pid, ctl: p[0][1], status: p[1][0],
		stdout: newCapture(lim.Output), stderr: newCapture(lim.Output),
		readEnds: []*os.File{p[2][0], p[3][0], p[4][0]},
		exited:   make(chan struct{}), start: time.Now(),
	}
	go func() { cmd.Wait(); close(s.exited) }()
	s.drain(tee(s.stdout, l.stdout), p[3][0])
	s.drain(tee(s.stderr, l.stderr), p[4][0])
	s.drain(writerFunc(func(b []byte) (int, error) {
		if len(s.bwrapStatus) < 64<<10 {
			s.bwrapStatus = append(s.bwrapStatus, b...)
		}
		return len(b), nil
	}), p[2][0])
	return s, nil
}

// tee writes to c and, when it is set, to w too; w's errors are ignored:
// the capture must get everything.
func tee(c *capture, w io.Writer) io.Writer {
	if w == nil {
		return c
	}
	return writerFunc(func(b []byte) (int, error) {
		w.Write(b)
		return c.Write(b)
	})
}

func (s *shim) drain(w io.Writer, r io.Reader) {
	s.readers.Add(1)
	go func() {
		defer s.readers.Done()
		io.CopyBuffer(w, r, make([]byte, 256<<10))
	}()
}

// release puts the shim into the cgroup, sets its rlimits and lets it run
// the command; everything the command starts inherits both.
func (s *shim) release(cg *cgroup, rl []rlimit, l launch) error {
	if err := cg.add(s.pid); err != nil {
		return err
	}
	set := setRlimits
	if l.dropped {
		set = func(pid int, rl []rlimit) error { return setRlimitsOf(pid, rl, l.id) }
	}
	if err := set(s.pid, rl); err != nil {
		return err
	}
	_, err := s.ctl.Write([]byte("go\n"))
	return err
}

// wait waits for the command's exit status, the wall-clock limit or ctx.
// When the command has exited, it looks for the background processes it
// left while they are still there.
func (s *shim) wait(ctx context.Context, wall time.Duration, quota <-chan int64, members func() []int, tl *timeline) outcome {
	done := make(chan int, 1)
	go func() {
		line, err := bufio.NewReader(s.status).ReadString('\n')
		n, convErr := strconv.Atoi(strings.TrimSpace(line))
		if err != nil || convErr != nil {
			n = -1 // the shim died before reporting
		}
		done <- n
	}()
	timer := time.NewTimer(wall)
	defer timer.Stop()
	out := outcome{code: -1}
	select {
	case out.code = <-done:
		tl.mark("command")
		if out.code >= 0 {
			out.left = lingering(s.pid, members)
			tl.mark("leftovers")
		}
	case <-timer.C:
		out.timedOut = true
	case out.disk = <-quota:
	case <-ctx.Done():
		out.cancelled = true
	}
	out.duration = time.Since(s.start)
	return out
}

// stop kills the run, waits for the shim and for the output to be read.
// The shim is waited for before the cgroup is emptied: as pid 1 of the
// run's pid namespace it is reaped only after everything in that
// namespace has died, so the group is then usually empty already.
func (s *shim) stop(left []proc, cg *cgroup) {
	kill(s.pid, left)
	<-s.exited
	cg.killAll()
	waitDrained(&s.readers, s.readEnds...)
}

func (s *shim) close() {
	s.ctl.Close()
	s.status.Close()
	for _, f := range s.readEnds {
		f.Close()
	}
	runtime.UnlockOSThread()
}

// result interprets the outcome for the agent.
func (s *shim) result(l launch, lim Limits, cg *cgroup, out outcome) *Result {
	res := &Result{
		ExitCode:  -1,
		Stdout:    s.stdout.Output(),
		Stderr:    s.stderr.Output(),
		Duration:  out.duration,
		TimedOut:  out.timedOut,
		Isolation: l.isolation + "; " + limitsText(cg, lim, len(l.watch) > 0, os.Geteuid() != 0 || l.dropped),
	}
	var sig syscall.Signal
	switch {
	case out.timedOut:
		res.Signal = syscall.SIGKILL.String()
		res.Notes = append(res.Notes, fmt.Sprintf("killed after %s (the time limit)", formatSeconds(lim.Wall)))
	case out.disk > 0:
		res.Signal = syscall.SIGKILL.String()
		res.DiskExceeded = true
		res.Notes = append(res.Notes, fmt.Sprintf("disk quota of %s exceeded: %s written; the run was stopped", formatSize(lim.Disk), formatAmount(out.disk)))
	case out.code < 0: // the shim itself was killed, e.g. by the OOM killer
		res.Signal = syscall.SIGKILL.String()
		if ws, ok := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Signal = ws.Signal().String()
		}
	case out.code > 128 && out.code <= 128+64:
		// sh and bwrap report a death by signal n as 128+n.
		sig = syscall.Signal(out.code - 128)
		res.Signal = sig.String()
	default:
		res.ExitCode = out.code
	}
	notes, oom := limitNotes(lim, cg, sig, res.Stderr.Text)
	res.OOM = oom
	res.Notes = append(res.Notes, notes...)
	if len(out.left) > 0 {
		res.Notes = append(res.Notes, leftoverNote(len(out.left), names(out.left)))
	}
	if n := outputNote(lim.Output, res.Stdout, res.Stderr); n != "" {
		res.Notes = append(res.Notes, n)
	}
	return res
}

func closeAll(ps [][2]*os.File) {
	for _, p := range ps {
		p[0].Close()
		p[1].Close()
	}
}

// kill ends the run: the shim (pid 1 of the run's namespace, whose death
// kills the rest), its process group and the leftovers found; stop then
// kills whatever is still in the cgroup.
func kill(pid int, left []proc) {
	syscall.Kill(pid, syscall.SIGKILL)
	syscall.Kill(-pid, syscall.SIGKILL)
	for _, p := range left {
		syscall.Kill(p.pid, syscall.SIGKILL)
	}
}

// waitDrained waits for the output readers; if something outside the run
// still holds a pipe after two seconds, it closes the pipes to stop them.
func waitDrained(wg *sync.WaitGroup, rs ...*os.File) {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(2 * time.Second):
		for _, r := range rs {
			r.Close()
		}
		<-ch
	}
}

// bwrapExited reports whether bwrap's JSON status says the command ran and
// exited; without it, bwrap failed to set the sandbox up.
func bwrapExited(status []byte) bool {
	dec := json.NewDecoder(strings.NewReader(string(status)))
	for {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return false
		}
		if _, ok := m["exit-code"]; ok {
			return true
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
