//go:build linux

package sandbox

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"

	seccomp "github.com/elastic/go-seccomp-bpf"
	"github.com/elastic/go-seccomp-bpf/arch"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM inside the sandbox: nothing an ML
// experiment needs, and each a way to reach the kernel's less-trodden
// paths or other processes: mounting, namespaces, tracing, kernel modules
// and keyrings, eBPF, perf, userfaultfd (a favourite of exploits), file
// handles that bypass paths, the clock, swap, reboot, accounting.
var deniedSyscalls = []string{
	"mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
	"fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
	"unshare", "setns",
	"ptrace", "process_vm_writev", "process_vm_readv",
	"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
	"bpf", "perf_event_open", "userfaultfd", "fanotify_init",
	"keyctl", "add_key", "request_key",
	"open_by_handle_at", "name_to_handle_at",
	"reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
	"settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
	"iopl", "ioperm", "syslog", "vhangup", "uselib", "_sysctl", "nfsservctl", "lookup_dcookie",
}

// newNamespaces are the clone flags that create namespaces.
const newNamespaces = unix.CLONE_NEWUSER | unix.CLONE_NEWNS | unix.CLONE_NEWPID | unix.CLONE_NEWNET |
	unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

var (
	filterOnce  sync.Once
	filterBytes []byte
	filterErr   error
)

// seccompFilter is the compiled filter in the form bwrap's --seccomp
// reads: struct sock_filter entries in native byte order. clone with a
// namespace flag fails with EPERM; clone3, whose flags the filter cannot
// see, fails with ENOSYS so that the C library falls back to clone.
func seccompFilter() ([]byte, error) {
	filterOnce.Do(func() {
		info, err := arch.GetInfo("")
		if err != nil {
			filterErr = fmt.Errorf("sandbox: seccomp: %w", err)
			return
		}
		var names []string
		for _, n := range deniedSyscalls {
			if _, ok := info.SyscallNames[n]; ok {
				names = append(names, n)
			}
		}
		groups := []seccomp.SyscallGroup{{Action: seccomp.ActionErrno, Names: names}}
		if _, ok := info.SyscallNames["clone3"]; ok {
			groups = append(groups, seccomp.SyscallGroup{
				Action: seccomp.ActionErrno | seccomp.Action(unix.ENOSYS), Names: []string{"clone3"}})
		}
		// clone's flags are its first argument on the architectures
		// mlrc builds for (amd64, arm64, 386, arm).
		groups = append(groups, seccomp.SyscallGroup{Action: seccomp.ActionErrno,
			NamesWithCondtions: []seccomp.NameWithConditions{{Name: "clone", Conditions: seccomp.ArgumentConditions{
				{Argument: 0, Operation: seccomp.BitsSet, Value: newNamespaces}}}}})
		policy := seccomp.Policy{DefaultAction: seccomp.ActionAllow, Syscalls: groups}
		prog, err := policy.Assemble()
		if err != nil {
			filterErr = fmt.Errorf("sandbox: seccomp: %w", err)
			return
		}
		raw, err := bpf.Assemble(prog)
		if err != nil {
			filterErr = fmt.Errorf("sandbox: seccomp: %w", err)
			return
		}
		b := make([]byte, 0, 8*len(raw))
		for _, ins := range raw {
			b = binary.NativeEndian.AppendUint16(b, ins.Op)
			b = append(b, ins.Jt, ins.Jf)
			b = binary.NativeEndian.AppendUint32(b, ins.K)
		}
		filterBytes = b
	})
	return filterBytes, filterErr
}

// seccompFile is a pipe holding the filter, for bwrap to read.
func seccompFile() (*os.File, error) {
	b, err := seccompFilter()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("sandbox: %w", err)
	}
	defer w.Close()
	if _, err := w.Write(b); err != nil { // a few hundred bytes: fits the pipe
		r.Close()
		return nil, fmt.Errorf("sandbox: seccomp: %w", err)
	}
	return r, nil
}
