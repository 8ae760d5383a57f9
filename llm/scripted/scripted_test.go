package scripted

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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
	r1, err := m.Complete(ctx, &llm.Request{Model: "x", Stream: func(d llm.Delta) { deltas = append(deltas, d) }})
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
