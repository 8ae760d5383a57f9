package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "<missing>"
	}
	return string(b)
}

func TestCommitRestoreDiffExport(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	os.MkdirAll(ws, 0o755)
	write(t, ws, "train.py", "print(1)\n")
	write(t, ws, "data/train.csv", "a,b\n1,2\n")
	r, err := Open(ctx, filepath.Join(base, "snap.git"), ws)
	if err != nil {
		t.Fatal(err)
	}
	c1, changed, err := r.Commit(ctx, "prototype")
	if err != nil || !changed {
		t.Fatalf("first commit: %v %v", changed, err)
	}
	if _, err := os.Stat(filepath.Join(ws, ".git")); err == nil {
		t.Error("a .git appeared in the workspace: the agent could rewrite history")
	}
	if c, changed, _ := r.Commit(ctx, "nothing"); changed || c != c1 {
		t.Errorf("commit without changes = %s, %v; want %s, false", c, changed, c1)
	}
	write(t, ws, "train.py", "print(2)\n")
	write(t, ws, "extra.py", "x = 1\n")
	write(t, ws, "__pycache__/x.pyc", "junk")
	c2, changed, err := r.Commit(ctx, "step 1")
	if err != nil || !changed || c2 == c1 {
		t.Fatalf("second commit: %s %v %v", c2, changed, err)
	}
	files, _ := r.Files(ctx, c2)
	if got := strings.Join(files, ","); got != "data/train.csv,extra.py,train.py" {
		t.Errorf("files = %s (pycache must be excluded)", got)
	}
	diff, err := r.Diff(ctx, c1, c2)
	if err != nil || !strings.Contains(diff, "-print(1)") || !strings.Contains(diff, "+print(2)") || !strings.Contains(diff, "extra.py") {
		t.Errorf("diff = %s, %v", diff, err)
	}
	if err := r.Restore(ctx, c1); err != nil {
		t.Fatal(err)
	}
	if got := read(t, ws, "train.py"); got != "print(1)\n" {
		t.Errorf("restored train.py = %q", got)
	}
	if got := read(t, ws, "extra.py"); got != "<missing>" {
		t.Errorf("extra.py survived the restore: %q", got)
	}
	out := filepath.Join(base, "node")
	if err := r.Export(ctx, c2, out); err != nil {
		t.Fatal(err)
	}
	if got := read(t, out, "train.py") + read(t, out, "data/train.csv"); got != "print(2)\na,b\n1,2\n" {
		t.Errorf("exported = %q", got)
	}
	// The workspace is untouched by the export.
	if got := read(t, ws, "train.py"); got != "print(1)\n" {
		t.Errorf("export changed the workspace: %q", got)
	}
}

// Files over MaxFile are left out of a snapshot, even once recorded when
// smaller, and the commit says so; files owned by another uid (the
// sandbox's) are recorded like any other.
func TestCommitSkipsBigFiles(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	os.MkdirAll(ws, 0o755)
	write(t, ws, "train.py", "print(1)\n")
	write(t, ws, "model.bin", "small")
	if os.Geteuid() == 0 {
		os.Lchown(filepath.Join(ws, "train.py"), 2000000000, 2000000000)
		os.Lchown(ws, 2000000000, 2000000000)
	}
	r, err := Open(ctx, filepath.Join(base, "snap.git"), ws)
	if err != nil {
		t.Fatal(err)
	}
	r.MaxFile = 1 << 10
	if _, _, err := r.Commit(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	write(t, ws, "model.bin", strings.Repeat("x", 4<<10))
	write(t, ws, "big/out.npy", strings.Repeat("y", 2<<10))
	c2, _, err := r.Commit(ctx, "second")
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.Files(ctx, c2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(files, ","), "train.py"; got != want {
		t.Errorf("files of the snapshot = %s, want %s", got, want)
	}
	if got := strings.Join(r.Skipped(), ", "); !strings.Contains(got, "model.bin (0.0 MiB)") || !strings.Contains(got, "big/out.npy") {
		t.Errorf("Skipped = %q", got)
	}
	msg, err := r.git(ctx, "log", "-1", "--format=%B", c2)
	if err != nil || !strings.Contains(msg, "Not recorded (over 0 MiB): ") || !strings.Contains(msg, "model.bin") {
		t.Errorf("commit message = %q, %v", msg, err)
	}
}

// An empty workspace still gets a first commit; committing it again
// changes nothing, and a git that fails is an error, not "unchanged".
func TestCommitEmptyAndErrors(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	os.MkdirAll(ws, 0o755)
	r, err := Open(ctx, filepath.Join(base, "snap.git"), ws)
	if err != nil {
		t.Fatal(err)
	}
	c1, changed, err := r.Commit(ctx, "empty")
	if err != nil || !changed || c1 == "" {
		t.Fatalf("first commit of an empty workspace: %q %v %v", c1, changed, err)
	}
	if c, changed, err := r.Commit(ctx, "again"); err != nil || changed || c != c1 {
		t.Errorf("second commit = %q %v %v; want %s, unchanged", c, changed, err, c1)
	}
	write(t, ws, "a.txt", "a")
	// A lock left in the repository makes git fail.
	if err := os.WriteFile(filepath.Join(base, "snap.git", "index.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _, err := r.Commit(ctx, "locked"); err == nil {
		t.Errorf("commit with the index locked = %q, want an error", c)
	}
}

func TestChanges(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	os.MkdirAll(ws, 0o755)
	write(t, ws, "train.py", "print(1)\n")
	write(t, ws, "old.txt", "gone\n")
	r, err := Open(ctx, filepath.Join(base, "snap.git"), ws)
	if err != nil {
		t.Fatal(err)
	}
	c1, _, err := r.Commit(ctx, "prototype")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "train.py", "print(22)\n")
	write(t, ws, "out dir/submission.csv", strings.Repeat("1,0\n", 1000))
	os.Remove(filepath.Join(ws, "old.txt"))
	c2, _, err := r.Commit(ctx, "step")
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Changes(ctx, c1, c2)
	if err != nil {
		t.Fatal(err)
	}
	want := []Change{{Path: "old.txt", Status: "D", Size: -1}, {Path: "out dir/submission.csv", Status: "A", Size: 4000}, {Path: "train.py", Status: "M", Size: 10}}
	if len(got) != len(want) {
		t.Fatalf("changes = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// CommitUnless returns the given commit when the files are exactly it, and
// records them otherwise, even when HEAD has moved on from it.
func TestCommitUnless(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	write(t, ws, "train.py", "print(1)\n")
	r, err := Open(ctx, filepath.Join(base, "snap.git"), ws)
	if err != nil {
		t.Fatal(err)
	}
	c1, _, err := r.Commit(ctx, "prototype")
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, "__pycache__/x.pyc", "cache") // never recorded
	if id, changed, err := r.CommitUnless(ctx, "run 1", c1); err != nil || changed || id != c1 {
		t.Errorf("unchanged: %s, %v, %v; want %s, false", id, changed, err, c1)
	}
	write(t, ws, "out.txt", "written by the run\n")
	c2, changed, err := r.CommitUnless(ctx, "run 1", c1)
	if err != nil || !changed || c2 == c1 {
		t.Fatalf("changed: %s, %v, %v; want a new commit", c2, changed, err)
	}
	if files, _ := r.Files(ctx, c2); strings.Join(files, ",") != "out.txt,train.py" {
		t.Errorf("files of the new commit: %v", files)
	}
	// Against an older commit than HEAD, the same files are a new commit
	// of their own only if they differ from it.
	if id, changed, err := r.CommitUnless(ctx, "step", c2); err != nil || changed || id != c2 {
		t.Errorf("unchanged since c2: %s, %v, %v", id, changed, err)
	}
	os.Remove(filepath.Join(ws, "out.txt"))
	if id, changed, err := r.CommitUnless(ctx, "undo", c1); err != nil || changed || id != c1 {
		t.Errorf("back to c1's files: %s, %v, %v; want c1", id, changed, err)
	}
}
