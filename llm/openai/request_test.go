package openai

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

const readFileSchema = `{"type":"object","required":["path"],"properties":{"path":{"type":"string","description":"file to read"}},"additionalProperties":false}`

// TestRequestConversation sends a conversation in which the assistant called
// two tools and got their results, and checks the wire messages.
func TestRequestConversation(t *testing.T) {
	c, got := newTestClient(t, respondJSON(200, completion(`{"role":"assistant","content":"done"}`, "stop", `{"prompt_tokens":1,"completion_tokens":1}`)))
	assistant := llm.Message{Role: llm.RoleAssistant, Content: []llm.Part{
		{Type: llm.PartText, Text: "Let me look."},
		{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_1", Name: "read_file", Arguments: json.RawMessage(`{"path":"train.py"}`)}},
		{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "call_2", Name: "read_file", Arguments: json.RawMessage(`{"path":"missing.py"}`)}},
	}}
	results := llm.ToolResults(
		llm.ToolResult{CallID: "call_1", Name: "read_file", Content: "import torch"},
		llm.ToolResult{CallID: "call_2", Name: "read_file", Content: "no such file", IsError: true},
	)
	req := &llm.Request{
		Model:    "gpt-test",
		System:   "You are careful.",
		Messages: []llm.Message{llm.UserText("Read the code."), assistant, results},
		Tools: []llm.Tool{
			{Name: "read_file", Description: "Read a file.", Parameters: json.RawMessage(readFileSchema)},
			{Name: "list_files", Description: "List files."},
		},
	}
	if _, err := c.Complete(context.Background(), req); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	_, wire := got.request(t)

	type msg struct{ role, content, toolCallID string }
	want := []msg{
		{"system", `"You are careful."`, ""},
		{"user", `"Read the code."`, ""},
		{"assistant", `"Let me look."`, ""},
		{"tool", `"import torch"`, "call_1"},
		{"tool", `"ERROR: no such file"`, "call_2"},
	}
	if got, want := len(wire.Messages), len(want); got != want {
		t.Fatalf("sent %d messages, want %d: %+v", got, want, wire.Messages)
	}
	for i, w := range want {
		m := wire.Messages[i]
		if g := (msg{m.Role, string(m.Content), m.ToolCallID}); g != w {
			t.Errorf("message %d = %+v, want %+v", i, g, w)
		}
	}
	calls := wire.Messages[2].ToolCalls
	if got, want := len(calls), 2; got != want {
		t.Fatalf("assistant message has %d tool calls, want %d", got, want)
	}
	for i, w := range []struct{ id, name, args string }{
		{"call_1", "read_file", `{"path":"train.py"}`},
		{"call_2", "read_file", `{"path":"missing.py"}`},
	} {
		c := calls[i]
		if c.ID != w.id || c.Type != "function" || c.Function.Name != w.name || c.Function.Arguments != w.args {
			t.Errorf("tool call %d = %+v, want %+v of type function", i, c, w)
		}
	}

	if got, want := len(wire.Tools), 2; got != want {
		t.Fatalf("sent %d tools, want %d", got, want)
	}
	for i, w := range []struct{ name, desc, params string }{
		{"read_file", "Read a file.", readFileSchema}, // key order kept
		{"list_files", "List files.", emptySchema},
	} {
		tool := wire.Tools[i]
		if tool.Type != "function" || tool.Function.Name != w.name || tool.Function.Description != w.desc {
			t.Errorf("tool %d = %s %q %q, want function %q %q", i, tool.Type, tool.Function.Name, tool.Function.Description, w.name, w.desc)
		}
		if got := string(tool.Function.Parameters); got != w.params {
			t.Errorf("tool %d parameters = %s, want %s", i, got, w.params)
		}
	}
	if wire.ToolChoice != nil {
		t.Errorf("tool_choice = %s, want absent for auto", wire.ToolChoice)
	}
}

func TestRequestToolChoice(t *testing.T) {
	tools := []llm.Tool{{Name: "read_file", Parameters: json.RawMessage(readFileSchema)}}
	tests := []struct {
		name   string
		choice llm.ToolChoice
		tools  []llm.Tool
		want   string // the tool_choice JSON; "" for absent
	}{
		{"auto", llm.ToolChoice{}, tools, ""},
		{"none", llm.ToolChoice{Mode: llm.ToolChoiceNone}, tools, `"none"`},
		{"required", llm.ToolChoice{Mode: llm.ToolChoiceRequired}, tools, `"required"`},
		{"named", llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "read_file"}, tools, `{"function":{"name":"read_file"},"type":"function"}`},
		{"none without tools", llm.ToolChoice{Mode: llm.ToolChoiceNone}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := toParams(&llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}, Tools: tt.tools, ToolChoice: tt.choice}, wireOptions{})
			if err != nil {
				t.Fatalf("toParams: %v", err)
			}
			wire := marshal(t, p)
			if got := string(wire.ToolChoice); got != tt.want {
				t.Errorf("tool_choice = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestRequestMaxTokens(t *testing.T) {
	for _, completionTokens := range []bool{false, true} {
		p, err := toParams(&llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}, MaxTokens: 300}, wireOptions{completionTokens: completionTokens})
		if err != nil {
			t.Fatalf("toParams: %v", err)
		}
		wire := marshal(t, p)
		sent, other := wire.MaxTokens, wire.MaxCompletionTokens
		if completionTokens {
			sent, other = other, sent
		}
		if sent == nil || *sent != 300 || other != nil {
			t.Errorf("completionTokens=%v: max_tokens=%v max_completion_tokens=%v, want 300 in one of them", completionTokens, wire.MaxTokens, wire.MaxCompletionTokens)
		}
	}
	if !New(Config{}).wire.completionTokens || New(Config{BaseURL: "http://localhost:11434/v1"}).wire.completionTokens {
		t.Errorf("max_completion_tokens should be used for api.openai.com only")
	}
}

func TestRequestInvalid(t *testing.T) {
	tests := []struct {
		name string
		req  llm.Request
		want string
	}{
		{
			name: "bad schema",
			req:  llm.Request{Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":`)}}},
			want: "tool f: parameters are not valid JSON",
		},
		{
			name: "unknown tool named",
			req:  llm.Request{Tools: []llm.Tool{{Name: "f"}}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "g"}},
			want: `tool choice names "g"`,
		},
		{
			name: "unknown role",
			req:  llm.Request{Messages: []llm.Message{{Role: "narrator"}}},
			want: `message 0: unknown role "narrator"`,
		},
		{
			name: "tool result from the assistant",
			req: llm.Request{Messages: []llm.Message{{Role: llm.RoleAssistant, Content: []llm.Part{
				{Type: llm.PartToolResult, ToolResult: &llm.ToolResult{CallID: "x"}}}}}},
			want: "message 0: tool result in an assistant message",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(Config{Provider: "test", BaseURL: "http://127.0.0.1:1/v1"})
			tt.req.Model = "m"
			_, err := c.Complete(context.Background(), &tt.req)
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *llm.APIError", err, err)
			}
			if !strings.Contains(apiErr.Message, tt.want) || apiErr.Retryable() {
				t.Errorf("error %q (retryable %v), want a final error containing %q", apiErr.Message, apiErr.Retryable(), tt.want)
			}
		})
	}
}

// TestArgsRoundTrip checks that arguments the model cut short survive the
// trip into the neutral form and back.
func TestArgsRoundTrip(t *testing.T) {
	for _, wire := range []string{`{"path": "a.py"}`, `{"path": "a`, `not json`} {
		neutral := neutralArgs(wire)
		if !json.Valid(neutral) {
			t.Errorf("neutralArgs(%q) = %s, not valid JSON", wire, neutral)
		}
		if got := wireArgs(neutral); got != wire {
			t.Errorf("wireArgs(neutralArgs(%q)) = %q", wire, got)
		}
	}
	if got, want := wireArgs(nil), "{}"; got != want {
		t.Errorf("wireArgs(nil) = %q, want %q", got, want)
	}
}

func marshal(t *testing.T, v any) wireRequest {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var w wireRequest
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("unmarshal %s: %v", raw, err)
	}
	return w
}

// TestStructuredOutput: a strict tool is sent with strict: true (cut to the
// keywords OpenAI's strict mode accepts, on OpenAI's own service), and a
// server that constrains only response_format gets the schema there.
func TestStructuredOutput(t *testing.T) {
	schema := `{"type":"object","properties":{"minLength":{"type":"string","minLength":1,"enum":["a","b"]},"n":{"type":"integer","minimum":1,"maximum":5}},"required":["minLength","n"],"additionalProperties":false}`
	out := llm.Tool{Name: "answer", Description: "d", Parameters: json.RawMessage(schema), Strict: true}
	req := &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}, Tools: []llm.Tool{out}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "answer"}}
	tests := []struct {
		name             string
		o                wireOptions
		want, wantAbsent []string
	}{
		{"strict tool, full schema", wireOptions{}, []string{`"strict":true`, `"minLength":1`, `"enum":["a","b"]`, `"maximum":5`, `"tool_choice":{`}, []string{`"response_format"`}},
		{"openai's subset", wireOptions{strictSubset: true}, []string{`"strict":true`, `"minLength":{"enum":["a","b"],"type":"string"}`, `"maximum":5`}, []string{`"minLength":1`}},
		{"response_format", wireOptions{jsonSchemaFormat: true}, []string{`"response_format":{"json_schema":{`, `"strict":true`, `"name":"answer"`, `"enum":["a","b"]`}, []string{`"tools"`, `"tool_choice"`}},
	}
	for _, tt := range tests {
		p, err := toParams(req, tt.o)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		raw, _ := json.Marshal(p)
		for _, w := range tt.want {
			if !strings.Contains(string(raw), w) {
				t.Errorf("%s: request lacks %s: %s", tt.name, w, raw)
			}
		}
		for _, w := range tt.wantAbsent {
			if strings.Contains(string(raw), w) {
				t.Errorf("%s: request has %s: %s", tt.name, w, raw)
			}
		}
	}
	// A tool that is not strict is sent as before.
	plain := *req
	plain.Tools = []llm.Tool{{Name: "answer", Parameters: json.RawMessage(schema)}}
	p, _ := toParams(&plain, wireOptions{jsonSchemaFormat: true})
	if raw, _ := json.Marshal(p); strings.Contains(string(raw), "strict") || strings.Contains(string(raw), "response_format") {
		t.Errorf("a plain tool: %s", raw)
	}
}
