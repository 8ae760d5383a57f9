package mcpserver

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/store"
)

// repoRoot is the repository's root directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

var (
	buildOnce sync.Once
	built     string
	buildErr  error
)

// binary builds mlrc once for the tests that run it as a process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mlrc-mcp-test-")
		if err != nil {
			buildErr = err
			return
		}
		built = filepath.Join(dir, "mlrc")
		cmd := exec.Command("go", "build", "-o", built, "./cmd/mlrc")
		cmd.Dir = filepath.Join("..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = &buildError{err, string(out)}
		}
	})
	if buildErr != nil {
		t.Fatalf("build mlrc: %v", buildErr)
	}
	return built
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// fixture is a server on a fresh store, with a client connected to it in
// process.
type fixture struct {
	srv     *Server
	client  *mcp.ClientSession
	store   *store.Store
	runsDir string
	root    string

	mu       sync.Mutex
	progress []string
}

func newFixture(t *testing.T, command []string, roots ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	runs := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if len(roots) == 0 {
		roots = []string{repoRoot(t)}
	}
	if command == nil {
		command = []string{"/bin/false"}
	} else {
		command = append(command, "--runs-dir", runs, "--store", filepath.Join(runs, "mlrc.db"))
	}
	srv, err := New(Config{
		Command: command, Store: st, RunsDir: runs, Literature: filepath.Join(runs, "literature.db"),
		Roots: roots, Version: "test", Poll: 100 * time.Millisecond, Wait: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{srv: srv, store: st, runsDir: runs, root: roots[0]}
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "0"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			f.mu.Lock()
			f.progress = append(f.progress, req.Params.Message)
			f.mu.Unlock()
		},
	})
	t1, t2 := mcp.NewInMemoryTransports()
	ss, err := srv.MCP().Connect(ctx, t1, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	f.client, err = client.Connect(ctx, t2, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.client.Close() })
	return f
}

// call calls a tool and decodes its structured result into out. It returns
// the result's text when the tool reported an error.
func (f *fixture) call(t *testing.T, name string, args map[string]any, out any) (errText string) {
	t.Helper()
	res, err := f.client.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if res.IsError {
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*mcp.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return b.String()
	}
	if out != nil {
		raw, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s: decode %s: %v", name, raw, err)
		}
	}
	return ""
}

// Every rule of the tools' inputs is in the schema the client's model sees:
// bounds, enums, lengths and required fields.
func TestToolsDeclareTheirRules(t *testing.T) {
	f := newFixture(t, nil)
	tools := map[string]map[string]any{}
	for tool, err := range f.client.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(tool.InputSchema)
		var s map[string]any
		json.Unmarshal(raw, &s)
		tools[tool.Name] = s
	}
	want := []string{"lit_search", "paper_read", "task_check", "idea_generate", "research_start",
		"run_status", "run_events", "gate_answer", "run_stop", "run_report"}
	for _, name := range want {
		if tools[name] == nil {
			t.Errorf("tool %s is missing", name)
		}
	}
	prop := func(tool, name string) map[string]any {
		p, _ := tools[tool]["properties"].(map[string]any)[name].(map[string]any)
		if p == nil {
			t.Fatalf("%s has no property %s: %v", tool, name, tools[tool])
		}
		return p
	}
	required := func(tool string) []string {
		var out []string
		for _, r := range tools[tool]["required"].([]any) {
			out = append(out, r.(string))
		}
		return out
	}
	if k := prop("lit_search", "k"); k["minimum"] != 1.0 || k["maximum"] != 50.0 {
		t.Errorf("lit_search k bounds: %v", k)
	}
	if e := prop("research_start", "search")["enum"]; len(e.([]any)) != 2 {
		t.Errorf("research_start search enum: %v", e)
	}
	if e := prop("gate_answer", "decision")["enum"]; !slices.Contains(e.([]any), any("guide")) {
		t.Errorf("gate_answer decision enum: %v", e)
	}
	if m := prop("research_start", "papers")["minItems"]; m != 1.0 {
		t.Errorf("research_start papers minItems: %v", m)
	}
	for tool, fields := range map[string][]string{
		"lit_search": {"query"}, "paper_read": {"ref"}, "research_start": {"papers", "task"},
		"gate_answer": {"run_id", "gate_id", "decision"}, "run_report": {"run_id"},
	} {
		for _, field := range fields {
			if !slices.Contains(required(tool), field) {
				t.Errorf("%s: %s is not required (required: %v)", tool, field, required(tool))
			}
		}
	}
}

// A client can name only paths under the roots; a symbolic link inside a
// root that leads outside is refused too.
func TestPathsConfined(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "paper.md"), []byte("# A title\n\n## Abstract\n\nWe study things.\n\n## Method\n\nA method.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(root, "escape")); err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, nil, root)
	for _, ref := range []string{"/etc/passwd", "../../../../etc/passwd", "escape/passwd", filepath.Join(root, "escape", "hostname")} {
		msg := f.call(t, "paper_read", map[string]any{"ref": ref, "offline": true}, nil)
		if !strings.Contains(msg, "outside the directories") {
			t.Errorf("paper_read %s: want a refusal naming the roots, got %q", ref, msg)
		}
	}
	if msg := f.call(t, "task_check", map[string]any{"dir": "/tmp"}, nil); !strings.Contains(msg, "outside") {
		t.Errorf("task_check /tmp: want a refusal, got %q", msg)
	}
	var p PaperReadOut
	if msg := f.call(t, "paper_read", map[string]any{"ref": "paper.md", "offline": true}, &p); msg != "" {
		t.Fatalf("paper_read paper.md under the root: %s", msg)
	}
	if p.Title != "A title" || !strings.Contains(p.Abstract, "We study things") {
		t.Errorf("paper_read: title %q, abstract %q", p.Title, p.Abstract)
	}
}

// lit_search answers from the local index, best first; a missing index is
// an error that says how to build one.
func TestLitSearch(t *testing.T) {
	f := newFixture(t, nil)
	if msg := f.call(t, "lit_search", map[string]any{"query": "boosting"}, nil); !strings.Contains(msg, "mlrc lit index") {
		t.Errorf("no index: want advice to build one, got %q", msg)
	}
	ctx := context.Background()
	ix, err := lit.OpenIndex(ctx, f.srv.cfg.Literature)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(ctx,
		lit.Work{ID: "a", Source: "index", Title: "Gradient boosted decision trees for tabular data", Abstract: "Boosting trees on tables.", Year: 2024},
		lit.Work{ID: "b", Source: "index", Title: "Speech recognition with transformers", Abstract: "Audio models."},
		lit.Work{ID: "c", Source: "index", Title: "Image segmentation of leaves", Abstract: "Plants and pixels."},
	); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	var out LitSearchOut
	if msg := f.call(t, "lit_search", map[string]any{"query": "gradient boosted trees tabular", "k": 2}, &out); msg != "" {
		t.Fatal(msg)
	}
	if len(out.Works) == 0 || out.Works[0].ID != "a" || out.Works[0].Year != 2024 {
		t.Fatalf("lit_search: want work a first, got %+v", out.Works)
	}
	if len(out.Works) > 2 {
		t.Errorf("k=2 returned %d works", len(out.Works))
	}
	// The bound is enforced before the tool runs.
	res, err := f.client.CallTool(ctx, &mcp.CallToolParams{Name: "lit_search", Arguments: map[string]any{"query": "x", "k": 500}})
	if err == nil && !res.IsError {
		t.Errorf("k=500 was accepted")
	}
}

// A run that does not exist is a clear tool error, not a protocol failure.
func TestUnknownRun(t *testing.T) {
	f := newFixture(t, nil)
	for _, tool := range []string{"run_status", "run_report", "run_stop"} {
		if msg := f.call(t, tool, map[string]any{"run_id": "nope"}, nil); !strings.Contains(msg, "nope") {
			t.Errorf("%s of an unknown run: %q", tool, msg)
		}
	}
	if _, err := f.client.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "mlrc://runs/../../etc/report"}); err == nil {
		t.Errorf("a resource URI with .. was read")
	}
}
