package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm"
)

const testKey = "sk-test-0123456789abcdef"

// captured is what the fake server saw of the last request.
type captured struct {
	mu     sync.Mutex
	header http.Header
	raw    []byte
}

func (c *captured) request(t *testing.T) (http.Header, wireRequest) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	var req wireRequest
	if err := json.Unmarshal(c.raw, &req); err != nil {
		t.Fatalf("request body %q: %v", c.raw, err)
	}
	return c.header, req
}

// wireRequest is the part of a Chat Completions request the tests look at.
type wireRequest struct {
	Model    string `json:"model"`
	Messages []struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
		ToolCalls  []struct {
			ID       string `json:"id"`
			Type     string `json:"type"`
			Function struct {
				Name      string `json:"name"`
				Arguments string `json:"arguments"`
			} `json:"function"`
		} `json:"tool_calls"`
	} `json:"messages"`
	Tools []struct {
		Type     string `json:"type"`
		Function struct {
			Name        string          `json:"name"`
			Description string          `json:"description"`
			Parameters  json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice          json.RawMessage `json:"tool_choice"`
	MaxTokens           *int64          `json:"max_tokens"`
	MaxCompletionTokens *int64          `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

// newTestClient starts a fake server running h for POST /v1/chat/completions
// and returns a client for it. Every request must carry the test key.
func newTestClient(t *testing.T, h http.HandlerFunc) (*Client, *captured) {
	t.Helper()
	got := &captured{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request: %v", err)
		}
		got.mu.Lock()
		got.header, got.raw = r.Header.Clone(), raw
		got.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
			t.Errorf("request %s %s, want POST /v1/chat/completions", r.Method, r.URL.Path)
		}
		if got, want := r.Header.Get("Authorization"), "Bearer "+testKey; got != want {
			t.Errorf("Authorization = %q, want %q", got, want)
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	c := New(Config{Provider: "test", BaseURL: srv.URL + "/v1", APIKey: testKey, HTTPClient: srv.Client()})
	return c, got
}

// respondJSON answers with status and body.
func respondJSON(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func completion(message, finish, usage string) string {
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion","created":1700000000,"model":"gpt-test-2024",
		"choices":[{"index":0,"message":%s,"logprobs":null,"finish_reason":%q}],"usage":%s}`, message, finish, usage)
}

func TestCompleteText(t *testing.T) {
	body := completion(`{"role":"assistant","content":"Hello there."}`, "stop",
		`{"prompt_tokens":100,"completion_tokens":5,"total_tokens":105,"prompt_tokens_details":{"cached_tokens":30}}`)
	c, got := newTestClient(t, respondJSON(200, body))
	temp := 0.2
	resp, err := c.Complete(context.Background(), &llm.Request{
		Model:       "gpt-test",
		System:      "Be brief.",
		Messages:    []llm.Message{llm.UserText("Hi")},
		MaxTokens:   64,
		Temperature: &temp,
	})
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got, want := resp.Text(), "Hello there."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := resp.Model, "gpt-test-2024"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	if got, want := resp.StopReason, llm.StopEnd; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Usage, (llm.Usage{InputTokens: 70, OutputTokens: 5, CacheReadTokens: 30}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
	if got, want := resp.Message.Role, llm.RoleAssistant; got != want {
		t.Errorf("role = %q, want %q", got, want)
	}

	_, req := got.request(t)
	if got, want := req.Model, "gpt-test"; got != want {
		t.Errorf("sent model = %q, want %q", got, want)
	}
	if got, want := len(req.Messages), 2; got != want {
		t.Fatalf("sent %d messages, want %d", got, want)
	}
	for i, want := range []struct{ role, content string }{{"system", `"Be brief."`}, {"user", `"Hi"`}} {
		if m := req.Messages[i]; m.Role != want.role || string(m.Content) != want.content {
			t.Errorf("message %d = %s %s, want %s %s", i, m.Role, m.Content, want.role, want.content)
		}
	}
	if req.MaxTokens == nil || *req.MaxTokens != 64 {
		t.Errorf("max_tokens = %v, want 64", req.MaxTokens)
	}
	if req.MaxCompletionTokens != nil {
		t.Errorf("max_completion_tokens = %v, want absent", *req.MaxCompletionTokens)
	}
	if req.Temperature == nil || *req.Temperature != 0.2 {
		t.Errorf("temperature = %v, want 0.2", req.Temperature)
	}
	if req.Stream || req.StreamOptions != nil || req.Tools != nil || req.ToolChoice != nil {
		t.Errorf("sent stream=%v stream_options=%v tools=%v tool_choice=%s, want none", req.Stream, req.StreamOptions, req.Tools, req.ToolChoice)
	}
}

func TestCompleteToolCalls(t *testing.T) {
	tests := []struct {
		name    string
		message string
		finish  string
		want    []llm.ToolCall // an empty ID means "generated"
		stop    llm.StopReason
	}{
		{
			name: "one call",
			message: `{"role":"assistant","content":null,"tool_calls":[
				{"id":"call_abc","type":"function","function":{"name":"read_file","arguments":"{\"path\": \"train.py\"}"}}]}`,
			finish: "tool_calls",
			want:   []llm.ToolCall{{ID: "call_abc", Name: "read_file", Arguments: json.RawMessage(`{"path": "train.py"}`)}},
			stop:   llm.StopToolUse,
		},
		{
			name: "empty arguments",
			message: `{"role":"assistant","content":"","tool_calls":[
				{"id":"call_1","type":"function","function":{"name":"list_files","arguments":""}}]}`,
			finish: "tool_calls",
			want:   []llm.ToolCall{{ID: "call_1", Name: "list_files", Arguments: json.RawMessage(`{}`)}},
			stop:   llm.StopToolUse,
		},
		{
			// Ollama sends no ids, and says "stop".
			name: "no ids",
			message: `{"role":"assistant","content":"","tool_calls":[
				{"function":{"name":"read_file","arguments":"{\"path\":\"a.py\"}"}},
				{"function":{"name":"read_file","arguments":"{\"path\":\"b.py\"}"}}]}`,
			finish: "stop",
			want: []llm.ToolCall{
				{Name: "read_file", Arguments: json.RawMessage(`{"path":"a.py"}`)},
				{Name: "read_file", Arguments: json.RawMessage(`{"path":"b.py"}`)},
			},
			stop: llm.StopToolUse,
		},
		{
			name: "repeated id",
			message: `{"role":"assistant","tool_calls":[
				{"id":"call_0","type":"function","function":{"name":"a","arguments":"{}"}},
				{"id":"call_0","type":"function","function":{"name":"b","arguments":"{}"}}]}`,
			finish: "tool_calls",
			want: []llm.ToolCall{
				{ID: "call_0", Name: "a", Arguments: json.RawMessage(`{}`)},
				{Name: "b", Arguments: json.RawMessage(`{}`)},
			},
			stop: llm.StopToolUse,
		},
		{
			name: "cut by max_tokens",
			message: `{"role":"assistant","tool_calls":[
				{"id":"call_9","type":"function","function":{"name":"write_file","arguments":"{\"path\": \"x"}}]}`,
			finish: "length",
			want:   []llm.ToolCall{{ID: "call_9", Name: "write_file", Arguments: json.RawMessage(`"{\"path\": \"x"`)}},
			stop:   llm.StopMaxTokens,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, respondJSON(200, completion(tt.message, tt.finish, `{"prompt_tokens":10,"completion_tokens":3}`)))
			resp, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("go")}})
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if got, want := resp.StopReason, tt.stop; got != want {
				t.Errorf("stop reason = %q, want %q", got, want)
			}
			checkCalls(t, resp.ToolCalls(), tt.want)
		})
	}
}

// checkCalls compares calls with want, where an empty wanted ID stands for
// a generated one.
func checkCalls(t *testing.T, got, want []llm.ToolCall) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d tool calls %+v, want %d", len(got), got, len(want))
	}
	ids := map[string]bool{}
	for i := range want {
		g, w := got[i], want[i]
		if w.ID != "" && g.ID != w.ID {
			t.Errorf("call %d: ID = %q, want %q", i, g.ID, w.ID)
		}
		if w.ID == "" && (!strings.HasPrefix(g.ID, "call_") || len(g.ID) < 15) {
			t.Errorf("call %d: ID = %q, want a generated call_… ID", i, g.ID)
		}
		if ids[g.ID] {
			t.Errorf("call %d: ID %q repeats an earlier call's", i, g.ID)
		}
		ids[g.ID] = true
		if g.Name != w.Name || string(g.Arguments) != string(w.Arguments) {
			t.Errorf("call %d = %s(%s), want %s(%s)", i, g.Name, g.Arguments, w.Name, w.Arguments)
		}
	}
}

func TestCompleteErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantCode  int // the APIError's Status when it differs from status
		header    map[string]string
		body      string
		wantMsg   string
		retryable bool
		retry     time.Duration
	}{
		{
			name:    "401",
			status:  401,
			body:    `{"error":{"message":"Incorrect API key provided: sk-test-0123456789abcdef.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			wantMsg: "Incorrect API key provided: [redacted].",
		},
		{
			name:      "429 with Retry-After",
			status:    429,
			header:    map[string]string{"Retry-After": "2"},
			body:      `{"error":{"message":"Rate limit reached for requests","type":"requests","code":"rate_limit_exceeded"}}`,
			wantMsg:   "Rate limit reached for requests",
			retryable: true,
			retry:     2 * time.Second,
		},
		{
			name:      "500 plain text",
			status:    500,
			body:      "upstream exploded\n",
			wantMsg:   "upstream exploded",
			retryable: true,
		},
		{
			name:    "404 Ollama",
			status:  404,
			body:    `{"error":"model \"llama9\" not found, try pulling it first"}`,
			wantMsg: `model "llama9" not found, try pulling it first`,
		},
		{
			name:    "400 vLLM",
			status:  400,
			body:    `{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}`,
			wantMsg: "max_tokens is too large",
		},
		{
			name:      "503 long HTML",
			status:    503,
			body:      "<html>" + strings.Repeat("x", 2000) + "</html>",
			wantMsg:   "<html>" + strings.Repeat("x", maxMessage-len("<html>")) + "…",
			retryable: true,
		},
		{
			name:    "malformed 200",
			status:  200,
			body:    `{"choices": [`,
			wantMsg: "malformed response: unexpected end of JSON input",
		},
		{
			// OpenRouter reports upstream failures in a 200 body.
			name:      "200 with error",
			status:    200,
			body:      `{"error":{"message":"Provider returned error","code":502}}`,
			wantCode:  502,
			wantMsg:   "Provider returned error",
			retryable: true,
		},
		{
			name:    "200 without choices",
			status:  200,
			body:    `{"id":"x","object":"chat.completion","choices":[]}`,
			wantMsg: "malformed response: no choices",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				respondJSON(tt.status, tt.body)(w, r)
			})
			_, err := c.Complete(context.Background(), &llm.Request{Model: "gpt-test", Messages: []llm.Message{llm.UserText("hi")}})
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *llm.APIError", err, err)
			}
			wantCode := tt.status
			if tt.wantCode != 0 {
				wantCode = tt.wantCode
			}
			if got, want := apiErr.Status, wantCode; got != want {
				t.Errorf("Status = %d, want %d", got, want)
			}
			if got, want := apiErr.Message, tt.wantMsg; got != want {
				t.Errorf("Message = %q, want %q", got, want)
			}
			if got, want := apiErr.Retryable(), tt.retryable; got != want {
				t.Errorf("Retryable() = %v, want %v", got, want)
			}
			if got, want := apiErr.RetryAfter, tt.retry; got != want {
				t.Errorf("RetryAfter = %v, want %v", got, want)
			}
			if apiErr.Provider != "test" || apiErr.Model != "gpt-test" {
				t.Errorf("Provider, Model = %q, %q, want test, gpt-test", apiErr.Provider, apiErr.Model)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error %q contains the API key", err)
			}
		})
	}
}

func TestTransportErrors(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := refused.URL
	refused.Close()

	tests := []struct {
		name      string
		client    func(t *testing.T) *Client
		ctx       func() (context.Context, context.CancelFunc)
		is        error
		temporary bool
	}{
		{
			name: "connection refused",
			client: func(t *testing.T) *Client {
				return New(Config{Provider: "test", BaseURL: refusedURL + "/v1", APIKey: testKey})
			},
			temporary: true,
		},
		{
			name:   "canceled",
			client: func(t *testing.T) *Client { c, _ := newTestClient(t, slow); return c },
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(50*time.Millisecond, cancel)
				return ctx, cancel
			},
			is: context.Canceled,
		},
		{
			name:   "deadline",
			client: func(t *testing.T) *Client { c, _ := newTestClient(t, slow); return c },
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 50*time.Millisecond)
			},
			is:        context.DeadlineExceeded,
			temporary: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			_, err := tt.client(t).Complete(ctx, &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}})
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), want *llm.APIError", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if got, want := apiErr.Temporary, tt.temporary; got != want {
				t.Errorf("Temporary = %v, want %v (error %v)", got, want, err)
			}
			if apiErr.Status != 0 {
				t.Errorf("Status = %d, want 0", apiErr.Status)
			}
		})
	}
}

// TestConfig checks headers: extra ones are sent, the SDK's environment
// variables are ignored, and a missing key becomes a placeholder.
func TestConfig(t *testing.T) {
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_ORG_ID", "org-from-env")
	var mu sync.Mutex
	var header http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		header = r.Header.Clone()
		mu.Unlock()
		respondJSON(200, completion(`{"role":"assistant","content":"ok"}`, "stop", `{"prompt_tokens":1,"completion_tokens":1}`))(w, r)
	}))
	defer srv.Close()
	c := New(Config{
		Provider: "openrouter",
		BaseURL:  srv.URL + "/v1",
		Headers:  map[string]string{"HTTP-Referer": "https://mlrc.example", "X-Title": "mlrc"},
	})
	if _, err := c.Complete(context.Background(), &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("hi")}}); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, want := range map[string]string{
		"HTTP-Referer":        "https://mlrc.example",
		"X-Title":             "mlrc",
		"Authorization":       "Bearer " + placeholderKey,
		"OpenAI-Organization": "",
	} {
		if got := header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}
