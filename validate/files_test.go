package validate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
)

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		p := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOverlay checks that a re-run's workspace holds the arm's code and the
// task's protected files: new files kept, deleted files gone, protected
// files never taken from the agent's copy, stale predictions removed.
func TestOverlay(t *testing.T) {
	ws, src := t.TempDir(), t.TempDir()
	writeFiles(t, ws, map[string]string{
		"README.md": "readme", "train.py": "baseline", "data/train.csv": "task train", "data/test.csv": "task test",
		"sample.txt": "prepared, deleted by the agent",
	})
	writeFiles(t, src, map[string]string{
		"README.md": "readme", "train.py": "improved", "model.py": "new", "sub/dir/x.py": "nested",
		"data/train.csv": "tampered", "data/extra.csv": "smuggled", "predictions.csv": "stale",
		"__pycache__/train.cpython-311.pyc": "cache",
	})
	if err := os.Symlink("train.py", filepath.Join(src, "link.py")); err != nil {
		t.Fatal(err)
	}
	if err := overlay(ws, src, []string{"data"}, []string{"predictions.csv"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"README.md": "readme", "train.py": "improved", "model.py": "new", "sub/dir/x.py": "nested",
		"data/train.csv": "task train", "data/test.csv": "task test", "link.py": "improved",
	}
	got := map[string]string{}
	filepath.WalkDir(ws, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(ws, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		got[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("workspace after overlay:\n got %v\nwant %v", got, want)
	}
	if link, err := os.Readlink(filepath.Join(ws, "link.py")); err != nil || link != "train.py" {
		t.Errorf("link.py: %q, %v; want a link to train.py", link, err)
	}
}

func TestEvaluatorInputs(t *testing.T) {
	tests := []struct {
		evaluate string
		want     []string
	}{
		{"python3 {task}/eval/eval.py --pred {workspace}/predictions.csv --labels {private}/labels.csv", []string{"predictions.csv"}},
		{"python3 {task}/eval/mlab_eval.py --workspace {workspace} --private {private}", nil},
		{"python3 e.py {workspace}/out/sub.csv {workspace}/data/x.csv {workspace}/../escape", []string{"out/sub.csv"}},
	}
	for _, tt := range tests {
		if got := evaluatorInputs(tt.evaluate, []string{"data"}); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("evaluatorInputs(%q) = %q, want %q", tt.evaluate, got, tt.want)
		}
	}
}

func TestExposure(t *testing.T) {
	const ws, priv, cover = "/runs/r/workspace", "/runs/r/private", "/tmp/mlrc-hidden-1/dir"
	tests := []struct {
		name   string
		mounts []sandbox.Mount
		want   string // a substring of the reason; "" when not exposed
	}{
		{"as the task builds it", []sandbox.Mount{{Source: ws, Writable: true}, {Source: cover, Target: priv}}, ""},
		{"private mounted", []sandbox.Mount{{Source: ws, Writable: true}, {Source: priv}}, "mounts /runs/r/private (held-out)"},
		{"inside private mounted elsewhere", []sandbox.Mount{{Source: priv + "/labels.csv", Target: "/x"}, {Source: cover, Target: priv}}, "held-out"},
		{"parent mounted, covered", []sandbox.Mount{{Source: "/runs/r"}, {Source: cover, Target: priv}}, ""},
		{"parent mounted, covered before", []sandbox.Mount{{Source: cover, Target: priv}, {Source: "/runs/r"}}, "without covering it"},
		{"parent mounted elsewhere", []sandbox.Mount{{Source: "/runs/r", Target: "/r"}, {Source: cover, Target: priv}}, "without covering it"},
		{"not covered", []sandbox.Mount{{Source: ws, Writable: true}}, "does not cover"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := exposure(sandbox.Spec{Mounts: tt.mounts}, priv)
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("exposure = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLeaks(t *testing.T) {
	root := t.TempDir()
	priv, ws := filepath.Join(root, "private"), filepath.Join(root, "workspace")
	writeFiles(t, priv, map[string]string{"labels.csv": "id,label\n1,3\n", "empty": ""})
	writeFiles(t, ws, map[string]string{"train.py": "x", "copy.csv": "id,label\n1,3\n", "empty.txt": "", "same-size.csv": "id,label\n1,4\n"})
	if err := os.Symlink("../private/labels.csv", filepath.Join(ws, "predictions.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("train.py", filepath.Join(ws, "inside.py")); err != nil {
		t.Fatal(err)
	}
	var h heldOut
	if err := h.addDir(priv); err != nil {
		t.Fatal(err)
	}
	got, err := h.leaks(ws, []string{priv})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"copy.csv is a copy of the held-out private/labels.csv", "predictions.csv links to " + filepath.Join(priv, "labels.csv")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("leaks:\n got %q\nwant %q", got, want)
	}
}

func TestCheckProtected(t *testing.T) {
	proto, best := t.TempDir(), t.TempDir()
	writeFiles(t, proto, map[string]string{"data/train.csv": "a", "data/test.csv": "b", "train.py": "x"})
	writeFiles(t, best, map[string]string{"data/train.csv": "A", "data/new.csv": "c", "train.py": "y"})
	want, err := HashProtected(proto, []string{"data"})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) != 2 {
		t.Fatalf("HashProtected: %v, want data/train.csv and data/test.csv", want)
	}
	c := checkProtected(best, []string{"data"}, want, "their hashes at the start")
	if c.Passed || c.Detail != "data/test.csv removed, data/train.csv changed and data/new.csv added (compared with their hashes at the start)" {
		t.Errorf("check = %+v", c)
	}
	if c := checkProtected(proto, []string{"data"}, want, "their hashes at the start"); !c.Passed {
		t.Errorf("unchanged: %+v", c)
	}
}
