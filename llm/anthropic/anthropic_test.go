package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm"
)

func TestCompleteText(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, `{
			"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test-20260101",
			"content": [{"type": "text", "text": "Hello there."}],
			"stop_reason": "end_turn", "stop_sequence": null,
			"usage": {"input_tokens": 12, "output_tokens": 5, "cache_read_input_tokens": 7, "cache_creation_input_tokens": 3}
		}`)
	})
	temp := 0.25
	resp, err := c.Complete(context.Background(), &llm.Request{
		Model:       "claude-test",
		System:      "Be brief.",
		Messages:    []llm.Message{llm.UserText("Hi")},
		Temperature: &temp,
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	req := f.request(t)
	req.checkEnvelope(t, false)
	req.field(t, "model", `"claude-test"`)
	req.field(t, "max_tokens", `4096`)
	req.field(t, "temperature", `0.25`)
	req.field(t, "system", `[{"type": "text", "text": "Be brief."}]`)
	req.field(t, "messages", `[{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]`)
	for _, key := range []string{"tools", "tool_choice"} {
		if _, ok := req.body[key]; ok {
			t.Errorf("request has %s, want none", key)
		}
	}

	if got, want := resp.Text(), "Hello there."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := resp.Message.Role, llm.RoleAssistant; got != want {
		t.Errorf("role = %q, want %q", got, want)
	}
	if got, want := resp.StopReason, llm.StopEnd; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Model, "claude-test-20260101"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	want := llm.Usage{InputTokens: 12, OutputTokens: 5, CacheReadTokens: 7, CacheWriteTokens: 3}
	if got := resp.Usage; got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
}

func TestCompleteToolUse(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, `{
			"id": "msg_02", "type": "message", "role": "assistant", "model": "claude-test",
			"content": [
				{"type": "text", "text": "Let me look."},
				{"type": "tool_use", "id": "toolu_01", "name": "read_file", "input": {"path": "/tmp/a.txt", "lines": [1, 20]}}
			],
			"stop_reason": "tool_use", "stop_sequence": null,
			"usage": {"input_tokens": 40, "output_tokens": 22}
		}`)
	})
	resp, err := c.Complete(context.Background(), &llm.Request{
		Model:     "claude-test",
		Messages:  []llm.Message{llm.UserText("Read /tmp/a.txt")},
		MaxTokens: 1000,
		Tools: []llm.Tool{{
			Name:        "read_file",
			Description: "Read a file.",
			Parameters:  json.RawMessage(`{"type": "object", "properties": {"path": {"type": "string", "description": "Absolute path"}, "lines": {"type": "array", "items": {"type": "integer"}, "maxItems": 2}}, "required": ["path"], "additionalProperties": false}`),
		}},
		ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceRequired},
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	req := f.request(t)
	req.checkEnvelope(t, false)
	req.field(t, "max_tokens", `1000`)
	req.field(t, "tools", `[{
		"name": "read_file", "description": "Read a file.",
		"input_schema": {"type": "object", "properties": {"path": {"type": "string", "description": "Absolute path"}, "lines": {"type": "array", "items": {"type": "integer"}, "maxItems": 2}}, "required": ["path"], "additionalProperties": false}
	}]`)
	req.field(t, "tool_choice", `{"type": "any"}`)

	if got, want := resp.StopReason, llm.StopToolUse; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Text(), "Let me look."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	calls := resp.ToolCalls()
	if got, want := len(calls), 1; got != want {
		t.Fatalf("%d tool calls, want %d", got, want)
	}
	if got, want := calls[0].ID, "toolu_01"; got != want {
		t.Errorf("call ID = %q, want %q", got, want)
	}
	if got, want := calls[0].Name, "read_file"; got != want {
		t.Errorf("call name = %q, want %q", got, want)
	}
	jsonEqual(t, "arguments", calls[0].Arguments, `{"path": "/tmp/a.txt", "lines": [1, 20]}`)
	if got, want := resp.Usage, (llm.Usage{InputTokens: 40, OutputTokens: 22}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
}

func TestCompleteStopReasons(t *testing.T) {
	tests := []struct {
		wire string
		want llm.StopReason
	}{
		{"end_turn", llm.StopEnd},
		{"stop_sequence", llm.StopEnd},
		{"tool_use", llm.StopToolUse},
		{"max_tokens", llm.StopMaxTokens},
		{"refusal", llm.StopOther},
		{"pause_turn", llm.StopOther},
	}
	for _, tt := range tests {
		t.Run(tt.wire, func(t *testing.T) {
			_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				replyJSON(w, http.StatusOK, `{"type": "message", "role": "assistant", "model": "m", "content": [{"type": "text", "text": "x"}], "stop_reason": "`+tt.wire+`", "usage": {"input_tokens": 1, "output_tokens": 1}}`)
			})
			resp, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}})
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if got := resp.StopReason; got != tt.want {
				t.Errorf("stop reason = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestConversation sends a conversation with a tool round trip and checks
// the wire messages: tool results become a user message, merged with the
// user text that follows, results first.
func TestConversation(t *testing.T) {
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, `{"type": "message", "role": "assistant", "model": "m", "content": [{"type": "text", "text": "Done."}], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)
	})
	msgs := []llm.Message{
		llm.UserText("List /tmp and read b."),
		{Role: llm.RoleAssistant, Content: []llm.Part{
			{Type: llm.PartText, Text: "Running both."},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_1", Name: "ls", Arguments: json.RawMessage(`{"dir": "/tmp"}`)}},
			{Type: llm.PartToolCall, ToolCall: &llm.ToolCall{ID: "toolu_2", Name: "now"}},
		}},
		llm.ToolResults(
			llm.ToolResult{CallID: "toolu_1", Name: "ls", Content: "a\nb"},
			llm.ToolResult{CallID: "toolu_2", Name: "now", Content: "clock broken", IsError: true},
		),
		llm.UserText("Also say hi."),
		{Role: llm.RoleAssistant, Content: []llm.Part{{Type: llm.PartText, Text: ""}}}, // nothing to send
		llm.UserText("Thanks."),
	}
	if _, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: msgs}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	f.request(t).field(t, "messages", `[
		{"role": "user", "content": [{"type": "text", "text": "List /tmp and read b."}]},
		{"role": "assistant", "content": [
			{"type": "text", "text": "Running both."},
			{"type": "tool_use", "id": "toolu_1", "name": "ls", "input": {"dir": "/tmp"}},
			{"type": "tool_use", "id": "toolu_2", "name": "now", "input": {}}
		]},
		{"role": "user", "content": [
			{"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "a\nb"}]},
			{"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true, "content": [{"type": "text", "text": "clock broken"}]},
			{"type": "text", "text": "Also say hi."},
			{"type": "text", "text": "Thanks."}
		]}
	]`)
}

func TestToolChoice(t *testing.T) {
	tests := []struct {
		name    string
		choice  llm.ToolChoice
		want    string // the wire tool_choice; "" for none sent
		wantErr string
	}{
		{name: "auto", choice: llm.ToolChoice{}, want: ""},
		{name: "none", choice: llm.ToolChoice{Mode: llm.ToolChoiceNone}, want: `{"type": "none"}`},
		{name: "required", choice: llm.ToolChoice{Mode: llm.ToolChoiceRequired}, want: `{"type": "any"}`},
		{name: "tool", choice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "ls"}, want: `{"type": "tool", "name": "ls"}`},
		{name: "tool without name", choice: llm.ToolChoice{Mode: llm.ToolChoiceTool}, wantErr: "needs a tool name"},
		{name: "unknown", choice: llm.ToolChoice{Mode: "sometimes"}, wantErr: "unknown tool choice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := toParams(&llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}, ToolChoice: tt.choice})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("toParams: %v", err)
			}
			raw, err := json.Marshal(p)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			got, ok := body["tool_choice"]
			if tt.want == "" {
				if ok {
					t.Errorf("tool_choice = %s, want none", got)
				}
				return
			}
			jsonEqual(t, "tool_choice", got, tt.want)
		})
	}
}

func TestToolSchema(t *testing.T) {
	tests := []struct {
		name, params, want string
	}{
		{"passed through", `{"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}, "required": ["n"], "$defs": {"x": {"type": "string"}}}`,
			`{"type": "object", "properties": {"n": {"type": "integer", "enum": [1, 2]}}, "required": ["n"], "$defs": {"x": {"type": "string"}}}`},
		{"type added", `{"properties": {"q": {"type": "string"}}}`, `{"type": "object", "properties": {"q": {"type": "string"}}}`},
		{"empty", ``, `{"type": "object"}`},
		{"null", `null`, `{"type": "object"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tool, err := toTool(llm.Tool{Name: "t", Parameters: json.RawMessage(tt.params)})
			if err != nil {
				t.Fatalf("toTool: %v", err)
			}
			raw, err := json.Marshal(tool)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			var body map[string]json.RawMessage
			if err := json.Unmarshal(raw, &body); err != nil {
				t.Fatalf("unmarshal: %v", err)
			}
			jsonEqual(t, "input_schema", body["input_schema"], tt.want)
		})
	}
	if _, err := toTool(llm.Tool{Name: "bad", Parameters: json.RawMessage(`[1]`)}); err == nil {
		t.Error("toTool accepted a schema that is not an object")
	}
}

// apiError returns err as an *llm.APIError, failing the test if it is not one.
func apiError(t *testing.T, err error) *llm.APIError {
	t.Helper()
	var apiErr *llm.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("err = %v (%T), want an *llm.APIError", err, err)
	}
	return apiErr
}

func TestHTTPErrors(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		header        http.Header
		body          string
		wantMessage   string
		wantAfter     time.Duration
		wantRetryable bool
	}{
		{name: "401", status: 401, body: `{"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}`,
			wantMessage: "invalid x-api-key"},
		{name: "400", status: 400, body: `{"type": "error", "error": {"type": "invalid_request_error", "message": "messages: roles must alternate"}}`,
			wantMessage: "messages: roles must alternate"},
		{name: "429", status: 429, header: http.Header{"Retry-After": {"2"}}, body: `{"type": "error", "error": {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}}`,
			wantMessage: "Number of request tokens has exceeded your per-minute rate limit", wantAfter: 2 * time.Second, wantRetryable: true},
		{name: "500 not JSON", status: 500, body: "upstream connect error or disconnect/reset before headers\n",
			wantMessage: "upstream connect error or disconnect/reset before headers", wantRetryable: true},
		{name: "502 JSON without error.message", status: 502, body: `{"detail": "bad gateway"}`,
			wantMessage: `{"detail": "bad gateway"}`, wantRetryable: true},
		{name: "500 long body", status: 500, body: strings.Repeat("x", 2000),
			wantMessage: strings.Repeat("x", maxBodyInMessage) + "…", wantRetryable: true},
		{name: "529", status: 529, body: `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`,
			wantMessage: "Overloaded", wantRetryable: true},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			name := tt.name
			if stream {
				name += " streaming"
			}
			t.Run(name, func(t *testing.T) {
				_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
					for k, v := range tt.header {
						w.Header()[k] = v
					}
					replyJSON(w, tt.status, tt.body)
				})
				req := &llm.Request{Model: "claude-test", Messages: []llm.Message{llm.UserText("hi")}}
				var deltas recorder
				if stream {
					req.Stream = deltas.add
				}
				resp, err := c.Complete(context.Background(), req)
				if resp != nil {
					t.Errorf("resp = %+v, want nil", resp)
				}
				e := apiError(t, err)
				if got, want := e.Status, tt.status; got != want {
					t.Errorf("status = %d, want %d", got, want)
				}
				if got, want := e.Message, tt.wantMessage; got != want {
					t.Errorf("message = %q, want %q", got, want)
				}
				if got, want := e.RetryAfter, tt.wantAfter; got != want {
					t.Errorf("retry after = %v, want %v", got, want)
				}
				if got, want := llm.IsRetryable(err), tt.wantRetryable; got != want {
					t.Errorf("retryable = %v, want %v", got, want)
				}
				if got, want := e.Provider, "anthropic"; got != want {
					t.Errorf("provider = %q, want %q", got, want)
				}
				if got, want := e.Model, "claude-test"; got != want {
					t.Errorf("model = %q, want %q", got, want)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error %q contains the API key", err)
				}
				if got := deltas.got(); len(got) != 0 {
					t.Errorf("deltas = %+v, want none", got)
				}
			})
		}
	}
}

func TestMalformedResponse(t *testing.T) {
	tests := []struct {
		name, contentType, body string
	}{
		{"truncated JSON", "application/json", `{"id": "msg_1", "type": "message", "content": [{"type": "text", "te`},
		{"HTML", "text/html", `<html><body>Bad gateway</body></html>`},
		{"not a message", "application/json", `{"hello": "world"}`},
		{"content not a list", "application/json", `{"type": "message", "content": "hi"}`},
		{"tool input not JSON", "application/json", `{"type": "message", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": "{\"a\":"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				io.WriteString(w, tt.body)
			})
			_, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}})
			e := apiError(t, err)
			if got, want := e.Status, http.StatusOK; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if !strings.HasPrefix(e.Message, "malformed response: ") {
				t.Errorf("message = %q, want it to start with %q", e.Message, "malformed response: ")
			}
			if e.Temporary || llm.IsRetryable(err) {
				t.Errorf("malformed response is retryable: %+v", e)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {})
		f.srv.Close()
		_, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}})
		e := apiError(t, err)
		if !e.Temporary || e.Status != 0 {
			t.Errorf("got Temporary=%v Status=%d, want true and 0", e.Temporary, e.Status)
		}
		if strings.Contains(err.Error(), testKey) {
			t.Errorf("error %q contains the API key", err)
		}
	})
	t.Run("connection dropped mid-body", func(t *testing.T) {
		_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "500")
			io.WriteString(w, `{"type": "message", "content": [`)
			w.(http.Flusher).Flush()
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		})
		_, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}})
		e := apiError(t, err)
		if !e.Temporary || !llm.IsRetryable(err) {
			t.Errorf("got %+v, want a temporary error", e)
		}
	})
}

func TestContextCanceled(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "streaming"}[stream], func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
				if stream {
					writeSSE(w, sse{"message_start", `{"type": "message_start", "message": {"id": "m", "type": "message", "role": "assistant", "model": "m", "content": [], "usage": {"input_tokens": 1, "output_tokens": 1}}}`})
				}
				cancel()
				<-r.Context().Done()
			})
			req := &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}}
			if stream {
				req.Stream = func(llm.Delta) {}
			}
			_, err := c.Complete(ctx, req)
			apiError(t, err)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want one that is context.Canceled", err)
			}
			if llm.IsRetryable(err) {
				t.Errorf("a cancelled call is retryable: %v", err)
			}
		})
	}
}

// TestEnvironmentIgnored checks that ANTHROPIC_* variables do not override
// the Config.
func TestEnvironmentIgnored(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "env-key")
	t.Setenv("ANTHROPIC_AUTH_TOKEN", "env-token")
	t.Setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:1")
	t.Setenv("ANTHROPIC_CUSTOM_HEADERS", "X-Injected: yes")
	t.Setenv("ANTHROPIC_PROFILE", "nonexistent")
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, `{"type": "message", "role": "assistant", "model": "m", "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)
	})
	if _, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	req := f.request(t)
	req.checkEnvelope(t, false)
	if got := req.header.Get("X-Injected"); got != "" {
		t.Errorf("X-Injected = %q, want none", got)
	}
}

func TestInvalidRequest(t *testing.T) {
	_, c := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		t.Error("an invalid request reached the server")
	})
	_, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{{Role: "narrator", Content: []llm.Part{{Type: llm.PartText, Text: "x"}}}}})
	e := apiError(t, err)
	if !strings.Contains(e.Message, "unknown role") || llm.IsRetryable(err) {
		t.Errorf("got %+v, want a non-retryable error about the role", e)
	}
}

func TestToolInput(t *testing.T) {
	// A broken tool call kept in the history is sent with {} as input, which
	// the API accepts, rather than failing every later request.
	got := []json.RawMessage{toolInput(nil), toolInput(json.RawMessage(`{"a":`)), toolInput(json.RawMessage(`[1]`)), toolInput(json.RawMessage(` {"a": 1} `))}
	want := []json.RawMessage{json.RawMessage(`{}`), json.RawMessage(`{}`), json.RawMessage(`{}`), json.RawMessage(`{"a": 1}`)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("toolInput = %s, want %s", got, want)
	}
}

func TestBaseURLWithPath(t *testing.T) {
	f, _ := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		replyJSON(w, http.StatusOK, `{"type": "message", "role": "assistant", "model": "m", "content": [], "stop_reason": "end_turn", "usage": {"input_tokens": 1, "output_tokens": 1}}`)
	})
	c := New(Config{BaseURL: f.srv.URL + "/proxy/anthropic", APIKey: testKey})
	if _, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got, want := f.request(t).path, "/proxy/anthropic/v1/messages"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
}
