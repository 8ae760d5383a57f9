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
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bwrap runs commands under bubblewrap. Inside, the command is nobody
// (uid 65534, no capabilities) in its own user, pid, network (loopback
// only), mount, ipc, uts and cgroup namespaces. It sees /usr and the merged-
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
	err           error
}

// etcFiles are the /etc entries the sandbox sees: what the dynamic linker,
// Debian's BLAS alternatives, Python, matplotlib and name lookups read.
// Whole /etc is not shown: it holds credentials (odbc.ini, pip.conf,
// gitconfig, shadow — readable inside, where uid 65534 maps to the uid
// that runs mlrc).
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
		args, err := b.args(Spec{Command: []string{"/bin/true"}, Dir: "/"}, nil)
		if err != nil {
			b.err = err
			return
		}
		devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
		if err != nil {
			b.err = err
			return
		}
		defer devNull.Close()
		cmd := exec.CommandContext(ctx, b.path, args[1:]...)
		cmd.ExtraFiles = []*os.File{nil, nil, devNull} // fd 5: --json-status-fd
		// As pid 1 of its own namespace, bwrap takes its children along
		// when it fails half-way (bwrap 0.8 leaves them hanging).
		attr := outerNamespace()
		cmd.SysProcAttr = &attr
		cmd.WaitDelay = time.Second
		if out, err := cmd.CombinedOutput(); err != nil {
			b.err = fmt.Errorf("sandbox: bwrap does not work here: %v: %s", err, bytes.TrimSpace(out))
		}
	})
	return b.err
}

// Run runs spec.Command in a new sandbox.
func (b *Bwrap) Run(ctx context.Context, spec Spec) (*Result, error) {
	if err := b.Check(); err != nil {
		return nil, err
	}
	spec, err := check(spec)
	if err != nil {
		return nil, err
	}
	env, err := environ(spec.Env)
	if err != nil {
		return nil, err
	}
	argv, err := b.args(spec, env)
	if err != nil {
		return nil, err
	}
	return execute(ctx, launch{
		argv:      argv,
		env:       []string{"PATH=/usr/bin:/bin"},
		attr:      outerNamespace(),
		bwrap:     true,
		isolation: "bwrap: only the workspace mounts, a read-only system and a private /tmp are visible; no network (loopback only); runs as nobody without capabilities in its own user, pid, ipc and uts namespaces",
	}, spec.Limits.withDefaults())
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

// args is bwrap's command line, argv[0] included. spec has been checked.
func (b *Bwrap) args(spec Spec, env []string) ([]string, error) {
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
	a = append(a, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp")
	for _, m := range spec.Mounts {
		op := "--ro-bind"
		if m.Writable {
			op = "--bind"
		}
		a = append(a, op, m.Source, m.Target)
	}
	for _, p := range spec.ReadOnly {
		host, m, ok := hostPath(spec.Mounts, p)
		if !ok || !m.Writable {
			continue // invisible or read-only already
		}
		src, dst, err := protected(host, m)
		if err != nil {
			return nil, err
		}
		a = append(a, "--ro-bind", src, dst)
	}
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
func protected(host string, m Mount) (src, dst string, err error) {
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
	rel, _ := filepath.Rel(root, real)
	return real, filepath.Join(m.Target, rel), nil
}
