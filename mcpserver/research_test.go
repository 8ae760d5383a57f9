package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlrc/mlrc/store"
)

func needPython(t *testing.T) {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with scikit-learn and pandas (make test installs them)")
	}
}

// waitRun polls run_status until the run is no longer running.
func (f *fixture) waitRun(t *testing.T, id string, limit time.Duration, each func(RunStatusOut) bool) RunStatusOut {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		var st RunStatusOut
		if msg := f.call(t, "run_status", map[string]any{"run_id": id}, &st); msg != "" {
			t.Fatalf("run_status: %s", msg)
		}
		if each != nil && !each(st) {
			return st
		}
		if st.Status != store.StatusRunning {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %s still running after %s: %+v", id, limit, st)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// A research run started over MCP answers at once with its id, goes on in
// the background, is followed to its end through run_status, run_events
// and progress notifications, and its report is read back.
func TestResearchOverMCP(t *testing.T) {
	needPython(t)
	f := newFixture(t, []string{binary(t)})
	start := time.Now()
	res, err := f.client.CallTool(context.Background(), &mcp.CallToolParams{
		Name: "research_start",
		Arguments: map[string]any{
			"papers":    []string{"examples/papers/fashion-mnist.md"},
			"task":      "examples/tasks/digits",
			"rehearsal": "examples/rehearsal/digits.yaml",
			"offline":   true,
			"seeds":     []int{0, 1},
		},
		Meta: mcp.Meta{"progressToken": "research-1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError {
		t.Fatalf("research_start: %v", res.Content[0].(*mcp.TextContent).Text)
	}
	took := time.Since(start)
	var out ResearchStartOut
	decode(t, res.StructuredContent, &out)
	if out.RunID == "" || !strings.HasPrefix(out.Dir, f.runsDir) {
		t.Fatalf("research_start: %+v (runs dir %s)", out, f.runsDir)
	}
	t.Logf("research_start answered in %s with run %s", took, out.RunID)
	// It answers when the run exists, long before the run ends.
	var first RunStatusOut
	if msg := f.call(t, "run_status", map[string]any{"run_id": out.RunID}, &first); msg != "" {
		t.Fatal(msg)
	}
	if first.Status != store.StatusRunning {
		t.Fatalf("the run had ended (%s) when research_start answered after %s: it must answer at once", first.Status, took)
	}
	if first.Kind != "research" {
		t.Errorf("kind %q", first.Kind)
	}

	var cursor int64
	var seen []string
	final := f.waitRun(t, out.RunID, 10*time.Minute, func(RunStatusOut) bool {
		var evs RunEventsOut
		if msg := f.call(t, "run_events", map[string]any{"run_id": out.RunID, "after": cursor}, &evs); msg != "" {
			t.Fatalf("run_events: %s", msg)
		}
		for _, e := range evs.Events {
			if e.Seq <= cursor {
				t.Fatalf("run_events after %d returned event %d", cursor, e.Seq)
			}
			cursor = e.Seq
			seen = append(seen, e.Type)
		}
		return true
	})
	if final.Status != store.StatusDone {
		t.Fatalf("run ended %s: %s (log %s)", final.Status, final.Error, out.Log)
	}
	if final.Best == nil || final.Baseline == nil || *final.Best <= *final.Baseline {
		t.Errorf("status after the run: baseline %v, best %v", final.Baseline, final.Best)
	}
	if final.Verdict == "" {
		t.Errorf("no verdict in the final status: %+v", final)
	}
	if !strings.Contains(strings.Join(seen, " "), "step") || !strings.Contains(strings.Join(seen, " "), "verdict") {
		t.Errorf("events seen through the cursor: %v", seen)
	}

	var rep RunReportOut
	if msg := f.call(t, "run_report", map[string]any{"run_id": out.RunID[:8]}, &rep); msg != "" {
		t.Fatal(msg)
	}
	if !strings.Contains(rep.Report, out.RunID) || !strings.Contains(strings.ToLower(rep.Report), "rehearsal") {
		t.Errorf("report does not name the run and the rehearsal:\n%.600s", rep.Report)
	}
	if rep.Path != filepath.Join(out.Dir, "report.md") {
		t.Errorf("report path %s", rep.Path)
	}
	r, err := f.client.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "mlrc://runs/" + out.RunID + "/report"})
	if err != nil || len(r.Contents) != 1 || r.Contents[0].Text != rep.Report {
		t.Errorf("the report resource differs from run_report (%v)", err)
	}
	if _, err := f.client.ReadResource(context.Background(), &mcp.ReadResourceParams{URI: "mlrc://runs/" + out.RunID + "/ideas"}); err != nil {
		t.Errorf("ideas resource: %v", err)
	}

	// Progress notifications went out while the run was active.
	time.Sleep(300 * time.Millisecond)
	f.mu.Lock()
	progress := append([]string(nil), f.progress...)
	f.mu.Unlock()
	if len(progress) < 2 || !strings.Contains(progress[len(progress)-1], "done") {
		t.Errorf("progress notifications: %q", progress)
	}
}

func decode(t *testing.T, v any, out any) {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
}

// idea_generate waits for its run and answers with ideas.json.
func TestIdeaGenerate(t *testing.T) {
	script := filepath.Join(repoRoot(t), "examples/rehearsal/digits.yaml")
	f := newFixture(t, []string{binary(t), "--model", "scripted/" + script})
	var out struct {
		IdeaGenerateOut
		Ideas json.RawMessage `json:"ideas"`
	}
	if msg := f.call(t, "idea_generate", map[string]any{
		"papers": []string{"examples/papers/fashion-mnist.md"}, "task": "examples/tasks/digits", "offline": true,
	}, &out); msg != "" {
		t.Fatal(msg)
	}
	if out.Status != store.StatusDone || out.RunID == "" {
		t.Fatalf("idea_generate: %+v", out)
	}
	var ideas struct {
		Ideas []struct {
			Title string `json:"title"`
		} `json:"ideas"`
	}
	if err := json.Unmarshal(out.Ideas, &ideas); err != nil || len(ideas.Ideas) == 0 || ideas.Ideas[0].Title == "" {
		t.Fatalf("ideas.json: %v %.300s", err, out.Ideas)
	}
	if msg := f.call(t, "idea_generate", map[string]any{"papers": []string{"/etc/passwd"}}, nil); !strings.Contains(msg, "outside") {
		t.Errorf("a paper outside the roots: %q", msg)
	}
}

// run_stop stops a run as Ctrl-C would: it ends stopped, with a report
// saying so and how to resume.
func TestRunStop(t *testing.T) {
	needPython(t)
	f := newFixture(t, []string{binary(t)})
	var out ResearchStartOut
	if msg := f.call(t, "research_start", map[string]any{
		"papers": []string{"examples/papers/fashion-mnist.md"}, "task": "examples/tasks/digits",
		"rehearsal": "examples/rehearsal/digits.yaml", "offline": true, "seeds": []int{0, 1},
	}, &out); msg != "" {
		t.Fatal(msg)
	}
	var ok OKOut
	if msg := f.call(t, "run_stop", map[string]any{"run_id": out.RunID}, &ok); msg != "" || !ok.OK {
		t.Fatalf("run_stop: %q %+v", msg, ok)
	}
	final := f.waitRun(t, out.RunID, 2*time.Minute, nil)
	if final.Status != store.StatusStopped {
		t.Fatalf("after run_stop the run is %s (%s), want stopped", final.Status, final.Error)
	}
	var rep RunReportOut
	if msg := f.call(t, "run_report", map[string]any{"run_id": out.RunID}, &rep); msg != "" {
		t.Fatal(msg)
	}
	if !strings.Contains(rep.Report, "mlrc resume "+out.RunID) {
		t.Errorf("the stopped run's report does not say how to resume:\n%.800s", rep.Report)
	}
}

// A human run's gates are answered over MCP: the idea is picked, the first
// gate after it gets guidance, and the guidance reaches the agent's prompt.
func TestGatesOverMCP(t *testing.T) {
	needPython(t)
	f := newFixture(t, []string{binary(t)})
	var out ResearchStartOut
	if msg := f.call(t, "research_start", map[string]any{
		"papers": []string{"examples/papers/fashion-mnist.md"}, "task": "examples/tasks/digits",
		"rehearsal": "examples/rehearsal/digits.yaml", "offline": true, "seeds": []int{0, 1}, "human": true,
	}, &out); msg != "" {
		t.Fatal(msg)
	}
	const advice = "prefer-the-kernel-svm-advice"
	answered := map[string]int{}
	guided := false
	final := f.waitRun(t, out.RunID, 10*time.Minute, func(st RunStatusOut) bool {
		for _, g := range st.OpenGates {
			args := map[string]any{"run_id": out.RunID, "gate_id": g.ID, "decision": "approve"}
			switch {
			case g.Kind == "pick_idea":
				if g.Options == nil {
					t.Errorf("pick_idea gate without its options")
				}
				args["decision"], args["pick"] = "pick", 0
			case !guided:
				args["decision"], args["guidance"] = "guide", advice
				guided = true
			}
			var ok OKOut
			if msg := f.call(t, "gate_answer", args, &ok); msg != "" {
				t.Fatalf("gate_answer %v: %s", args, msg)
			}
			answered[g.Kind]++
			// A second answer to the same gate loses, and says who won.
			if msg := f.call(t, "gate_answer", args, nil); !strings.Contains(msg, "already answered from the mcp") {
				t.Errorf("a second answer: %q", msg)
			}
		}
		return true
	})
	if final.Status != store.StatusDone {
		t.Fatalf("run ended %s: %s (answered %v; log %s)", final.Status, final.Error, answered, out.Log)
	}
	if answered["pick_idea"] != 1 || !guided {
		t.Fatalf("gates answered: %v, guided %v", answered, guided)
	}
	calls, err := os.ReadFile(filepath.Join(out.Dir, "llm-calls.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(calls), advice) {
		t.Errorf("the guidance given over MCP never reached the model's prompt")
	}
	var evs RunEventsOut
	f.call(t, "run_events", map[string]any{"run_id": out.RunID, "limit": 1000}, &evs)
	closed := 0
	for _, e := range evs.Events {
		if e.Type == store.EventGateClosed && strings.Contains(fmt.Sprint(e.Data), "mcp") {
			closed++
		}
	}
	if closed < 2 {
		t.Errorf("gate_closed events answered by mcp: %d", closed)
	}
}
