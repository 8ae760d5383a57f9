//go:build linux

package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestEnviron(t *testing.T) {
	env, err := environ(map[string]string{"HOME": "/work", "SEED": "1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range []string{"HOME=/work", "SEED=1", "OMP_NUM_THREADS=1", "PATH=/usr/local/bin:/usr/bin:/bin"} {
		if !slices.Contains(env, kv) {
			t.Errorf("environ lacks %s: %q", kv, env)
		}
	}
	for _, bad := range []map[string]string{{"": "x"}, {"A=B": "x"}, {"A": "x\x00y"}} {
		if _, err := environ(bad); err == nil {
			t.Errorf("environ(%q) accepted", bad)
		}
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		spec    Spec
		wantDir string
		wantErr bool
	}{
		{"no command", Spec{}, "", true},
		{"no mounts", Spec{Command: []string{"true"}}, "/tmp", false},
		{"first writable mount", Spec{Command: []string{"true"}, Mounts: []Mount{
			{Source: "/data"}, {Source: "/ws/run", Writable: true}, {Source: "/ws", Writable: true}}}, "/ws/run", false},
		{"first mount", Spec{Command: []string{"true"}, Mounts: []Mount{{Source: "/data", Target: "/in"}}}, "/in", false},
		{"relative mount", Spec{Command: []string{"true"}, Mounts: []Mount{{Source: "data"}}}, "", true},
		{"mount over root", Spec{Command: []string{"true"}, Mounts: []Mount{{Source: "/x", Target: "/"}}}, "", true},
		{"relative read-only", Spec{Command: []string{"true"}, ReadOnly: []string{"x"}}, "", true},
		{"relative dir", Spec{Command: []string{"true"}, Dir: "x"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := check(tt.spec)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got.Dir != tt.wantDir {
				t.Errorf("Dir = %q, want %q", got.Dir, tt.wantDir)
			}
		})
	}
	got, _ := check(Spec{Command: []string{"true"}, Mounts: []Mount{{Source: "/a/b/c"}, {Source: "/a"}}})
	if got.Mounts[0].Target != "/a" {
		t.Errorf("mounts not sorted parents first: %+v", got.Mounts)
	}
}

func TestHostPath(t *testing.T) {
	ms := []Mount{{Source: "/host/ws", Target: "/ws"}, {Source: "/host/data", Target: "/ws/data"}}
	tests := []struct{ in, want string }{
		{"/ws/a.txt", "/host/ws/a.txt"},
		{"/ws/data/x.csv", "/host/data/x.csv"},
		{"/ws", "/host/ws"},
		{"/wsx/a", ""},
		{"/etc/passwd", ""},
	}
	for _, tt := range tests {
		got, _, _ := hostPath(ms, tt.in)
		if got != tt.want {
			t.Errorf("hostPath(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBwrapArgs(t *testing.T) {
	ws := t.TempDir()
	prot := filepath.Join(ws, "labels.csv")
	writeFile(t, prot, "x")
	b := &Bwrap{path: "/usr/bin/bwrap"}
	spec, err := check(Spec{Command: []string{"python3", "train.py"},
		Mounts: []Mount{{Source: ws, Writable: true}}, ReadOnly: []string{prot}})
	if err != nil {
		t.Fatal(err)
	}
	args, err := b.args(spec, []string{"HOME=/tmp", "A=b=c"}, []string{ws}, Limits{}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Join(args, " ")
	for _, want := range []string{
		"--unshare-all --unshare-user --uid 65534 --gid 65534 --cap-drop ALL",
		"--ro-bind /usr /usr", "--proc /proc --ro-bind-try /proc/sys /proc/sys",
		"--dev /dev --size 10737418240 --tmpfs /tmp",
		"--bind " + ws + " " + ws + " --ro-bind " + prot + " " + prot,
		"--seccomp 7 --remount-ro / --clearenv --setenv HOME /tmp --setenv A b=c --chdir " + ws,
		"--json-status-fd 5 -- python3 train.py",
	} {
		if !strings.Contains(line, want) {
			t.Errorf("args lack %q:\n%s", want, line)
		}
	}
	for _, leak := range []string{"/root", "/home", "/work", "/var", "--bind /etc", "/etc/shadow", "--die-with-parent"} {
		if strings.Contains(line, leak) {
			t.Errorf("args contain %q:\n%s", leak, line)
		}
	}
}

// Without cgroups the limits fall back to rlimits, and the notes to what
// stderr shows.
func TestRlimitFallback(t *testing.T) {
	lim := Limits{CPUTime: 1500 * time.Millisecond}.withDefaults()
	rl := rlimits(lim, nil, false)
	has := func(res int, cur uint64) bool {
		return slices.ContainsFunc(rl, func(r rlimit) bool { return r.resource == res && r.cur == cur })
	}
	if !has(syscall.RLIMIT_AS, DefaultMemory) || !has(syscall.RLIMIT_FSIZE, DefaultFileSize) ||
		!has(syscall.RLIMIT_CPU, 2) || !has(syscall.RLIMIT_CORE, 0) {
		t.Errorf("rlimits = %+v", rl)
	}
	if slices.ContainsFunc(rlimits(lim, &cgroup{memory: ctl{dir: "/x"}}, false),
		func(r rlimit) bool { return r.resource == syscall.RLIMIT_AS }) {
		t.Errorf("RLIMIT_AS set although a memory cgroup is used")
	}

	notes, oom := limitNotes(lim, nil, 0, "numpy.core._exceptions._ArrayMemoryError: Unable to allocate 8.00 GiB")
	if !oom || !slices.Contains(notes, "probably out of memory (limit 4 GiB): an allocation failed") {
		t.Errorf("oom = %v, notes = %q", oom, notes)
	}
	notes, oom = limitNotes(lim, nil, syscall.SIGSEGV, "")
	if want := "probably out of memory (limit 4 GiB): the command died of SIGSEGV"; oom || !slices.Equal(notes, []string{want}) {
		t.Errorf("oom = %v, notes = %q", oom, notes)
	}
	notes, _ = limitNotes(lim, nil, syscall.SIGXFSZ, "")
	if !slices.Contains(notes, "file size limit (1 GiB) reached") {
		t.Errorf("notes = %q", notes)
	}
}

func TestNew(t *testing.T) {
	r, warn, err := New("none")
	if _, ok := r.(*Fallback); !ok || err != nil || warn == "" {
		t.Errorf(`New("none") = %T, %q, %v`, r, warn, err)
	}
	if _, _, err := New("docker"); err == nil {
		t.Errorf(`New("docker") succeeded`)
	}
	r, warn, err = New("bwrap")
	if err != nil {
		t.Fatal(err)
	}
	if (&Bwrap{}).Check() == nil {
		if _, ok := r.(*Bwrap); !ok || warn != "" {
			t.Errorf(`New("bwrap") = %T, %q with bwrap installed`, r, warn)
		}
	} else if _, ok := r.(*Fallback); !ok || !strings.Contains(warn, "fallback") {
		t.Errorf(`New("bwrap") = %T, %q without bwrap`, r, warn)
	}
	if err := (&Bwrap{Path: "/nonexistent/bwrap"}).Check(); err == nil {
		t.Errorf("Check passed for a missing bwrap")
	}
}

func TestFallbackIsolation(t *testing.T) {
	res := run(t, &Fallback{}, Spec{Command: []string{"/bin/true"}})
	if !strings.HasPrefix(res.Isolation, "fallback: no bubblewrap; the filesystem is not hidden") {
		t.Errorf("Isolation = %q", res.Isolation)
	}
	if _, err := os.Stat("/usr/bin/bwrap"); err == nil {
		res = run(t, bwrapRunner(t), Spec{Command: []string{"/bin/true"}})
		if !strings.HasPrefix(res.Isolation, "bwrap: ") {
			t.Errorf("Isolation = %q", res.Isolation)
		}
	}
}

// chownTree gives the sandbox uid what it does not own yet, and leaves
// what it owns untouched (not even its ctime, which git reads).
func TestChownTreeOnlyWhatNeedsIt(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	id := identity{DefaultUID, DefaultUID}
	dir := t.TempDir()
	old := filepath.Join(dir, "old.txt")
	os.WriteFile(old, []byte("a"), 0o644)
	if err := chownTree(dir, id); err != nil {
		t.Fatal(err)
	}
	ctime := func(p string) syscall.Timespec {
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ctim
	}
	before := ctime(old)
	time.Sleep(20 * time.Millisecond)
	fresh := filepath.Join(dir, "sub", "new.txt")
	os.MkdirAll(filepath.Dir(fresh), 0o755)
	os.WriteFile(fresh, []byte("b"), 0o644)
	if err := chownTree(dir, id); err != nil {
		t.Fatal(err)
	}
	if after := ctime(old); after != before {
		t.Errorf("the file the sandbox owned already was changed (ctime %v -> %v)", before, after)
	}
	for _, p := range []string{dir, old, filepath.Dir(fresh), fresh} {
		fi, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if uid, gid := fileOwner(fi); uid != id.uid || gid != id.gid {
			t.Errorf("%s belongs to %d:%d, want %d:%d", p, uid, gid, id.uid, id.gid)
		}
	}
}
