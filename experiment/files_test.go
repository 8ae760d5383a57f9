package experiment

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/agent"
)

func newWS(t *testing.T) (*Workspace, string) {
	t.Helper()
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	os.MkdirAll(filepath.Join(ws, "data"), 0o755)
	os.WriteFile(filepath.Join(ws, "train.py"), []byte("import x\nlr = 0.1\nfor i in range(3):\n    lr = 0.1\nprint(lr)\n"), 0o644)
	os.WriteFile(filepath.Join(ws, "data", "train.csv"), []byte("id,age,city,label\n1,30,Oslo,1\n2,,Rome,0\n3,41.5,Oslo,1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("held-out"), 0o644)
	os.Symlink(filepath.Join(dir, "secret.txt"), filepath.Join(ws, "link.txt"))
	w, err := NewWorkspace(ws, []string{"data/"})
	if err != nil {
		t.Fatal(err)
	}
	return w, ws
}

func call(t *testing.T, tool agent.Tool, args string) agent.Result {
	t.Helper()
	r, err := tool.Call(context.Background(), json.RawMessage(args))
	if err != nil {
		t.Fatalf("%s(%s): %v", tool.Definition().Name, args, err)
	}
	return r
}

func TestPathsStayInside(t *testing.T) {
	w, ws := newWS(t)
	read := readFileTool(w)
	for _, p := range []string{"../secret.txt", "/etc/passwd", "link.txt", "data/../../secret.txt", filepath.Join(filepath.Dir(ws), "secret.txt")} {
		r := call(t, read, `{"path":`+quote(p)+`}`)
		if !r.IsError || !strings.Contains(r.Content, "outside the workspace") {
			t.Errorf("read_file(%s) = %+v, want refused", p, r)
		}
	}
	if r := call(t, read, `{"path":"`+filepath.Join(ws, "train.py")+`"}`); r.IsError {
		t.Errorf("absolute path inside the workspace refused: %s", r.Content)
	}
	write := writeFileTool(w)
	for _, p := range []string{"../evil.py", "link.txt", "data/train.csv", "data/new.csv"} {
		r := call(t, write, `{"path":`+quote(p)+`,"content":"x"}`)
		if !r.IsError {
			t.Errorf("write_file(%s) allowed", p)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(filepath.Dir(ws), "secret.txt")); string(b) != "held-out" {
		t.Errorf("secret changed: %q", b)
	}
	if r := call(t, write, `{"path":"data/train.csv","content":"x"}`); !strings.Contains(r.Content, "protected") {
		t.Errorf("protected write: %s", r.Content)
	}
}

func TestEditUndo(t *testing.T) {
	w, ws := newWS(t)
	edit, undo := editFileTool(w), undoTool(w)
	tests := []struct {
		args, want string
		isErr      bool
	}{
		{`{"path":"train.py","old_text":"lr = 0.1","new_text":"lr = 0.2"}`, "occurs 2 times in train.py (at lines 2, 4)", true},
		{`{"path":"train.py","old_text":"lr = 0.3","new_text":"x"}`, "does not occur", true},
		{`{"path":"train.py","old_text":"print(lr) ","new_text":"x"}`, "first line appears at line 5", true},
		{`{"path":"train.py","old_text":"import x\nlr = 0.1","new_text":"import y\nlr = 0.2"}`, "Edited train.py at line 1", false},
		{`{"path":"nope.py","old_text":"a","new_text":"b"}`, "use write_file", true},
	}
	for _, tt := range tests {
		r := call(t, edit, tt.args)
		if r.IsError != tt.isErr || !strings.Contains(r.Content, tt.want) {
			t.Errorf("edit %s = %+v, want %q", tt.args, r, tt.want)
		}
	}
	b, _ := os.ReadFile(filepath.Join(ws, "train.py"))
	if !strings.HasPrefix(string(b), "import y\nlr = 0.2\n") {
		t.Fatalf("after edit: %q", b)
	}
	call(t, writeFileTool(w), `{"path":"new/model.py","content":"pass\n"}`)
	if r := call(t, undo, `{}`); !strings.Contains(r.Content, "Removed new/model.py") {
		t.Errorf("undo write = %s", r.Content)
	}
	if r := call(t, undo, `{}`); !strings.Contains(r.Content, "Restored train.py") {
		t.Errorf("undo edit = %s", r.Content)
	}
	b, _ = os.ReadFile(filepath.Join(ws, "train.py"))
	if !strings.HasPrefix(string(b), "import x\nlr = 0.1\n") {
		t.Errorf("after undo: %q", b)
	}
	if r := call(t, undo, `{}`); !r.IsError {
		t.Errorf("undo with nothing to undo: %+v", r)
	}
}

func TestReadListInspect(t *testing.T) {
	w, _ := newWS(t)
	r := call(t, readFileTool(w), `{"path":"train.py","start_line":2,"end_line":3}`)
	if !strings.Contains(r.Content, "train.py, lines 2-3 of 5") || !strings.Contains(r.Content, "    2  lr = 0.1") || !strings.Contains(r.Content, "start_line=4") {
		t.Errorf("read = %s", r.Content)
	}
	r = call(t, listFilesTool(w), `{}`)
	if !strings.Contains(r.Content, "data/\n") || !strings.Contains(r.Content, "data/train.csv") || !strings.Contains(r.Content, "train.py  (") {
		t.Errorf("list = %s", r.Content)
	}
	r = call(t, inspectDataTool(w), `{"path":"data/train.csv"}`)
	for _, want := range []string{"shape: 3 rows × 4 columns", "age                      float    missing 1", "city                     text", "id                       integer"} {
		if !strings.Contains(r.Content, want) {
			t.Errorf("inspect lacks %q:\n%s", want, r.Content)
		}
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
