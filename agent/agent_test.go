package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
)

// echo is a tool that returns its argument, failing when told to.
type echo struct{ calls int }

func (e *echo) Definition() llm.Tool {
	return llm.Tool{Name: "echo", Description: "echo", Parameters: json.RawMessage(`{"type":"object","properties":{"text":{"type":"string"}}}`)}
}

func (e *echo) Call(_ context.Context, args json.RawMessage) (Result, error) {
	e.calls++
	var p struct{ Text string }
	json.Unmarshal(args, &p)
	if strings.HasPrefix(p.Text, "fail") {
		return Result{Content: "failed: " + p.Text, IsError: true}, nil
	}
	return Result{Content: "echo " + p.Text}, nil
}

type final struct{}

func (final) Definition() llm.Tool {
	return llm.Tool{Name: "final_answer", Parameters: json.RawMessage(`{"type":"object"}`)}
}
func (final) Call(context.Context, json.RawMessage) (Result, error) {
	return Result{Content: "done", Final: true}, nil
}

func call(name, text string) scripted.Response {
	return scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: map[string]any{"text": text}}}}
}

func TestRunUntilFinal(t *testing.T) {
	m := scripted.New("t", []scripted.Response{call("echo", "a"), {Text: "thinking"}, call("nosuch", ""), call("final_answer", "")})
	e := &echo{}
	var persisted []Step
	a := &Agent{Model: m, Brief: "task", Tools: []Tool{e, final{}}, After: func(_ context.Context, s Step) error {
		persisted = append(persisted, s)
		return nil
	}}
	st, err := a.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Reason != "final" || len(st.Steps) != 4 || len(persisted) != 4 || e.calls != 1 {
		t.Fatalf("reason %q, %d steps, %d persisted, %d echo calls", st.Reason, len(st.Steps), len(persisted), e.calls)
	}
	if o := st.Steps[0].Outcomes[0]; o.Content != "echo a" || o.IsError {
		t.Errorf("step 1 outcome = %+v", o)
	}
	if n := st.Steps[1].Notes; len(n) != 1 || !strings.Contains(n[0], "without calling a tool") {
		t.Errorf("step 2 notes = %v", n)
	}
	if o := st.Steps[2].Outcomes[0]; !o.IsError || !strings.Contains(o.Content, `no tool "nosuch"`) || !strings.Contains(o.Content, "echo, final_answer") {
		t.Errorf("unknown tool outcome = %+v", o)
	}
	// The second request carries the first step's result for its call id.
	reqs := m.Requests()
	last := reqs[1].Messages
	tr := last[len(last)-1]
	if tr.Role != llm.RoleTool || tr.Content[0].ToolResult.Content != "echo a" || tr.Content[0].ToolResult.CallID != st.Steps[0].Outcomes[0].Call.ID {
		t.Errorf("second request ends with %+v", tr)
	}
}

// The context stays bounded however long the run: old steps become lines.
func TestContextIsBounded(t *testing.T) {
	var script []scripted.Response
	for i := range 20 {
		script = append(script, call("echo", fmt.Sprintf("%d %s", i, strings.Repeat("x", 5000))))
	}
	m := scripted.New("t", script)
	a := &Agent{Model: m, Brief: "task", Tools: []Tool{&echo{}}, KeepLast: 2, MaxContent: 1000, MaxSteps: 20, Checks: []Check{}}
	st, err := a.Run(context.Background(), nil)
	if err != nil || !strings.HasPrefix(st.Reason, "max_steps") {
		t.Fatalf("%v %v", st, err)
	}
	reqs := m.Requests()
	sizes := []int{}
	for _, r := range reqs {
		b, _ := json.Marshal(r.Messages)
		sizes = append(sizes, len(b))
	}
	lastReq := reqs[len(reqs)-1]
	if got := len(lastReq.Messages); got != 5 {
		t.Errorf("last request has %d messages, want 5 (brief + 2 steps × 2)", got)
	}
	if !strings.Contains(lastReq.Messages[0].Text(), "- step 17: echo(") {
		t.Errorf("brief lacks the summary of step 17:\n%s", lastReq.Messages[0].Text())
	}
	// Growth per step is a summary line, not a whole observation.
	if growth := sizes[19] - sizes[10]; growth > 9*400 {
		t.Errorf("context grew by %d bytes over 9 steps: %v", growth, sizes)
	}
}

func TestLoopDetection(t *testing.T) {
	var script []scripted.Response
	for range 6 {
		script = append(script, call("echo", "fail same"))
	}
	m := scripted.New("t", script)
	a := &Agent{Model: m, Brief: "task", Tools: []Tool{&echo{}}}
	st, err := a.Run(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(st.Reason, "loop:") || len(st.Steps) != 6 {
		t.Fatalf("reason %q after %d steps", st.Reason, len(st.Steps))
	}
	notes := strings.Join(st.Steps[2].Notes, " ")
	if !strings.Contains(notes, "same tool call(s) 3 times") || !strings.Contains(notes, "same error has now occurred 3 times") {
		t.Errorf("step 3 notes = %q", notes)
	}
	// The warning reaches the model in the next request.
	if r := m.Requests()[3]; !strings.Contains(r.Messages[len(r.Messages)-1].Text(), "try a different approach") {
		t.Errorf("the 4th request does not carry the warning")
	}
}

// A run interrupted after step 2 and resumed from its history sends exactly
// the request an uninterrupted run sends.
func TestResumeIsDeterministic(t *testing.T) {
	script := []scripted.Response{call("echo", "a"), call("echo", "b"), call("echo", "c"), call("final_answer", "")}
	straight := scripted.New("t", script)
	a := &Agent{Model: straight, Brief: "task", System: "sys", Tools: []Tool{&echo{}, final{}}}
	if _, err := a.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	first := scripted.New("t", script)
	var kept []Step
	stop := errors.New("killed")
	b := &Agent{Model: first, Brief: "task", System: "sys", Tools: []Tool{&echo{}, final{}}, After: func(_ context.Context, s Step) error {
		kept = append(kept, s)
		if s.N == 2 {
			return stop
		}
		return nil
	}}
	if _, err := b.Run(context.Background(), nil); !errors.Is(err, stop) {
		t.Fatalf("err = %v", err)
	}
	// Steps go through JSON, as they do through the store.
	raw, _ := json.Marshal(kept)
	var history []Step
	json.Unmarshal(raw, &history)

	second := scripted.New("t", script[2:])
	c := &Agent{Model: second, Brief: "task", System: "sys", Tools: []Tool{&echo{}, final{}}}
	st, err := c.Run(context.Background(), history)
	if err != nil || st.Reason != "final" || len(st.Steps) != 4 {
		t.Fatalf("resumed: %v %v", st, err)
	}
	want := straight.Requests()[2]
	got := second.Requests()[0]
	if llm.RequestHash(&got) != llm.RequestHash(&want) {
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		t.Errorf("resumed request differs:\n got %s\nwant %s", gb, wb)
	}
}

func TestGateGuidanceAndStop(t *testing.T) {
	m := scripted.New("t", []scripted.Response{call("echo", "a"), call("echo", "b")})
	a := &Agent{Model: m, Brief: "task", Tools: []Tool{&echo{}}, Before: func(_ context.Context, next int, _ []Step) (Gate, error) {
		switch next {
		case 2:
			return Gate{Guidance: "try b"}, nil
		case 3:
			return Gate{Stop: true, Reason: "enough"}, nil
		}
		return Gate{}, nil
	}}
	st, err := a.Run(context.Background(), nil)
	if err != nil || st.Reason != "enough" || len(st.Steps) != 2 {
		t.Fatalf("%+v %v", st, err)
	}
	r := m.Requests()[1]
	if !strings.Contains(r.Messages[len(r.Messages)-1].Text(), "Guidance from the researcher supervising you: try b") {
		t.Errorf("guidance not sent: %+v", r.Messages)
	}
	if st.Steps[1].Guidance != "try b" {
		t.Errorf("guidance not kept with the step")
	}
}

func TestClip(t *testing.T) {
	s := strings.Repeat("a", 50) + strings.Repeat("é", 50) + strings.Repeat("z", 50)
	c := Clip(s, 60)
	if !strings.HasPrefix(c, "aaaa") || !strings.HasSuffix(c, "zzzz") || !strings.Contains(c, "characters omitted") || !json.Valid([]byte(fmt.Sprintf("%q", c))) {
		t.Errorf("Clip = %q", c)
	}
	if Clip("short", 60) != "short" {
		t.Error("short text changed")
	}
}

func TestFuncTool(t *testing.T) {
	type params struct {
		Path  string `json:"path" jsonschema:"file to read"`
		Start int    `json:"start,omitempty"`
	}
	var got params
	tool := NewFunc("read", "Read a file.", func(_ context.Context, p params) (Result, error) {
		got = p
		return Result{Content: "ok"}, nil
	})
	def := tool.Definition()
	if !strings.Contains(string(def.Parameters), `"required":["path"]`) || !strings.Contains(string(def.Parameters), "file to read") {
		t.Errorf("schema = %s", def.Parameters)
	}
	tests := []struct {
		args    string
		wantErr string
	}{
		{`{"path":"a.py","start":3}`, ""},
		{`{"start":3}`, "path"},
		{`{"path":5}`, "path"},
		{`{"path":"a","extra":1}`, "extra"},
		{`not json`, "not valid JSON"},
	}
	for _, tt := range tests {
		r, err := tool.Call(context.Background(), json.RawMessage(tt.args))
		if err != nil {
			t.Fatal(err)
		}
		if tt.wantErr == "" {
			if r.IsError || got.Path != "a.py" || got.Start != 3 {
				t.Errorf("%s: %+v, params %+v", tt.args, r, got)
			}
			continue
		}
		if !r.IsError || !strings.Contains(r.Content, tt.wantErr) {
			t.Errorf("%s: result %+v, want a tool error naming %q", tt.args, r, tt.wantErr)
		}
	}
}
