//go:build linux

package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	actions := []string{
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
