// Package scripted is a model that answers from a file of responses, in
// order. Tests use it to drive agents through exact scenarios, and users can
// use it to rehearse a pipeline without a model (`--model scripted/FILE`).
//
// The file is YAML (or JSON) holding a list of responses:
//
//   - text: "I will read the training script first."
//     tool_calls:
//   - name: read_file
//     arguments: {path: train.py}
//   - text: "Done."
//   - error: {status: 500, message: "server error"}
//
// A response may also set usage ({input_tokens, output_tokens}); without it,
// usage is estimated at four characters a token.
//
// A model loaded from a file (Load, `--model scripted/FILE`) checks each
// answer against the request it answers: a tool call must name a tool the
// request offers (the forced one when the request forces a tool), and its
// arguments must match that tool's JSON Schema. A mismatch is an error
// naming the response, so a script that no longer fits the code fails
// loudly instead of being repaired or retried by its caller.
//
// Such a model also fills placeholders from the tool's schema: a string
// "$enum" becomes the first value of the enum the schema gives at that
// place ("$enum:N" the Nth, or the first when there are fewer), so a script
// can cite what the request offers (e.g. retrieved works). A list item
// holding a placeholder that has no enum to draw from is left out.
package scripted

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"
	"go.yaml.in/yaml/v3"

	"github.com/mlrc/mlrc/llm"
)

// Response is one scripted answer.
type Response struct {
	Text      string     `yaml:"text" json:"text"`
	ToolCalls []ToolCall `yaml:"tool_calls" json:"tool_calls"`
	Usage     *llm.Usage `yaml:"usage" json:"usage"`
	Error     *Error     `yaml:"error" json:"error"`
}

// ToolCall is one scripted tool call; Arguments is any YAML/JSON value.
type ToolCall struct {
	ID        string `yaml:"id" json:"id"`
	Name      string `yaml:"name" json:"name"`
	Arguments any    `yaml:"arguments" json:"arguments"`
}

// Error makes a scripted call fail like a provider would.
type Error struct {
	Status  int    `yaml:"status" json:"status"`
	Message string `yaml:"message" json:"message"`
}

// Model answers requests with its responses in order.
type Model struct {
	name string
	// Check makes each answer be checked against its request's tools.
	Check bool

	mu        sync.Mutex
	responses []Response
	next      int
	requests  []llm.Request
}

// New returns a model answering with responses; name is used in errors.
func New(name string, responses []Response) *Model {
	return &Model{name: name, responses: responses}
}

// Load reads a script file.
func Load(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("scripted model: %w", err)
	}
	rs, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("scripted model %s: %w", path, err)
	}
	m := New(path, rs)
	m.Check = true
	return m, nil
}

// Parse reads a script from YAML or JSON.
func Parse(b []byte) ([]Response, error) {
	var rs []Response
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, fmt.Errorf("parse script (a YAML list of responses with text, tool_calls, usage or error): %w", err)
	}
	for i, r := range rs {
		for j, c := range r.ToolCalls {
			if c.Name == "" {
				return nil, fmt.Errorf("response %d, tool call %d: name is missing", i+1, j+1)
			}
		}
	}
	return rs, nil
}

// Requests returns the requests received so far, for tests to inspect.
func (m *Model) Requests() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]llm.Request(nil), m.requests...)
}

// Remaining says how many responses are left.
func (m *Model) Remaining() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.responses) - m.next
}

// Complete returns the next scripted response.
func (m *Model) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.requests = append(m.requests, *req)
	if m.next >= len(m.responses) {
		n := len(m.responses)
		m.mu.Unlock()
		return nil, fmt.Errorf("scripted model %s: all %d responses used; the script needs another for this request", m.name, n)
	}
	r := m.responses[m.next]
	n := m.next
	m.next++
	m.mu.Unlock()

	if r.Error != nil {
		return nil, &llm.APIError{Provider: "scripted", Model: req.Model, Status: r.Error.Status, Message: r.Error.Message}
	}
	msg := llm.Message{Role: llm.RoleAssistant}
	if r.Text != "" {
		msg.Content = append(msg.Content, llm.Part{Type: llm.PartText, Text: r.Text})
		if req.Stream != nil {
			req.Stream(llm.Delta{Text: r.Text})
		}
	}
	for j, c := range r.ToolCalls {
		if m.Check {
			c.Arguments = fillArguments(req, c.Name, c.Arguments)
		}
		args, err := json.Marshal(c.Arguments)
		if err != nil {
			return nil, fmt.Errorf("scripted model %s: response %d: arguments: %w", m.name, n+1, err)
		}
		if c.Arguments == nil {
			args = []byte("{}")
		}
		id := c.ID
		if id == "" {
			id = fmt.Sprintf("call_%d_%d", n+1, j+1)
		}
		if m.Check {
			if err := check(req, c.Name, args); err != nil {
				return nil, fmt.Errorf("scripted model %s: response %d does not fit the request: %w", m.name, n+1, err)
			}
		}
		tc := llm.ToolCall{ID: id, Name: c.Name, Arguments: args}
		msg.Content = append(msg.Content, llm.Part{Type: llm.PartToolCall, ToolCall: &tc})
		if req.Stream != nil {
			req.Stream(llm.Delta{ToolIndex: j, ToolID: id, ToolName: c.Name})
			req.Stream(llm.Delta{ToolIndex: j, ToolArgs: string(args)})
		}
	}
	stop := llm.StopEnd
	if len(r.ToolCalls) > 0 {
		stop = llm.StopToolUse
	}
	usage := estimate(req, msg)
	if r.Usage != nil {
		usage = *r.Usage
	}
	return &llm.Response{Model: req.Model, Message: msg, StopReason: stop, Usage: usage}, nil
}

func estimate(req *llm.Request, out llm.Message) llm.Usage {
	in, _ := json.Marshal(req)
	o, _ := json.Marshal(out.Content)
	return llm.Usage{InputTokens: int64(len(in)/4 + 1), OutputTokens: int64(len(o)/4 + 1)}
}

// check says whether a call of tool name with args fits req: the tool is
// offered (and is the forced one, when one is forced), and args match its
// schema.
func check(req *llm.Request, name string, args []byte) error {
	if req.ToolChoice.Mode == llm.ToolChoiceTool && req.ToolChoice.Name != name {
		return fmt.Errorf("it calls %s, but the request asks for %s", name, req.ToolChoice.Name)
	}
	var names []string
	for _, t := range req.Tools {
		names = append(names, t.Name)
		if t.Name != name {
			continue
		}
		if len(t.Parameters) == 0 {
			return nil
		}
		var s jsonschema.Schema
		if err := json.Unmarshal(t.Parameters, &s); err != nil {
			return fmt.Errorf("tool %s: its schema does not parse: %w", name, err)
		}
		resolved, err := s.Resolve(nil)
		if err != nil {
			return fmt.Errorf("tool %s: its schema does not resolve: %w", name, err)
		}
		var v any
		if err := json.Unmarshal(args, &v); err != nil {
			return fmt.Errorf("tool %s: arguments: %w", name, err)
		}
		if err := resolved.Validate(v); err != nil {
			return fmt.Errorf("tool %s: the arguments do not match its schema: %w", name, err)
		}
		return nil
	}
	return fmt.Errorf("it calls tool %s, which the request does not offer (it offers: %s)", name, strings.Join(names, ", "))
}

// fillArguments replaces "$enum" placeholders in args with values of the
// enums that tool name's schema gives at their places.
func fillArguments(req *llm.Request, name string, args any) any {
	for _, t := range req.Tools {
		if t.Name == name {
			var schema map[string]any
			if json.Unmarshal(t.Parameters, &schema) != nil {
				return args
			}
			v, _ := fill(args, schema)
			return v
		}
	}
	return args
}

// fill returns v with its placeholders filled from schema; ok is false when
// v holds a placeholder that cannot be filled.
func fill(v any, schema map[string]any) (any, bool) {
	switch x := v.(type) {
	case string:
		if x != "$enum" && !strings.HasPrefix(x, "$enum:") {
			return x, true
		}
		enum, _ := schema["enum"].([]any)
		if len(enum) == 0 {
			return nil, false
		}
		var n int
		if _, err := fmt.Sscanf(x, "$enum:%d", &n); err != nil || n < 1 || n > len(enum) {
			n = 1
		}
		return enum[n-1], true
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		out := make(map[string]any, len(x))
		for k, e := range x {
			sub, _ := props[k].(map[string]any)
			fv, ok := fill(e, sub)
			if !ok {
				return nil, false
			}
			out[k] = fv
		}
		return out, true
	case []any:
		items, _ := schema["items"].(map[string]any)
		out := []any{}
		for _, e := range x {
			if fv, ok := fill(e, items); ok {
				out = append(out, fv)
			}
		}
		return out, true
	}
	return v, true
}
