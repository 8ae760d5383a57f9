package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
)

// The attacks of a misbehaving agent on mlrc through its file tools: what
// its code (train.py) can plant in the workspace between two tool calls,
// then the tool call that would use it. Each attack must be contained (no
// write outside the workspace or into protected paths, no hang, bounded
// memory) and answered with a result the model can read, so the run goes on.

// attackWS is a workspace with protected data/ and, beside it, a host file
// that no tool may change.
type attackWS struct {
	w    *Workspace
	ws   string // the workspace
	host string // a file outside it
}

const hostContent = "host file: must not change\n"

func newAttackWS(t *testing.T) *attackWS {
	t.Helper()
	dir := t.TempDir()
	ws := filepath.Join(dir, "ws")
	must(t, os.MkdirAll(filepath.Join(ws, "data"), 0o755))
	must(t, os.MkdirAll(filepath.Join(ws, "src"), 0o755))
	must(t, os.WriteFile(filepath.Join(ws, "train.py"), []byte("print(1)\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(ws, "data", "train.csv"), []byte("id,label\n1,0\n"), 0o644))
	host := filepath.Join(dir, "host.txt")
	must(t, os.WriteFile(host, []byte(hostContent), 0o644))
	w, err := NewWorkspace(ws, []string{"data/"})
	if err != nil {
		t.Fatal(err)
	}
	return &attackWS{w: w, ws: ws, host: host}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// contained checks that the host file and the protected data are as they
// were, and that no file was added to data/.
func (a *attackWS) contained(t *testing.T) {
	t.Helper()
	if b, _ := os.ReadFile(a.host); string(b) != hostContent {
		t.Errorf("the host file outside the workspace changed: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(a.ws, "data", "train.csv")); string(b) != "id,label\n1,0\n" {
		t.Errorf("protected data/train.csv changed: %q", b)
	}
	entries, _ := os.ReadDir(filepath.Join(a.ws, "data"))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("protected data/ holds %v, want only train.csv", names)
	}
}

// callWithin calls tool and fails the test if it does not answer within d:
// a tool that blocks (on a FIFO, a device) would hang mlrc.
func callWithin(t *testing.T, tool agent.Tool, args string, d time.Duration) agent.Result {
	t.Helper()
	type answer struct {
		r   agent.Result
		err error
	}
	ch := make(chan answer, 1)
	go func() {
		r, err := tool.Call(context.Background(), json.RawMessage(args))
		ch <- answer{r, err}
	}()
	select {
	case a := <-ch:
		if a.err != nil {
			t.Fatalf("%s(%s) failed the run instead of answering the model: %v", tool.Definition().Name, args, a.err)
		}
		return a.r
	case <-time.After(d):
		t.Fatalf("%s(%s) hangs", tool.Definition().Name, args)
	}
	return agent.Result{}
}

func TestAttackUndoThroughSymlink(t *testing.T) {
	tests := []struct {
		name  string
		plant func(a *attackWS) // after the two writes, before undo
		file  string
		isErr bool
		want  string
	}{
		{"file becomes a link to a host file", func(a *attackWS) {
			os.Remove(filepath.Join(a.ws, "u.txt"))
			os.Symlink(a.host, filepath.Join(a.ws, "u.txt"))
		}, "u.txt", false, "it had become a symlink"},
		{"file becomes a relative link out", func(a *attackWS) {
			os.Remove(filepath.Join(a.ws, "u.txt"))
			os.Symlink("../host.txt", filepath.Join(a.ws, "u.txt"))
		}, "u.txt", false, "it had become a symlink"},
		{"file becomes a link into protected data", func(a *attackWS) {
			os.Remove(filepath.Join(a.ws, "u.txt"))
			os.Symlink("data/train.csv", filepath.Join(a.ws, "u.txt"))
		}, "u.txt", false, "it had become a symlink"},
		{"directory becomes a link out", func(a *attackWS) {
			os.RemoveAll(filepath.Join(a.ws, "sub"))
			os.Symlink(filepath.Dir(a.host), filepath.Join(a.ws, "sub"))
		}, "sub/host.txt", true, "outside the workspace"},
		{"directory becomes a link into protected data", func(a *attackWS) {
			os.RemoveAll(filepath.Join(a.ws, "sub"))
			os.Symlink("data", filepath.Join(a.ws, "sub"))
		}, "sub/train.csv", true, "protected"},
		{"file becomes a FIFO", func(a *attackWS) {
			os.Remove(filepath.Join(a.ws, "u.txt"))
			syscall.Mkfifo(filepath.Join(a.ws, "u.txt"), 0o644)
		}, "u.txt", false, "Restored u.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAttackWS(t)
			write, undo := writeFileTool(a.w), undoTool(a.w)
			for _, content := range []string{"first", "second"} {
				if r := callWithin(t, write, `{"path":`+quote(tt.file)+`,"content":"`+content+`"}`, 5*time.Second); r.IsError {
					t.Fatalf("write_file %s: %s", tt.file, r.Content)
				}
			}
			tt.plant(a)
			r := callWithin(t, undo, `{}`, 5*time.Second)
			if r.IsError != tt.isErr || !strings.Contains(r.Content, tt.want) {
				t.Errorf("undo = %+v, want error %v with %q", r, tt.isErr, tt.want)
			}
			a.contained(t)
			if !tt.isErr {
				// The link itself was replaced by the restored file.
				p := filepath.Join(a.ws, tt.file)
				if info, err := os.Lstat(p); err != nil || !info.Mode().IsRegular() {
					t.Errorf("%s after undo: %v, %v; want a regular file", tt.file, info, err)
				}
				if b, _ := os.ReadFile(p); string(b) != "first" {
					t.Errorf("%s after undo = %q, want the content before the last write", tt.file, b)
				}
			}
		})
	}
}

func TestAttackProtectedThroughLinks(t *testing.T) {
	a := newAttackWS(t)
	must(t, os.Symlink("data", filepath.Join(a.ws, "dlink")))
	must(t, os.Symlink(filepath.Join(a.ws, "data"), filepath.Join(a.ws, "src", "dabs")))
	must(t, os.Symlink("../data/train.csv", filepath.Join(a.ws, "src", "t.csv")))
	must(t, os.Symlink("dlink", filepath.Join(a.ws, "dlink2"))) // a chain
	must(t, os.Link(filepath.Join(a.ws, "data", "train.csv"), filepath.Join(a.ws, "hard.csv")))
	write, edit := writeFileTool(a.w), editFileTool(a.w)
	for _, p := range []string{"dlink/test.csv", "dlink/train.csv", "src/dabs/new.csv", "src/t.csv", "dlink2/train.csv", "dlink2/sub/x.csv", "./dlink/../dlink/train.csv"} {
		if r := callWithin(t, write, `{"path":`+quote(p)+`,"content":"x"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "protected") {
			t.Errorf("write_file %s = %+v, want refused as protected", p, r)
		}
		if r := callWithin(t, edit, `{"path":`+quote(p)+`,"old_text":"1,0","new_text":"1,1"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "protected") {
			t.Errorf("edit_file %s = %+v, want refused as protected", p, r)
		}
	}
	// A hard link is a file of its own: writing it replaces it, and the
	// protected file it shared its content with stays as it was.
	if r := callWithin(t, edit, `{"path":"hard.csv","old_text":"1,0","new_text":"1,1"}`, 5*time.Second); r.IsError {
		t.Errorf("edit_file hard.csv: %s", r.Content)
	}
	a.contained(t)
}

func TestAttackEscapes(t *testing.T) {
	a := newAttackWS(t)
	must(t, os.Symlink(a.host, filepath.Join(a.ws, "abs.txt")))
	must(t, os.Symlink("../../host.txt", filepath.Join(a.ws, "src", "rel.txt")))
	must(t, os.Symlink(filepath.Dir(a.host), filepath.Join(a.ws, "out")))
	must(t, os.Symlink("/dev/zero", filepath.Join(a.ws, "zero.csv")))
	must(t, os.Symlink("/dev/zero", filepath.Join(a.ws, "zero.bin")))
	must(t, os.Symlink("loop2", filepath.Join(a.ws, "loop1")))
	must(t, os.Symlink("loop1", filepath.Join(a.ws, "loop2")))
	read, inspect, write, list := readFileTool(a.w), inspectDataTool(a.w), writeFileTool(a.w), listFilesTool(a.w)
	for _, p := range []string{"abs.txt", "src/rel.txt", "out/host.txt", "zero.csv", "zero.bin", "../host.txt", a.host, "src/../../host.txt"} {
		for _, tool := range []agent.Tool{read, inspect} {
			if r := callWithin(t, tool, `{"path":`+quote(p)+`}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "outside the workspace") {
				t.Errorf("%s %s = %.300s, want refused as outside", tool.Definition().Name, p, r.Content)
			}
		}
		if r := callWithin(t, write, `{"path":`+quote(p)+`,"content":"x"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "outside the workspace") {
			t.Errorf("write_file %s = %.300s, want refused as outside", p, r.Content)
		}
	}
	if r := callWithin(t, list, `{"path":"out"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "outside the workspace") {
		t.Errorf("list_files out = %.300s, want refused", r.Content)
	}
	if r := callWithin(t, read, `{"path":"loop1"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "symlinks") {
		t.Errorf("read_file of a link loop = %.300s", r.Content)
	}
	// The listing shows the links for what they are, without following them.
	r := callWithin(t, list, `{}`, 5*time.Second)
	if !strings.Contains(r.Content, "zero.csv -> /dev/zero") || strings.Contains(r.Content, "host.txt  (") {
		t.Errorf("list_files:\n%s", r.Content)
	}
	a.contained(t)
}

func TestAttackSpecialFiles(t *testing.T) {
	a := newAttackWS(t)
	must(t, syscall.Mkfifo(filepath.Join(a.ws, "pipe.csv"), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(a.ws, "pipe.txt"), 0o644))
	must(t, os.Symlink("pipe.csv", filepath.Join(a.ws, "plink.csv")))
	l, err := net.Listen("unix", filepath.Join(a.ws, "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	special := map[string]string{"pipe.csv": "FIFO", "pipe.txt": "FIFO", "plink.csv": "FIFO", "s.sock": "socket"}
	// A character device, where the test may make one (root).
	if err := syscall.Mknod(filepath.Join(a.ws, "null.csv"), syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
		special["null.csv"] = "character device"
	} else {
		t.Logf("no device node (%v): the device case is left out", err)
	}
	read, inspect, edit, write := readFileTool(a.w), inspectDataTool(a.w), editFileTool(a.w), writeFileTool(a.w)
	for p, kind := range special {
		for _, tc := range []struct {
			tool agent.Tool
			args string
		}{
			{read, `{"path":` + quote(p) + `}`},
			{inspect, `{"path":` + quote(p) + `}`},
			{edit, `{"path":` + quote(p) + `,"old_text":"a","new_text":"b"}`},
			{write, `{"path":` + quote(p) + `,"content":"x"}`},
		} {
			r := callWithin(t, tc.tool, tc.args, 5*time.Second)
			if !r.IsError || !strings.Contains(r.Content, kind) {
				t.Errorf("%s %s = %.300s, want refused as a %s", tc.tool.Definition().Name, p, r.Content, kind)
			}
		}
	}
	r := callWithin(t, listFilesTool(a.w), `{}`, 5*time.Second)
	if !strings.Contains(r.Content, "pipe.csv  (a FIFO (named pipe): the tools refuse it)") || !strings.Contains(r.Content, "s.sock  (a socket: the tools refuse it)") {
		t.Errorf("list_files does not mark the special files:\n%s", r.Content)
	}
	if r := callWithin(t, listFilesTool(a.w), `{"path":"pipe.csv"}`, 5*time.Second); !r.IsError || !strings.Contains(r.Content, "FIFO") {
		t.Errorf("list_files pipe.csv = %s", r.Content)
	}
	// The workspace is still usable: the run goes on.
	if r := callWithin(t, read, `{"path":"train.py"}`, 5*time.Second); r.IsError {
		t.Errorf("read_file train.py after the attacks: %s", r.Content)
	}
	a.contained(t)
}

// Reads keep to what they show: long lines are clipped, far lines are
// reached by counting, a CSV record too long is cut off with a note.
func TestBoundedReads(t *testing.T) {
	a := newAttackWS(t)
	long := strings.Repeat("x", 5<<20)
	must(t, os.WriteFile(filepath.Join(a.ws, "long.txt"), []byte("first\n"+long+"\nlast"), 0o644))
	var many bytes.Buffer
	for i := range 100000 {
		many.WriteString("line ")
		many.WriteString(strings.Repeat("y", i%7))
		many.WriteString("\n")
	}
	must(t, os.WriteFile(filepath.Join(a.ws, "many.txt"), many.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(a.ws, "wide.csv"), []byte("a,b\n1,2\n3,\""+long+"\"\n5,6\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(a.ws, "crlf.txt"), []byte("a\r\nb\r\n"), 0o644))

	read := readFileTool(a.w)
	r := callWithin(t, read, `{"path":"long.txt"}`, 10*time.Second)
	if !strings.Contains(r.Content, "long.txt, lines 1-3 of 3") || !strings.Contains(r.Content, "[line of 5.0 MiB clipped]") || !strings.Contains(r.Content, "    3  last") || len(r.Content) > 3000 {
		t.Errorf("read_file long.txt (%d bytes):\n%.500s", len(r.Content), r.Content)
	}
	r = callWithin(t, read, `{"path":"many.txt","start_line":99999,"end_line":100005}`, 10*time.Second)
	if !strings.Contains(r.Content, "many.txt, lines 99999-100000 of 100000") || !strings.Contains(r.Content, "99999  line yyy\n100000  line yyyy\n") {
		t.Errorf("read_file many.txt at the end:\n%s", r.Content)
	}
	r = callWithin(t, read, `{"path":"many.txt","start_line":200000}`, 10*time.Second)
	if !r.IsError || !strings.Contains(r.Content, "has 100000 lines") {
		t.Errorf("read_file past the end: %s", r.Content)
	}
	r = callWithin(t, read, `{"path":"crlf.txt"}`, 10*time.Second)
	if !strings.Contains(r.Content, "    1  a\n    2  b\n") {
		t.Errorf("read_file crlf.txt: %q", r.Content)
	}
	r = callWithin(t, inspectDataTool(a.w), `{"path":"wide.csv"}`, 10*time.Second)
	if !strings.Contains(r.Content, "shape: 1 rows × 2 columns") || !strings.Contains(r.Content, "row 3 is longer than 1.0 MiB") {
		t.Errorf("inspect_data wide.csv:\n%.1000s", r.Content)
	}
	// edit_file and undo refuse what they would have to hold whole.
	must(t, os.WriteFile(filepath.Join(a.ws, "big.txt"), []byte(strings.Repeat(long, 2)), 0o644))
	if r := callWithin(t, editFileTool(a.w), `{"path":"big.txt","old_text":"x","new_text":"y"}`, 10*time.Second); !r.IsError || !strings.Contains(r.Content, "too large for edit_file") {
		t.Errorf("edit_file big.txt: %.300s", r.Content)
	}
	callWithin(t, writeFileTool(a.w), `{"path":"big.txt","content":"small"}`, 10*time.Second)
	if r := callWithin(t, undoTool(a.w), `{}`, 10*time.Second); !r.IsError || !strings.Contains(r.Content, "too large to keep") {
		t.Errorf("undo of a write over a big file: %.300s", r.Content)
	}
}

// mlrc's own memory stays bounded while the agent reads 1 GiB files: a
// child process (this test binary) runs read_file and inspect_data on them
// and reports its peak resident set (VmHWM), which must stay under 300 MB.
func TestHugeFileMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1 GiB file; skipped with -short")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to measure the peak memory")
	}
	ws := t.TempDir()
	// 1 GiB of short CSV lines: many lines, each small.
	f, err := os.Create(filepath.Join(ws, "huge.csv"))
	must(t, err)
	block := []byte("id,x,y\n" + strings.Repeat("1,2.5,3\n", (1<<20-7)/8))
	block = append(block, strings.Repeat("\n", 1<<20-len(block))...)
	for range 1024 {
		if _, err := f.Write(block); err != nil {
			t.Fatal(err)
		}
	}
	must(t, f.Close())
	lines := 1024 * bytes.Count(block, []byte("\n"))
	// 1 GiB of one line (text, then a hole of zeros): the longest line.
	for _, name := range []string{"line.txt", "line.csv"} {
		f, err := os.Create(filepath.Join(ws, name))
		must(t, err)
		f.WriteString("a,b\n1," + strings.Repeat("x", 10000))
		must(t, f.Truncate(1<<30))
		must(t, f.Close())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHugeFileMemoryChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "MLRC_TEST_HUGE_WS="+ws, fmt.Sprintf("MLRC_TEST_HUGE_LINES=%d", lines))
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child took %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	var hwm int64
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "peak-rss-kb "); ok {
			hwm, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	if hwm == 0 {
		t.Fatalf("the child did not report its peak memory:\n%s", out)
	}
	if hwm > 300<<10 {
		t.Errorf("peak RSS while reading 1 GiB files: %d MB, want under 300 MB", hwm>>10)
	}
	for _, want := range []string{
		fmt.Sprintf("huge.csv, lines 1-200 of %d:", lines),                 // every line counted
		fmt.Sprintf("huge.csv, lines %d-%d of %d:", lines-4, lines, lines), // the end reached
		"shape: ",                                     // the CSV described
		"read the first 256.0 MiB only",               // and said how far
		"line.txt, lines 1-2 of 2:",                   // the 1 GiB line
		"[line of 1024.0 MiB clipped]",                // clipped
		"row 2 is longer than 1.0 MiB: stopped there", // the 1 GiB record
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q", want)
		}
	}
}

// TestHugeFileMemoryChild is the child of TestHugeFileMemory.
func TestHugeFileMemoryChild(t *testing.T) {
	ws := os.Getenv("MLRC_TEST_HUGE_WS")
	if ws == "" {
		t.Skip("run by TestHugeFileMemory")
	}
	w, err := NewWorkspace(ws, nil)
	must(t, err)
	lines, _ := strconv.Atoi(os.Getenv("MLRC_TEST_HUGE_LINES"))
	read, inspect := readFileTool(w), inspectDataTool(w)
	for _, c := range []struct {
		tool agent.Tool
		args string
	}{
		{read, `{"path":"huge.csv"}`},
		{read, fmt.Sprintf(`{"path":"huge.csv","start_line":%d,"end_line":%d}`, lines-4, lines+100)},
		{inspect, `{"path":"huge.csv"}`},
		{read, `{"path":"line.txt"}`},
		{inspect, `{"path":"line.csv"}`},
	} {
		r := callWithin(t, c.tool, c.args, 2*time.Minute)
		fmt.Printf("== %s %s (error %v)\n%s\n", c.tool.Definition().Name, c.args, r.IsError, agent.Clip(r.Content, 1500))
	}
	b, err := os.ReadFile("/proc/self/status")
	must(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			fmt.Printf("peak-rss-kb %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
}

// The attacks in a real run: train.py, run in the sandbox, plants a link to
// a host file over a file the agent wrote, a link to the protected data, a
// FIFO, a socket and a link to /dev/zero; the agent's next tool calls meet
// them. Every call is answered, nothing outside the workspace or in data/
// changes, and the run goes on; then it is cut off (its model fails) and
// resumed with the FIFO still in the workspace, and finishes.
func TestAttacksInARun(t *testing.T) {
	host := filepath.Join(t.TempDir(), "host.txt")
	must(t, os.WriteFile(host, []byte(hostContent), 0o644))
	attack := fmt.Sprintf(`import os
import socket
for p in ("u.txt", "dlink", "pipe.csv", "zero.csv", "s.sock"):
    if os.path.lexists(p):
        os.remove(p)
os.symlink(%q, "u.txt")
os.symlink("data", "dlink")
os.mkfifo("pipe.csv")
os.symlink("/dev/zero", "zero.csv")
socket.socket(socket.AF_UNIX).bind("s.sock")
`, host)
	m := scripted.New("s", []scripted.Response{
		toolCall("write_file", map[string]any{"path": "u.txt", "content": "first"}),
		toolCall("write_file", map[string]any{"path": "u.txt", "content": "second"}),
		toolCall("edit_file", map[string]any{"path": "train.py", "old_text": "import os\n", "new_text": attack}),
		toolCall("run_experiment", nil),
		toolCall("undo", nil), // the edit of train.py
		toolCall("undo", nil), // the second write of u.txt, now a link to the host file
		toolCall("write_file", map[string]any{"path": "dlink/test.csv", "content": "id,label\n"}),
		toolCall("edit_file", map[string]any{"path": "dlink/train.csv", "old_text": "id", "new_text": "ID"}),
		toolCall("read_file", map[string]any{"path": "pipe.csv"}),
		toolCall("inspect_data", map[string]any{"path": "pipe.csv"}),
		toolCall("list_files", nil),
		toolCall("read_file", map[string]any{"path": "zero.csv"}),
		toolCall("inspect_data", map[string]any{"path": "s.sock"}),
		// The script ends here: the next model call fails, as in a crash.
	})
	cfg, run := linearConfig(t, m)
	ws := filepath.Join(run.Dir, "workspace")
	data := func() string {
		var b strings.Builder
		filepath.WalkDir(filepath.Join(ws, "data"), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				c, _ := os.ReadFile(p)
				fmt.Fprintf(&b, "%s %x\n", d.Name(), sha256.Sum256(c))
			}
			return nil
		})
		return b.String()
	}
	runWithin := func(cfg Config) (*Result, error) {
		type answer struct {
			res *Result
			err error
		}
		ch := make(chan answer, 1)
		go func() {
			res, err := Run(context.Background(), cfg)
			ch <- answer{res, err}
		}()
		select {
		case a := <-ch:
			return a.res, a.err
		case <-time.After(4 * time.Minute):
			t.Fatal("the run hangs")
		}
		return nil, nil
	}
	var before string
	cfg.Progress = func(e Event) {
		if e.Kind == "baseline" && before == "" {
			before = data()
		}
	}
	if _, err := runWithin(cfg); err == nil || !strings.Contains(err.Error(), "all 13 responses used") {
		t.Fatalf("first part of the run ended with %v, want the end of the script", err)
	}
	reqs := m.Requests()
	if len(reqs) != 14 {
		t.Fatalf("the model was asked %d times, want 14", len(reqs))
	}
	result := func(step int) string { return lastText(reqs[step]) } // the answer to step's call
	for step, want := range map[int]string{
		4:  "accuracy",                // the attack ran, and the run scored
		5:  "Restored train.py",       // undo of the edit
		6:  "it had become a symlink", // undo replaced the link, not the host file
		7:  "protected",               // write_file dlink/test.csv
		8:  "protected",               // edit_file dlink/train.csv
		9:  "FIFO",                    // read_file pipe.csv
		10: "FIFO",                    // inspect_data pipe.csv
		11: "pipe.csv  (a FIFO",       // list_files
		12: "outside the workspace",   // read_file zero.csv
		13: "socket",                  // inspect_data s.sock
	} {
		if got := result(step); !strings.Contains(got, want) {
			t.Errorf("answer to step %d lacks %q:\n%.600s", step, want, got)
		}
	}
	if b, _ := os.ReadFile(host); string(b) != hostContent {
		t.Errorf("the host file changed: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(ws, "u.txt")); string(b) != "first" {
		t.Errorf("u.txt after undo = %q, want first", b)
	}
	if got := data(); got != before {
		t.Errorf("protected data changed:\n%s\nwas\n%s", got, before)
	}

	// Resume: the FIFO is still there (snapshots do not hold FIFOs, so
	// restoring the workspace leaves it); nothing blocks on it.
	m2 := scripted.New("s", []scripted.Response{
		toolCall("read_file", map[string]any{"path": "pipe.csv"}),
		toolCall("inspect_data", map[string]any{"path": "pipe.csv"}),
		toolCall("final_answer", map[string]any{"summary": "contained"}),
	})
	cfg.Model = llm.Stack{Provider: "scripted", Model: "s", Recorder: run}.Wrap(m2)
	res, err := runWithin(cfg)
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if res.Reason != "final" {
		t.Errorf("the resumed run ended %q", res.Reason)
	}
	if info, err := os.Lstat(filepath.Join(ws, "pipe.csv")); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		t.Logf("pipe.csv after resume: %v %v (the resume did not meet the FIFO)", info, err)
	}
	if got := lastText(m2.Requests()[1]); !strings.Contains(got, "FIFO") {
		t.Errorf("resumed read_file pipe.csv: %.300s", got)
	}
	if b, _ := os.ReadFile(host); string(b) != hostContent {
		t.Errorf("the host file changed: %q", b)
	}
	if got := data(); got != before {
		t.Errorf("protected data changed after the resume")
	}
}
