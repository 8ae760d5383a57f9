//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// probeScript tries each action given as "read:PATH", "list:PATH",
// "write:PATH", "append:PATH", "remove:PATH", "rename:PATH", "chmod:PATH"
// or "symlink-write:LINK:TARGET" and prints "DONE action" or
// "FAILED action: error", one line each.
const probeScript = `
import os, sys
for action in sys.argv[1:]:
    op, _, path = action.partition(":")
    try:
        if op == "read":
            open(path).read()
        elif op == "list":
            os.listdir(path)
        elif op == "write":
            open(path, "w").write("pwned")
        elif op == "append":
            open(path, "a").write("pwned")
        elif op == "remove":
            os.remove(path)
        elif op == "rename":
            open(path + ".new", "w").write("pwned")
            os.replace(path + ".new", path)
        elif op == "chmod":
            os.chmod(path, 0o777)
        elif op == "symlink-write":
            link, _, target = path.partition(":")
            os.symlink(target, link)
            open(link, "w").write("pwned")
        print("DONE", action)
    except Exception as e:
        print("FAILED", action + ":", e)
`

// probe runs probeScript in the bwrap sandbox and returns, per action,
// whether it succeeded.
func probe(t *testing.T, spec Spec, actions ...string) map[string]bool {
	t.Helper()
	spec.Command = append([]string{python, "-c", probeScript}, actions...)
	res := run(t, bwrapRunner(t), spec)
	if res.ExitCode != 0 {
		t.Fatalf("probe failed: %+v", res)
	}
	done := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(res.Stdout.Text), "\n") {
		t.Log(line)
		if a, ok := strings.CutPrefix(line, "DONE "); ok {
			done[a] = true
		}
	}
	return done
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func unchanged(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Errorf("%s = %q, %v; want it unchanged, %q", path, b, err, want)
	}
}

// (a) Held-out labels, a home directory and /root are not readable.
func TestBwrapHidesHost(t *testing.T) {
	needPython(t)
	_, m := workspace(t)
	labels := filepath.Join(t.TempDir(), "labels.csv")
	writeFile(t, labels, "id,label\n1,cat\n")
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".netrc"), "machine api password hunter2\n")
	store := t.TempDir() // the run store beside this run: its database and another run
	writeFile(t, filepath.Join(store, "mlrc.db"), "SQLite format 3\x00")
	os.MkdirAll(filepath.Join(store, "run-2", "workspace"), 0o755)
	writeFile(t, filepath.Join(store, "run-2", "workspace", "train.py"), "print(1)\n")
	actions := []string{
		"read:" + filepath.Join(store, "mlrc.db"), "list:" + store,
		"read:" + filepath.Join(store, "run-2", "workspace", "train.py"),
		"read:" + labels, "list:" + filepath.Dir(labels),
		"read:" + filepath.Join(home, ".netrc"), "list:" + home,
		"list:/root", "read:/root/.bashrc", "list:/home",
		"read:/etc/shadow", "read:/etc/gitconfig", "read:/etc/pip.conf",
		"list:/work", "list:/var", "list:/opt",
		fmt.Sprintf("read:/proc/%d/environ", os.Getpid()),
	}
	if wd, _ := os.Getwd(); !within(wd, m.Source) { // the source tree
		actions = append(actions, "list:"+wd)
	}
	done := probe(t, Spec{Mounts: []Mount{m}}, actions...)
	for _, a := range actions {
		if done[a] {
			t.Errorf("%s succeeded inside the sandbox", a)
		}
	}
}

// (b) Nothing outside the writable mounts can be written on the host. (A
// write to the workspace's parent under /tmp lands in the private /tmp.)
func TestBwrapProtectsHost(t *testing.T) {
	needPython(t)
	ws, m := workspace(t)
	other := t.TempDir()
	victim := filepath.Join(other, "victim.txt")
	writeFile(t, victim, "original")
	ro := t.TempDir()
	writeFile(t, filepath.Join(ro, "data.csv"), "original")
	parent := filepath.Dir(ws)
	probe(t, Spec{Mounts: []Mount{m, {Source: ro}}},
		"write:"+victim, "write:"+filepath.Join(other, "new.txt"),
		"write:/usr/mlrc-escape", "write:/usr/bin/python3", "write:/etc/passwd",
		"write:"+filepath.Join(parent, "escape.txt"),
		"write:"+filepath.Join(ro, "data.csv"), "write:"+filepath.Join(ro, "new.csv"),
		"write:/mlrc-escape")
	unchanged(t, victim, "original")
	unchanged(t, filepath.Join(ro, "data.csv"), "original")
	for _, p := range []string{filepath.Join(other, "new.txt"), "/usr/mlrc-escape",
		filepath.Join(parent, "escape.txt"), filepath.Join(ro, "new.csv"), "/mlrc-escape"} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s was created on the host", p)
			os.Remove(p)
		}
	}
}

// (c) Protected files in the workspace stay as they are; the rest of the
// workspace is writable.
func TestBwrapReadOnlyPaths(t *testing.T) {
	needPython(t)
	ws, m := workspace(t)
	prot := filepath.Join(ws, "test_labels.csv")
	writeFile(t, prot, "original")
	dataDir := filepath.Join(ws, "data")
	os.Mkdir(dataDir, 0o755)
	writeFile(t, filepath.Join(dataDir, "train.csv"), "original")
	scratch := filepath.Join(ws, "scratch.txt")
	done := probe(t, Spec{Mounts: []Mount{m}, ReadOnly: []string{prot, dataDir}},
		"write:"+prot, "append:"+prot, "remove:"+prot, "rename:"+prot, "chmod:"+prot,
		"write:"+filepath.Join(dataDir, "train.csv"), "write:"+filepath.Join(dataDir, "new.csv"),
		"remove:"+dataDir+"/train.csv",
		"write:"+scratch)
	unchanged(t, prot, "original")
	unchanged(t, filepath.Join(dataDir, "train.csv"), "original")
	if fi, _ := os.Stat(prot); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode of %s changed to %v", prot, fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(dataDir, "new.csv")); err == nil {
		t.Errorf("a file was created in the protected directory")
	}
	if !done["write:"+scratch] {
		t.Errorf("the workspace is not writable")
	}
	unchanged(t, scratch, "pwned")
}

// (j) Symlinks in the workspace resolve inside the sandbox, never to the
// host files they name.
func TestBwrapSymlinks(t *testing.T) {
	needPython(t)
	ws, m := workspace(t)
	labels := filepath.Join(t.TempDir(), "labels.csv")
	writeFile(t, labels, "id,label\n1,cat\n")
	victim := filepath.Join(t.TempDir(), "victim.txt")
	writeFile(t, victim, "original")
	for link, target := range map[string]string{"labels": labels, "victim": victim, "rootdir": "/root",
		"etc": "/etc/shadow"} {
		if err := os.Symlink(target, filepath.Join(ws, link)); err != nil {
			t.Fatal(err)
		}
	}
	done := probe(t, Spec{Mounts: []Mount{m}},
		"read:"+filepath.Join(ws, "labels"), "write:"+filepath.Join(ws, "victim"),
		"list:"+filepath.Join(ws, "rootdir"), "read:"+filepath.Join(ws, "etc"),
		"symlink-write:"+filepath.Join(ws, "new")+":"+victim,
		"symlink-write:"+filepath.Join(ws, "new2")+":"+filepath.Join(filepath.Dir(victim), "created.txt"))
	for _, a := range []string{"read:" + filepath.Join(ws, "labels"), "list:" + filepath.Join(ws, "rootdir"),
		"read:" + filepath.Join(ws, "etc")} {
		if done[a] {
			t.Errorf("%s succeeded through a symlink", a)
		}
	}
	unchanged(t, victim, "original")
	if _, err := os.Stat(filepath.Join(filepath.Dir(victim), "created.txt")); err == nil {
		t.Errorf("a file was created on the host through a symlink")
	}
}

// A protected path that an earlier run replaced by a symlink out of the
// workspace is refused rather than bound (which would show its target).
func TestBwrapReadOnlySymlinkRefused(t *testing.T) {
	ws, m := workspace(t)
	secret := filepath.Join(t.TempDir(), "labels.csv")
	writeFile(t, secret, "id,label\n")
	prot := filepath.Join(ws, "test_labels.csv")
	if err := os.Symlink(secret, prot); err != nil {
		t.Fatal(err)
	}
	_, err := bwrapRunner(t).Run(context.Background(), Spec{
		Command: []string{"/bin/cat", prot}, Mounts: []Mount{m}, ReadOnly: []string{prot},
	})
	if err == nil || !strings.Contains(err.Error(), "leads out of its mount") {
		t.Errorf("err = %v, want a refusal", err)
	}
}

// bwrap failing to set up the sandbox is an error, not a command result.
func TestBwrapSetupFailure(t *testing.T) {
	_, err := bwrapRunner(t).Run(context.Background(), Spec{Command: []string{"/bin/true"}, Dir: "/nonexistent"})
	if err == nil || !strings.Contains(err.Error(), "bwrap failed") {
		t.Errorf("err = %v, want bwrap failed", err)
	}
}

// nextRunWorks asserts that the sandbox still runs a command after an
// attack.
func nextRunWorks(t *testing.T) {
	t.Helper()
	ws, m := workspace(t)
	res := run(t, bwrapRunner(t), Spec{Command: []string{"/bin/sh", "-c", "echo ok > after.txt"}, Mounts: []Mount{m}})
	if !res.OK() {
		t.Fatalf("the next run failed: %+v", res)
	}
	unchanged(t, filepath.Join(ws, "after.txt"), "ok\n")
}

// attackScript runs python code in the bwrap sandbox with a workspace and
// returns the result; the code prints one line per attempt.
func attack(t *testing.T, code string, lim Limits) (*Result, string) {
	t.Helper()
	needPython(t)
	ws, m := workspace(t)
	res := run(t, bwrapRunner(t), Spec{Command: []string{python, "-c", code}, Mounts: []Mount{m}, Limits: lim})
	t.Logf("stdout: %s\nstderr: %s\nnotes: %q", res.Stdout.Text, res.Stderr.Text, res.Notes)
	return res, ws
}

// (k) Host kernel settings cannot be changed: /proc/sys and sysrq-trigger
// do not even open for writing (opened, never written).
func TestBwrapProcSysReadOnly(t *testing.T) {
	res, _ := attack(t, `
import os
for p in ["/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches", "/proc/sys/kernel/hostname",
          "/proc/sysrq-trigger", "/proc/sys/net/ipv4/ip_forward"]:
    try:
        os.close(os.open(p, os.O_RDWR))
        print("OPENED", p)
    except OSError as e:
        print("refused", p, e.strerror)
`, Limits{})
	if strings.Contains(res.Stdout.Text, "OPENED") || !strings.Contains(res.Stdout.Text, "refused /proc/sys/kernel/core_pattern") {
		t.Errorf("a kernel setting opened for writing:\n%s", res.Stdout.Text)
	}
	nextRunWorks(t)
}

// (l) A setuid copy of a binary made in the workspace never belongs to
// root on the host, and keeps no setuid bit after the run.
func TestBwrapSetuidFile(t *testing.T) {
	res, ws := attack(t, `
import os, shutil
shutil.copy("/usr/bin/id", "suid_id")
os.chmod("suid_id", 0o4755)
os.mkdir("d")
print("made", oct(os.stat("suid_id").st_mode))
`, Limits{})
	if !strings.Contains(res.Stdout.Text, "made 0o104755") {
		t.Fatalf("the attack did not run as expected: %+v", res)
	}
	for _, name := range []string{"suid_id", "d"} {
		fi, err := os.Lstat(filepath.Join(ws, name))
		if err != nil {
			t.Fatal(err)
		}
		if uid, _ := fileOwner(fi); uid == 0 {
			t.Errorf("%s is owned by root on the host", name)
		}
		if os.Geteuid() == 0 && fi.Mode()&os.ModeSetuid != 0 {
			t.Errorf("%s kept its setuid bit: %v", name, fi.Mode())
		}
	}
	if os.Geteuid() == 0 && !hasNote(res, "setuid/setgid bits removed from 1 file(s)") {
		t.Errorf("Notes = %q", res.Notes)
	}
	nextRunWorks(t)
}

// (m) The seccomp filter denies namespaces, mounts, tracing, keyrings,
// eBPF, perf and userfaultfd; fork, threads and subprocesses still work.
func TestBwrapSeccomp(t *testing.T) {
	res, _ := attack(t, `
import ctypes, os, subprocess, threading
libc = ctypes.CDLL(None, use_errno=True)
SYS = {"unshare": 272, "mount": 165, "ptrace": 101, "keyctl": 250, "bpf": 321, "perf_event_open": 298,
       "userfaultfd": 323, "setns": 308, "kexec_load": 246, "init_module": 175, "add_key": 248,
       "open_by_handle_at": 304, "reboot": 169, "swapoff": 168, "pivot_root": 155}
args = {"unshare": (0x10000000,), "mount": (b"none", b"/tmp", b"tmpfs", 0, None), "ptrace": (16, 1, 0, 0),
        "keyctl": (0, 0), "bpf": (0, 0, 0), "perf_event_open": (0, 0, -1, -1, 0), "userfaultfd": (0,),
        "setns": (0, 0), "kexec_load": (0, 0, 0, 0), "init_module": (0, 0, b""), "add_key": (b"user", b"x", b"y", 1, -3),
        "open_by_handle_at": (0, 0, 0), "reboot": (0, 0, 0, 0), "swapoff": (b"/x",), "pivot_root": (b"/", b"/")}
import platform
if platform.machine() != "x86_64":
    print("SKIP numbers are for x86_64")
else:
    for name, num in SYS.items():
        r = libc.syscall(num, *args[name])
        e = ctypes.get_errno()
        print("ALLOWED" if r >= 0 else "denied", name, os.strerror(e) if r < 0 else r)
    # clone with CLONE_NEWUSER (flags | SIGCHLD); a child would _exit at once.
    r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    print("ALLOWED" if r > 0 else "denied", "clone-newuser", os.strerror(ctypes.get_errno()) if r < 0 else r)
pid = os.fork()
if pid == 0:
    os._exit(7)
print("fork", os.waitpid(pid, 0)[1] >> 8)
t = threading.Thread(target=lambda: None); t.start(); t.join()
print("subprocess", subprocess.run(["/bin/echo", "hi"], capture_output=True).stdout.decode().strip())
`, Limits{})
	out := res.Stdout.Text
	if strings.Contains(out, "SKIP") {
		t.Skip("syscall numbers in the attack are for x86_64")
	}
	if strings.Contains(out, "ALLOWED") || strings.Count(out, "denied") != 16 {
		t.Errorf("a denied system call went through:\n%s", out)
	}
	if !strings.Contains(out, "fork 7") || !strings.Contains(out, "subprocess hi") {
		t.Errorf("fork or subprocess broke under the filter:\n%s", out)
	}
	nextRunWorks(t)
}

// (n) The disk quota stops a run that fills the workspace, RLIMIT_FSIZE
// stops a single file at the quota, and /tmp is bounded by it.
func TestBwrapDiskQuota(t *testing.T) {
	start := time.Now()
	res, ws := attack(t, `
import os, time
block = b"x" * (1 << 20)
for i in range(6):
    with open("fill%d" % i, "wb") as f:
        for _ in range(10):
            f.write(block)
print("written", flush=True)
time.sleep(20)
print("not stopped")
`, Limits{Disk: 40 << 20, Wall: 30 * time.Second})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the run took %v: it was not stopped at the quota", d)
	}
	if !res.DiskExceeded || res.OK() || strings.Contains(res.Stdout.Text, "not stopped") ||
		!hasNote(res, "disk quota of 40 MiB exceeded: ") {
		t.Errorf("res = %+v", res)
	}
	if n := diskUsage([]string{ws}); n > 80<<20 {
		t.Errorf("the workspace holds %d bytes", n)
	}
	res, ws = attack(t, `
import os
try:
    for i in range(3):  # each under RLIMIT_FSIZE, together over the quota
        with open("/tmp/big%d" % i, "wb") as f:
            f.write(b"x" * (20 << 20))
    print("WROTE /tmp")
except OSError as e:
    print("refused /tmp", e.strerror)
os.system("rm -f /tmp/big*")
try:
    with open("one_big_file", "wb") as f:
        f.write(b"x" * (50 << 20))
    print("WROTE one_big_file")
except OSError as e:
    print("refused one_big_file", e.strerror)
`, Limits{Disk: 40 << 20})
	out := res.Stdout.Text
	if strings.Contains(out, "WROTE") || !strings.Contains(out, "refused /tmp No space left on device") {
		t.Errorf("more than the 40 MiB quota was written:\n%s", out)
	}
	if !strings.Contains(out, "refused one_big_file File too large") && !res.DiskExceeded {
		t.Errorf("one 50 MiB file was neither refused nor stopped:\n%s", out)
	}
	if fi, err := os.Stat(filepath.Join(ws, "one_big_file")); err == nil && fi.Size() > 40<<20 {
		t.Errorf("one_big_file holds %d bytes", fi.Size())
	}
	nextRunWorks(t)
}

// (o) No way out through the network: no external host, no DNS, no
// abstract unix socket of the host's (loopback is tested in TestRunners).
func TestBwrapNetworkAttacks(t *testing.T) {
	name := fmt.Sprintf("mlrc-test-%d", time.Now().UnixNano())
	ln, err := net.Listen("unix", "@"+name)
	if err != nil {
		t.Skipf("abstract unix sockets unavailable: %v", err)
	}
	defer ln.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	res, _ := attack(t, fmt.Sprintf(`
import socket
def attempt(what, f):
    try:
        f()
        print("REACHED", what)
    except OSError as e:
        print("refused", what, e)
attempt("external", lambda: socket.create_connection(("1.1.1.1", 53), timeout=3))
attempt("dns", lambda: socket.getaddrinfo("example.com", 443))
def abstract():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect("\0%s")
attempt("abstract", abstract)
`, name), Limits{})
	out := res.Stdout.Text
	if strings.Contains(out, "REACHED") || accepted.Load() != 0 || !strings.Contains(out, "refused external") ||
		!strings.Contains(out, "refused dns") || !strings.Contains(out, "refused abstract") {
		t.Errorf("the sandbox reached the network:\n%s", res.Stdout.Text)
	}
	nextRunWorks(t)
}

// (p) The command cannot kill or trace what runs it: pid 1 of its
// namespace ignores it, and nothing of the host is visible.
func TestBwrapKillParent(t *testing.T) {
	res, _ := attack(t, fmt.Sprintf(`
import ctypes, os, signal
libc = ctypes.CDLL(None, use_errno=True)
for pid in [1, os.getppid(), %d]:
    try:
        os.kill(pid, signal.SIGKILL)
        print("signalled", pid)
    except OSError as e:
        print("refused kill", pid, e.strerror)
    r = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    print("ATTACHED" if r == 0 else "refused ptrace", pid)
print("alive")
`, os.Getpid()), Limits{})
	if strings.Contains(res.Stdout.Text, "ATTACHED") || !strings.Contains(res.Stdout.Text, "alive") {
		t.Errorf("res = %+v", res)
	}
	if !res.OK() {
		t.Errorf("the run did not finish normally: %+v", res)
	}
	nextRunWorks(t)
}

// (q) As root, mounts below directories the sandbox uid may not enter
// (mkdtemp's 0700) are still bound: staged by mlrc. A read-only directory
// it may not enter itself shows its entries, symlinks kept.
func TestBwrapStagedMounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("staging is for root, whose sandbox runs as another uid")
	}
	ws, m := workspace(t)
	task := t.TempDir()
	os.Chmod(task, 0o700) // as mkdtemp makes it, root's
	writeFile(t, filepath.Join(task, "evaluate.py"), "print('eval')\n")
	os.Mkdir(filepath.Join(task, "data"), 0o755)
	writeFile(t, filepath.Join(task, "data", "x.csv"), "a\n")
	os.Symlink("data/x.csv", filepath.Join(task, "link.csv"))
	res := run(t, bwrapRunner(t), Spec{
		Command: []string{"/bin/sh", "-c", "ls " + task + " && cat " + task + "/link.csv && echo w > out.txt && touch " + task + "/new"},
		Mounts:  []Mount{{Source: task}, m},
		Dir:     ws,
	})
	if got, want := res.Stdout.Text, "data\nevaluate.py\nlink.csv\na\n"; got != want {
		t.Errorf("stdout = %q, want %q (stderr %q)", got, want, res.Stderr.Text)
	}
	unchanged(t, filepath.Join(ws, "out.txt"), "w\n")
	if _, err := os.Stat(filepath.Join(task, "new")); err == nil {
		t.Errorf("the read-only task directory was written")
	}
	if fi, _ := os.Stat(task); fi.Mode().Perm() != 0o700 {
		t.Errorf("the task directory's mode changed to %v", fi.Mode())
	}
	if ents, _ := filepath.Glob(filepath.Join(os.TempDir(), fmt.Sprintf("mlrc-stage-%d-*", os.Getpid()))); len(ents) > 0 {
		t.Errorf("stage directories left after the run: %v", ents)
	}
}

// Where bwrap cannot run as the sandbox uid (unprivileged user namespaces
// off), root's next-best is bwrap as root: nobody inside is host root, but
// /proc/sys stays read-only, seccomp applies, setuid bits are cleared
// after the run, and the isolation says so.
func TestBwrapAsRootNextBest(t *testing.T) {
	needPython(t)
	if os.Geteuid() != 0 {
		t.Skip("the next-best mode is for root")
	}
	b := bwrapRunner(t)
	b.asRoot, b.asRootWhy = true, "forced by the test"
	ws, m := workspace(t)
	res := run(t, b, Spec{Command: []string{python, "-c", `
import os, shutil
try:
    os.close(os.open("/proc/sys/kernel/core_pattern", os.O_RDWR))
    print("OPENED")
except OSError as e:
    print("refused", e.strerror)
shutil.copy("/usr/bin/id", "suid_id")
os.chmod("suid_id", 0o4755)
print(open("/proc/self/status").read().count("Seccomp:\t2"))
`}, Mounts: []Mount{m}})
	t.Logf("%+v", res)
	if !strings.Contains(res.Stdout.Text, "refused Read-only file system") || !strings.HasSuffix(res.Stdout.Text, "1\n") {
		t.Errorf("stdout = %q", res.Stdout.Text)
	}
	if fi, err := os.Lstat(filepath.Join(ws, "suid_id")); err != nil || fi.Mode()&os.ModeSetuid != 0 {
		t.Errorf("suid_id: %v, %v: the setuid bit stayed", fi.Mode(), err)
	}
	if !strings.Contains(res.Isolation, "NOT as another uid: forced by the test") {
		t.Errorf("Isolation = %q", res.Isolation)
	}
}

// (r) As root, nothing of a run is root on the host: the shim, bwrap and
// the command all have the sandbox uid and gid as their real, effective,
// saved and filesystem ids and no supplementary groups, and the shim has
// no capabilities; inside, the command is nobody.
func TestBwrapRunsAsSandboxUID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the uid drop is for root")
	}
	b := bwrapRunner(t)
	if b.asRoot {
		t.Skip("bwrap cannot run as the sandbox uid here: " + b.asRootWhy)
	}
	id, _, err := sandboxIdentity()
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("mlrc-uid-%d", time.Now().UnixNano())
	type seen struct{ pid, status string }
	found := make(chan []seen, 1)
	go func() {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var ss []seen
			for _, pid := range marked(marker) {
				if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
					ss = append(ss, seen{fmt.Sprint(pid), string(b)})
				}
			}
			if len(ss) >= 4 { // the shim, bwrap and its init, the command's shell
				found <- ss
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		found <- nil
	}()
	res := run(t, b, Spec{Command: []string{"/bin/sh", "-c", "id; sleep 1 # " + marker}})
	if got := res.Stdout.Text; !strings.HasPrefix(got, "uid=65534(nobody) gid=65534(nogroup)") {
		t.Errorf("inside: id says %q, want nobody", got)
	}
	ss := <-found
	if len(ss) < 4 {
		t.Fatalf("found %d processes of the run on the host, want the shim, bwrap and the command", len(ss))
	}
	want := func(key, value string) string {
		return fmt.Sprintf("%s:\t%s\t%s\t%s\t%s", key, value, value, value, value)
	}
	shim := false
	for _, s := range ss {
		for _, w := range []string{want("Uid", strconv.Itoa(id.uid)), want("Gid", strconv.Itoa(id.gid)), "Groups:\t \n"} {
			if !strings.Contains(s.status, w) {
				t.Errorf("process %s lacks %q:\n%s", s.pid, w, s.status)
			}
		}
		if strings.Contains(s.status, "Name:\tsh\n") && strings.Contains(s.status, "NSpid:\t"+s.pid+"\t1\n") {
			shim = true // pid 1 of the run's outer namespace
			if !strings.Contains(s.status, "CapEff:\t0000000000000000") || !strings.Contains(s.status, "CapPrm:\t0000000000000000") {
				t.Errorf("the shim has capabilities:\n%s", s.status)
			}
		}
	}
	if !shim {
		t.Errorf("the shim was not among the run's processes")
	}
}
