//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bwrap runs commands under bubblewrap. Inside, the command is nobody
// (uid 65534, no capabilities, mapped to the host uid of sandboxIdentity:
// never root) in its own user, pid, network (loopback only), mount, ipc,
// uts and cgroup namespaces, under the seccomp filter of seccompFilter. It sees /usr and the merged-
// usr links read-only, a short list of harmless /etc files, its own /proc,
// a minimal /dev, a private /tmp and the Spec's mounts; nothing else of the
// host (no home, no /root, no run store). The root is read-only. The
// environment is only the Spec's.
//
// Use it through a pointer; the zero value finds bwrap itself.
type Bwrap struct {
	// Path is the bwrap binary; empty means "bwrap" on PATH, else
	// /usr/bin/bwrap.
	Path string

	once          sync.Once
	path          string
	disableUserns bool // bwrap ≥ 0.8: forbid user namespaces inside
	// asRoot: mlrc is root but bwrap cannot run as the sandbox uid here
	// (unprivileged user namespaces are off), so it runs as root, nobody
	// inside mapping to host root: the next-best isolation, said in
	// every Result.
	asRoot    bool
	asRootWhy string
	err       error
}

// etcFiles are the /etc entries the sandbox sees: what the dynamic linker,
// Debian's BLAS alternatives, Python, matplotlib and name lookups read.
// Whole /etc is not shown: it holds credentials (odbc.ini, pip.conf,
// gitconfig, shadow — readable inside when uid 65534 maps to the uid that
// runs mlrc, as it does for a user who is not root).
var etcFiles = []string{
	"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
	"passwd", "group", "nsswitch.conf", "hosts", "host.conf", "gai.conf",
	"protocols", "services", "networks", "localtime", "timezone",
	"os-release", "debian_version", "locale.alias", "mime.types",
	"python3", "python3.11", "python3.12", "python3.13",
	"matplotlibrc", "fonts", "ssl/certs", "ca-certificates.conf",
}

// Check reports whether bwrap can be found and can start a sandbox here.
func (b *Bwrap) Check() error {
	b.once.Do(func() {
		name := b.Path
		if name == "" {
			name = "bwrap"
		}
		b.path, b.err = exec.LookPath(name)
		if b.err != nil && b.Path == "" {
			b.path, b.err = exec.LookPath("/usr/bin/bwrap")
		}
		if b.err != nil {
			b.err = fmt.Errorf("sandbox: bubblewrap not found (install the bubblewrap package): %w", b.err)
			return
		}
		help, _ := exec.Command(b.path, "--help").CombinedOutput()
		b.disableUserns = bytes.Contains(help, []byte("--disable-userns"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := b.run(ctx, Spec{Command: []string{"/bin/true"}, Dir: "/"})
		if _, dropped, _ := sandboxIdentity(); dropped && (err != nil || !res.OK()) {
			why := "bwrap cannot run as the sandbox uid here"
			if err != nil {
				why += ": " + err.Error()
			}
			if r := usernsRestriction(); r != "" {
				why += " (" + r + ")"
			}
			b.asRoot, b.asRootWhy = true, why
			res, err = b.run(ctx, Spec{Command: []string{"/bin/true"}, Dir: "/"})
		}
		switch {
		case err != nil:
			b.err = fmt.Errorf("sandbox: bwrap does not work here: %w", err)
		case !res.OK():
			b.err = fmt.Errorf("sandbox: bwrap does not work here: exit %d: %s", res.ExitCode, res.Stderr.Text)
		}
	})
	return b.err
}

// Run runs spec.Command in a new sandbox.
func (b *Bwrap) Run(ctx context.Context, spec Spec) (*Result, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	return b.run(ctx, spec)
}

func (b *Bwrap) run(ctx context.Context, spec Spec) (*Result, error) {
	spec, err := check(spec)
	if err != nil {
		return nil, err
	}
	env, err := environ(spec.Env)
	if err != nil {
		return nil, err
	}
	tl := startTimeline()
	lim := spec.Limits.withDefaults()
	id, dropped, err := sandboxIdentity()
	if err != nil {
		return nil, err
	}
	if b.asRoot {
		id, dropped = identity{0, 0}, false
	}
	l := launch{
		env:    []string{"PATH=/usr/bin:/bin"},
		attr:   outerNamespace(),
		bwrap:  true,
		watch:  writable(spec.Mounts),
		phases: tl,
		stdout: spec.Stdout, stderr: spec.Stderr, started: spec.Started,
	}
	srcs := make([]string, len(spec.Mounts))
	for i, m := range spec.Mounts {
		srcs[i] = m.Source
	}
	if dropped {
		for _, d := range l.watch {
			if err := chownTree(d, id); err != nil {
				return nil, err
			}
		}
		tl.mark("chown")
		// The shim is created by root, in a pid namespace of its own and,
		// with mounts to stage, a mount namespace of its own (where mlrc
		// sets the stage up from outside, as it sets the limits), and
		// then, before it runs anything, becomes the sandbox uid without
		// groups or capabilities: bwrap, which it starts, creates its
		// user namespace unprivileged, mapping the sandbox's nobody to
		// that uid.
		l.attr = syscall.SysProcAttr{
			Cloneflags: syscall.CLONE_NEWPID,
			Credential: &syscall.Credential{Uid: uint32(id.uid), Gid: uint32(id.gid), Groups: []uint32{}},
		}
		l.dropped, l.id = true, id
		if len(spec.Mounts) > 0 {
			var st *stage
			st, srcs, err = newStage(spec.Mounts, id)
			if err != nil {
				return nil, err
			}
			defer st.remove()
			l.setup = st.mount
			l.attr.Cloneflags |= syscall.CLONE_NEWNS
		}
	}
	sf, err := seccompFile()
	if err != nil {
		return nil, err
	}
	defer sf.Close()
	l.extra = []*os.File{sf}
	if l.argv, err = b.args(spec, env, srcs, lim); err != nil {
		return nil, err
	}
	l.isolation = fmt.Sprintf("bwrap: only the workspace mounts, a read-only system and a private /tmp are visible; "+
		"no network (loopback only); nobody without capabilities in its own user, pid, ipc and uts namespaces, "+
		"host uid %d (%s); seccomp denies %d system calls (mount, namespaces, ptrace, bpf, keyrings, modules…); "+
		"/proc/sys read-only", id.uid, uidNote(dropped), len(deniedSyscalls))
	if b.asRoot {
		l.isolation += "; NOT as another uid: " + b.asRootWhy + ", so nobody inside is root on the host " +
			"(setuid/setgid bits are cleared after the run)"
	}
	tl.mark("prepare")
	res, err := execute(ctx, l, lim)
	if dropped || b.asRoot {
		n := 0
		for _, d := range l.watch {
			n += clearSetID(d)
		}
		if n > 0 && res != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("setuid/setgid bits removed from %d file(s) the command made", n))
		}
	}
	tl.mark("finish")
	if res != nil {
		res.Phases = tl.phases
	}
	return res, err
}

// usernsRestriction names the kernel setting that keeps unprivileged users
// from creating user namespaces, or "".
func usernsRestriction() string {
	for _, c := range []struct{ file, bad, say string }{
		{"/proc/sys/kernel/unprivileged_userns_clone", "0", "kernel.unprivileged_userns_clone = 0"},
		{"/proc/sys/user/max_user_namespaces", "0", "user.max_user_namespaces = 0"},
		{"/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1", "kernel.apparmor_restrict_unprivileged_userns = 1"},
	} {
		if b, err := os.ReadFile(c.file); err == nil && strings.TrimSpace(string(b)) == c.bad {
			return c.say
		}
	}
	return ""
}

func uidNote(dropped bool) string {
	if dropped {
		return "mlrc is root; the sandbox user owns nothing but the run's writable mounts"
	}
	return "the user running mlrc"
}

// writable lists the host sources of the writable mounts.
func writable(ms []Mount) []string {
	var ds []string
	for _, m := range ms {
		if m.Writable {
			ds = append(ds, m.Source)
		}
	}
	return ds
}

// outerNamespace is the pid namespace the shim (and bwrap under it) runs
// in; see shimScript. Without root it needs a user namespace as well,
// mapping mlrc's uid to itself.
func outerNamespace() syscall.SysProcAttr {
	if os.Geteuid() == 0 {
		return syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	}
	return syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWPID | syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getuid(), HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: os.Getgid(), HostID: os.Getgid(), Size: 1}},
	}
}

// args is bwrap's command line, argv[0] included. spec has been checked;
// srcs are the host paths to bind for spec.Mounts (staged or not).
func (b *Bwrap) args(spec Spec, env []string, srcs []string, lim Limits) ([]string, error) {
	a := []string{b.path,
		"--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
		"--cap-drop", "ALL", "--new-session",
	}
	if b.disableUserns {
		a = append(a, "--disable-userns")
	}
	a = append(a, "--ro-bind", "/usr", "/usr")
	for _, d := range []string{"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"} {
		fi, err := os.Lstat(d)
		switch {
		case err != nil:
		case fi.Mode()&fs.ModeSymlink != 0: // merged /usr: usr/bin etc.
			if t, err := os.Readlink(d); err == nil {
				a = append(a, "--symlink", t, d)
			}
		case fi.IsDir():
			a = append(a, "--ro-bind", d, d)
		}
	}
	for _, e := range etcFiles {
		a = append(a, "--ro-bind-try", "/etc/"+e, "/etc/"+e)
	}
	a = append(a, "--proc", "/proc")
	// The kernel's settings stay read-only even for a root inside.
	for _, p := range []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"} {
		a = append(a, "--ro-bind-try", p, p)
	}
	a = append(a, "--dev", "/dev", "--size", strconv.FormatInt(lim.Disk, 10), "--tmpfs", "/tmp")
	a = append(a, gpuBinds("/dev", spec.GPUDevices)...)
	for i, m := range spec.Mounts {
		op := "--ro-bind"
		if m.Writable {
			op = "--bind"
		}
		a = append(a, op, srcs[i], m.Target)
	}
	for _, p := range spec.ReadOnly {
		host, m, ok := hostPath(spec.Mounts, p)
		if !ok || !m.Writable {
			continue // invisible or read-only already
		}
		rel, dst, err := protected(host, m)
		if err != nil {
			return nil, err
		}
		for i := range spec.Mounts {
			if spec.Mounts[i] == m {
				a = append(a, "--ro-bind", filepath.Join(srcs[i], rel), dst)
				break
			}
		}
	}
	a = append(a, "--seccomp", "7")
	a = append(a, "--remount-ro", "/", "--clearenv")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		a = append(a, "--setenv", k, v)
	}
	a = append(a, "--chdir", spec.Dir, "--json-status-fd", "5", "--")
	return append(a, spec.Command...), nil
}

// protected resolves a read-only path on the host, inside mount m: the
// file to bind and where it shows in the sandbox. A symlink leading out of
// the mount (the command could have planted one in an earlier run) is
// refused: binding it would show the host file it points to.
func protected(host string, m Mount) (rel, dst string, err error) {
	real, err := filepath.EvalSymlinks(host)
	if err != nil {
		return "", "", fmt.Errorf("sandbox: read-only path: %w", err)
	}
	root, err := filepath.EvalSymlinks(m.Source)
	if err != nil {
		return "", "", fmt.Errorf("sandbox: mount: %w", err)
	}
	if !within(root, real) {
		return "", "", fmt.Errorf("sandbox: read-only path %s leads out of its mount %s (to %s)", host, m.Source, real)
	}
	rel, _ = filepath.Rel(root, real)
	return rel, filepath.Join(m.Target, rel), nil
}
