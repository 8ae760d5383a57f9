package scripted

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

const script = `
- text: "reading"
  tool_calls:
    - name: read_file
      arguments: {path: train.py}
- error: {status: 500, message: "server error"}
- text: "done"
  usage: {input_tokens: 7, output_tokens: 3}
`

func TestScriptInOrder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var deltas []llm.Delta
	readFile := llm.Tool{Name: "read_file", Parameters: []byte(`{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}`)}
	r1, err := m.Complete(ctx, &llm.Request{Model: "x", Tools: []llm.Tool{readFile}, Stream: func(d llm.Delta) { deltas = append(deltas, d) }})
	if err != nil {
		t.Fatal(err)
	}
	calls := r1.ToolCalls()
	if len(calls) != 1 || calls[0].Name != "read_file" || string(calls[0].Arguments) != `{"path":"train.py"}` || r1.StopReason != llm.StopToolUse {
		t.Fatalf("first response = %+v", r1)
	}
	if len(deltas) != 3 || deltas[0].Text != "reading" || deltas[1].ToolName != "read_file" {
		t.Errorf("deltas = %+v", deltas)
	}
	_, err = m.Complete(ctx, &llm.Request{})
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 500 {
		t.Fatalf("second = %v, want HTTP 500", err)
	}
	r3, err := m.Complete(ctx, &llm.Request{})
	if err != nil || r3.Text() != "done" || r3.Usage.InputTokens != 7 {
		t.Fatalf("third = %+v, %v", r3, err)
	}
	if _, err := m.Complete(ctx, &llm.Request{}); err == nil {
		t.Fatal("want an error once the script is used up")
	}
	if got := len(m.Requests()); got != 4 {
		t.Errorf("requests = %d, want 4", got)
	}
}

func TestParseRejects(t *testing.T) {
	for _, bad := range []string{"- txt: hi", "- tool_calls: [{arguments: {}}]", "text: not a list"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", bad)
		}
	}
}

// A loaded script's answers are checked against the request: an unknown
// tool, a tool other than the forced one, or arguments outside the schema
// are errors naming the response.
func TestLoadedScriptIsChecked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	body := `
- tool_calls: [{name: review_idea, arguments: {score: 9}}]
- tool_calls: [{name: nosuch}]
- tool_calls: [{name: review_idea, arguments: {score: 3}}]
- tool_calls: [{name: review_idea, arguments: {score: 3}}]
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	review := llm.Tool{Name: "review_idea", Parameters: []byte(`{"type":"object","properties":{"score":{"type":"integer","minimum":1,"maximum":5}},"required":["score"]}`)}
	other := llm.Tool{Name: "other", Parameters: []byte(`{"type":"object"}`)}
	ctx := context.Background()
	cases := []struct {
		req  llm.Request
		want string // "" = accepted
	}{
		{llm.Request{Tools: []llm.Tool{review}}, "response 1 does not fit"},
		{llm.Request{Tools: []llm.Tool{review}}, "does not offer"},
		{llm.Request{Tools: []llm.Tool{review, other}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "other"}}, "asks for other"},
		{llm.Request{Tools: []llm.Tool{review}}, ""},
	}
	for i, c := range cases {
		_, err := m.Complete(ctx, &c.req)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("response %d: %v, want it accepted", i+1, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("response %d: error %v, want one saying %q", i+1, err, c.want)
		}
	}
	// New (for tests that script bad answers on purpose) does not check.
	u := New("u", []Response{{ToolCalls: []ToolCall{{Name: "nosuch"}}}})
	if _, err := u.Complete(ctx, &llm.Request{Tools: []llm.Tool{review}}); err != nil {
		t.Errorf("unchecked model: %v", err)
	}
}

// "$enum" placeholders take the schema's enum values; a list item whose
// placeholder has no enum is left out.
func TestEnumPlaceholders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	body := `
- tool_calls: [{name: cite, arguments: {refs: [{work: $enum, how: a}, {work: "$enum:2", how: b}, {work: "$enum:9", how: c}]}}]
- tool_calls: [{name: cite, arguments: {refs: [{work: $enum, how: a}]}}]
`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	tool := func(enum string) llm.Tool {
		return llm.Tool{Name: "cite", Parameters: []byte(`{"type":"object","properties":{"refs":{"type":"array","items":{"type":"object",` +
			`"properties":{"work":{"type":"string"` + enum + `},"how":{"type":"string"}}}}}}`)}
	}
	ctx := context.Background()
	r, err := m.Complete(ctx, &llm.Request{Tools: []llm.Tool{tool(`,"enum":["s:1","s:2"]`)}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(r.ToolCalls()[0].Arguments), `{"refs":[{"how":"a","work":"s:1"},{"how":"b","work":"s:2"},{"how":"c","work":"s:1"}]}`; got != want {
		t.Errorf("with an enum: %s, want %s", got, want)
	}
	r, err = m.Complete(ctx, &llm.Request{Tools: []llm.Tool{tool("")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(r.ToolCalls()[0].Arguments); got != `{"refs":[]}` {
		t.Errorf("without an enum: %s, want no refs", got)
	}
}
