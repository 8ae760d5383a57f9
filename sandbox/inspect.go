//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Enforcement is one isolation measure or limit and whether it is in
// force here, with how or why not.
type Enforcement struct {
	Name     string
	Enforced bool
	How      string
}

// inspectScript runs inside the sandbox and reports what it sees: its
// seccomp mode, whether a host sysctl opens for
// writing (opened, never written) and a file for the host to look at.
const inspectScript = `grep '^Seccomp:' /proc/self/status
if (exec 3<>/proc/sys/kernel/core_pattern) 2>/dev/null; then echo SYSCTL writable; else echo SYSCTL refused; fi
if (exec 3<>/proc/sysrq-trigger) 2>/dev/null; then echo SYSRQ writable; else echo SYSRQ refused; fi
: > owned
`

// Inspect runs a probe in r and says which isolation and limits are in
// force: the host uid the command's files get, seccomp, /proc/sys, the
// cgroup layout and the memory, process, CPU and disk limits.
func Inspect(ctx context.Context, r Runner) ([]Enforcement, error) {
	ws, err := os.MkdirTemp("", "mlrc-inspect-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(ws)
	res, err := r.Run(ctx, Spec{Command: []string{"/bin/sh", "-c", inspectScript},
		Mounts: []Mount{{Source: ws, Writable: true}}})
	if err != nil {
		return nil, err
	}
	if !res.OK() {
		return nil, fmt.Errorf("sandbox: the probe failed: exit %d: %s", res.ExitCode, res.Stderr.Text)
	}
	out := res.Stdout.Text
	var es []Enforcement

	uid := Enforcement{Name: "uid mapping"}
	if fi, err := os.Lstat(filepath.Join(ws, "owned")); err == nil {
		owner, _ := fileOwner(fi)
		uid.Enforced = owner != 0
		uid.How = fmt.Sprintf("the command is nobody inside; files it writes are owned by host uid %d", owner)
		if owner == 0 {
			uid.How += ": root on the host; setuid files it makes run as root"
		}
	}
	es = append(es, uid)

	sc := Enforcement{Name: "seccomp"}
	switch {
	case strings.Contains(out, "Seccomp:\t2"):
		sc.Enforced = true
		sc.How = fmt.Sprintf("filter mode: %d system calls denied (mount, namespaces, ptrace, bpf, keyrings, modules, perf, userfaultfd…)", len(deniedSyscalls))
	default:
		sc.How = "no filter: " + isolationKind(res.Isolation) + " does not install one"
	}
	es = append(es, sc)

	ps := Enforcement{Name: "/proc/sys"}
	switch {
	case strings.Contains(out, "SYSCTL refused") && !strings.Contains(out, "SYSRQ writable"):
		ps.Enforced = true
		ps.How = "kernel settings and sysrq-trigger cannot be opened for writing"
	default:
		ps.How = "kernel/core_pattern opens for writing inside: the command can change host kernel settings"
	}
	es = append(es, ps)

	layout, _ := cgroupLayout(cgroupRoot)
	cg := newCgroup(cgroupRoot, Limits{CPUs: 1}.withDefaults())
	defer cg.remove()
	es = append(es, Enforcement{Name: "cgroups", Enforced: cg != nil, How: cgroupHow(layout, cg)})
	mem := Enforcement{Name: "memory limit", How: "RLIMIT_AS only: bounds address space, not use (no memory cgroup)"}
	if cg.hasMemory() {
		mem = Enforcement{Name: "memory limit", Enforced: true, How: "by " + cg.memory.version() + " (memory in use, swap included)"}
	}
	es = append(es, mem)
	procs := Enforcement{Name: "process limit"}
	switch {
	case cg.hasPids():
		procs.Enforced, procs.How = true, "by "+cg.pids.version()
	case strings.Contains(res.Isolation, "RLIMIT_NPROC"):
		procs.Enforced, procs.How = true, "RLIMIT_NPROC of the sandbox uid (no pids cgroup)"
	default:
		procs.How = "none: no pids cgroup, and RLIMIT_NPROC does not bind root"
	}
	es = append(es, procs)
	cpu := Enforcement{Name: "CPU share", How: "none: no cpu controller (the wall-clock limit still applies)"}
	if cg.hasCPU() {
		cpu = Enforcement{Name: "CPU share", Enforced: true, How: "by " + cg.cpu.version() + " when Limits.CPUs is set"}
	}
	es = append(es, cpu)
	tmp := "a size-bounded private /tmp"
	if isolationKind(res.Isolation) != "bwrap" {
		tmp = "no private /tmp (the host's is used)"
	}
	es = append(es, Enforcement{Name: "disk quota", Enforced: true,
		How: fmt.Sprintf("writable mounts measured while the command runs (default %s), RLIMIT_FSIZE, %s", formatSize(DefaultDisk), tmp)})
	return es, nil
}

func isolationKind(isolation string) string {
	kind, _, _ := strings.Cut(isolation, ":")
	return kind
}

func cgroupHow(layout string, cg *cgroup) string {
	var used []string
	if cg != nil {
		for _, c := range []struct {
			name string
			ctl  ctl
		}{{"memory", cg.memory}, {"pids", cg.pids}, {"cpu", cg.cpu}} {
			if c.ctl.dir != "" {
				used = append(used, c.name+" ("+c.ctl.version()+")")
			}
		}
	}
	host := map[string]string{"v2": "cgroup v2 (unified)", "hybrid": "hybrid: v1 controllers, v2 at unified/",
		"v1": "cgroup v1", "none": "no cgroups mounted"}[layout]
	if len(used) == 0 {
		why := "mlrc may not create groups here (not root, or no delegated subtree)"
		if layout == "hybrid" {
			why = "v2 holds no controllers here and v1 groups could not be created"
		}
		return host + "; none used: " + why
	}
	s := host + "; used: " + strings.Join(used, ", ")
	if layout == "hybrid" && !cg.memory.v2 && !cg.pids.v2 {
		s += " (v2 at unified/ holds no controllers here)"
	}
	return s
}
