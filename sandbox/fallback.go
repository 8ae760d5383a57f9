//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// Fallback runs commands without bubblewrap, with what Go can set up by
// itself: new user (nobody inside, mapped to mlrc's uid, no capabilities),
// pid, network (not even loopback is up), ipc and uts namespaces, the same
// limits, a scrubbed environment and the same timeout and output capture.
//
// It cannot hide or protect the filesystem: Go cannot mount anything
// between creating the namespaces and starting the command, so a new mount
// namespace would show the same files. The command reads and writes what
// mlrc's uid can, Spec.ReadOnly is not enforced, and mount targets are not
// honoured (the command sees host paths; Dir is translated). For root this
// is every root-owned file (/root, /etc/shadow, cron directories…), so
// against code that sets out to escape the fallback is no boundary. The
// host's processes show in /proc, though their environments and memory are
// refused (the kernel's ptrace check fails across the user namespace).
// Where even user namespaces are refused, it runs the command in a new
// session only. Result.Isolation says which.
//
// Use it through a pointer.
type Fallback struct {
	once sync.Once
	ns   bool // namespaces work
}

func (f *Fallback) probe() {
	f.once.Do(func() {
		cmd := exec.Command("/bin/true")
		attr := fallbackNamespaces()
		cmd.SysProcAttr = &attr
		f.ns = cmd.Run() == nil
	})
}

// fallbackNamespaces are the namespaces the fallback creates.
func fallbackNamespaces() syscall.SysProcAttr {
	const nobody = 65534
	return syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWUSER | syscall.CLONE_NEWPID | syscall.CLONE_NEWNET |
			syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: nobody, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: nobody, HostID: os.Getgid(), Size: 1}},
		Credential:  &syscall.Credential{Uid: nobody, Gid: nobody, NoSetGroups: true},
	}
}

// Run runs spec.Command with the fallback's weaker isolation.
func (f *Fallback) Run(ctx context.Context, spec Spec) (*Result, error) {
	f.probe()
	spec, err := check(spec)
	if err != nil {
		return nil, err
	}
	env, err := environ(spec.Env)
	if err != nil {
		return nil, err
	}
	// Without a mount namespace the command sees host paths.
	dir := spec.Dir
	if host, _, ok := hostPath(spec.Mounts, dir); ok {
		dir = host
	}
	who := "root without capabilities, so it can read and write every root-owned file"
	if os.Geteuid() != 0 {
		who = fmt.Sprintf("uid %d, so it can read and write whatever that user can", os.Getuid())
	}
	l := launch{argv: spec.Command, env: env, dir: dir, watch: writable(spec.Mounts),
		stdout: spec.Stdout, stderr: spec.Stderr, started: spec.Started}
	if f.ns {
		l.attr = fallbackNamespaces()
		l.isolation = "fallback: no bubblewrap; the filesystem is not hidden and not write-protected " +
			"(the command runs as " + who + ", and read-only paths are not enforced); " +
			"only the network, process ids (pid namespace), limits and the environment are isolated"
	} else {
		l.isolation = "fallback: no bubblewrap and no user namespaces; nothing is isolated " +
			"but the environment (the command runs as " + who + ", with the host's network); " +
			"limits apply, and the run's process group and session are killed at the end"
	}
	return execute(ctx, l, spec.Limits.withDefaults())
}
