package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

// chunk returns one streamed chunk with delta and finish (JSON null if "").
func chunk(delta, finish string) string {
	f := "null"
	if finish != "" {
		f = fmt.Sprintf("%q", finish)
	}
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-test-2024",`+
		`"choices":[{"index":0,"delta":%s,"logprobs":null,"finish_reason":%s}],"usage":null}`, delta, f)
}

// usageChunk is the last chunk sent with include_usage.
func usageChunk(prompt, completion int) string {
	return fmt.Sprintf(`{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-test-2024",`+
		`"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`, prompt, completion, prompt+completion)
}

// respondSSE streams events as server-sent events, flushing after each.
func respondSSE(events ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			fmt.Fprintf(w, "data: %s\n\n", e)
			w.(http.Flusher).Flush()
		}
	}
}

// deltaLog records streamed fragments.
type deltaLog struct {
	text  strings.Builder
	tools map[int]*llm.ToolCall // by ToolIndex, from the fragments alone
	order []int                 // ToolIndex of each start fragment
}

func (d *deltaLog) record(delta llm.Delta) {
	d.text.WriteString(delta.Text)
	if delta.ToolName != "" || delta.ToolID != "" {
		d.tools[delta.ToolIndex] = &llm.ToolCall{ID: delta.ToolID, Name: delta.ToolName}
		d.order = append(d.order, delta.ToolIndex)
	}
	if delta.ToolArgs != "" {
		call := d.tools[delta.ToolIndex]
		call.Arguments = append(call.Arguments, delta.ToolArgs...)
	}
}

func streamRequest(log *deltaLog) *llm.Request {
	log.tools = map[int]*llm.ToolCall{}
	return &llm.Request{Model: "gpt-test", Messages: []llm.Message{llm.UserText("hi")}, Stream: log.record}
}

func TestStreamText(t *testing.T) {
	c, got := newTestClient(t, respondSSE(
		chunk(`{"role":"assistant","content":""}`, ""),
		chunk(`{"content":"Hel"}`, ""),
		chunk(`{"content":"lo, wor"}`, ""),
		chunk(`{"content":"ld"}`, ""),
		chunk(`{}`, "stop"),
		usageChunk(42, 7),
		"[DONE]",
	))
	var log deltaLog
	resp, err := c.Complete(context.Background(), streamRequest(&log))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got, want := resp.Text(), "Hello, world"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := log.text.String(), "Hello, world"; got != want {
		t.Errorf("streamed text = %q, want %q", got, want)
	}
	if got, want := resp.Usage, (llm.Usage{InputTokens: 42, OutputTokens: 7}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
	if got, want := resp.StopReason, llm.StopEnd; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Model, "gpt-test-2024"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	_, req := got.request(t)
	if !req.Stream || req.StreamOptions == nil || !req.StreamOptions.IncludeUsage {
		t.Errorf("sent stream=%v stream_options=%+v, want stream and include_usage", req.Stream, req.StreamOptions)
	}
}

func TestStreamToolCalls(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		want   []llm.ToolCall // an empty ID means "generated"
	}{
		{
			name: "arguments split mid-token",
			events: []string{
				chunk(`{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"read_file","arguments":""}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"pa"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"th\": \"tr"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"ain.py\"}"}}]}`, ""),
				chunk(`{}`, "tool_calls"),
				usageChunk(10, 20),
				"[DONE]",
			},
			want: []llm.ToolCall{{ID: "call_1", Name: "read_file", Arguments: json.RawMessage(`{"path": "train.py"}`)}},
		},
		{
			name: "two calls interleaved by index",
			events: []string{
				chunk(`{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"read_file","arguments":""}}]}`, ""),
				chunk(`{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"run","arguments":"{\"cmd\":"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":1,"function":{"arguments":" \"ls\"}"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"\"a.py\"}"}}]}`, ""),
				chunk(`{}`, "tool_calls"),
				"[DONE]",
			},
			want: []llm.ToolCall{
				{ID: "call_a", Name: "read_file", Arguments: json.RawMessage(`{"path":"a.py"}`)},
				{ID: "call_b", Name: "run", Arguments: json.RawMessage(`{"cmd": "ls"}`)},
			},
		},
		{
			name: "no index, id repeated in every fragment",
			events: []string{
				chunk(`{"tool_calls":[{"id":"call_x","type":"function","function":{"name":"grep","arguments":"{\"q\""}}]}`, ""),
				chunk(`{"tool_calls":[{"id":"call_x","type":"function","function":{"arguments":": \"lr\"}"}}]}`, ""),
				chunk(`{}`, "tool_calls"),
				"[DONE]",
			},
			want: []llm.ToolCall{{ID: "call_x", Name: "grep", Arguments: json.RawMessage(`{"q": "lr"}`)}},
		},
		{
			// Ollama: whole calls, no index, no id, finish_reason "stop".
			name: "whole calls without index or id",
			events: []string{
				chunk(`{"role":"assistant","content":"","tool_calls":[{"function":{"name":"read_file","arguments":"{\"path\":\"a.py\"}"}}]}`, ""),
				chunk(`{"role":"assistant","content":"","tool_calls":[{"function":{"name":"read_file","arguments":"{\"path\":\"b.py\"}"}}]}`, ""),
				chunk(`{"role":"assistant","content":""}`, "stop"),
				"[DONE]",
			},
			want: []llm.ToolCall{
				{Name: "read_file", Arguments: json.RawMessage(`{"path":"a.py"}`)},
				{Name: "read_file", Arguments: json.RawMessage(`{"path":"b.py"}`)},
			},
		},
		{
			name: "same index, new id",
			events: []string{
				chunk(`{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"a","arguments":"{}"}}]}`, ""),
				chunk(`{"tool_calls":[{"index":0,"id":"call_2","function":{"name":"b","arguments":"{}"}}]}`, ""),
				chunk(`{}`, "tool_calls"),
			},
			want: []llm.ToolCall{
				{ID: "call_1", Name: "a", Arguments: json.RawMessage(`{}`)},
				{ID: "call_2", Name: "b", Arguments: json.RawMessage(`{}`)},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, respondSSE(tt.events...))
			var log deltaLog
			resp, err := c.Complete(context.Background(), streamRequest(&log))
			if err != nil {
				t.Fatalf("Complete: %v", err)
			}
			if got, want := resp.StopReason, llm.StopToolUse; got != want {
				t.Errorf("stop reason = %q, want %q", got, want)
			}
			calls := resp.ToolCalls()
			checkCalls(t, calls, tt.want)

			// The fragments alone must add up to the same calls.
			if got, want := len(log.order), len(tt.want); got != want {
				t.Fatalf("%d tool-call starts streamed, want %d", got, want)
			}
			for i, idx := range log.order {
				streamed := log.tools[idx]
				if idx != i {
					t.Errorf("start %d has ToolIndex %d, want %d", i, idx, i)
				}
				if streamed.Name != calls[i].Name || string(streamed.Arguments) != string(calls[i].Arguments) {
					t.Errorf("streamed call %d = %s(%s), want %s(%s)", i, streamed.Name, streamed.Arguments, calls[i].Name, calls[i].Arguments)
				}
				if streamed.ID != "" && streamed.ID != calls[i].ID {
					t.Errorf("streamed call %d ID = %q, want %q", i, streamed.ID, calls[i].ID)
				}
			}
		})
	}
}

func TestStreamEnd(t *testing.T) {
	hijack := func(events ...string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			respondSSE(events...)(w, r)
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("hijack: %v", err)
				return
			}
			conn.Close()
		}
	}
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantText  string // on success
		wantErr   string // substring of the APIError's message
		temporary bool
		status    int
	}{
		{
			name:      "returns without finish_reason or [DONE]",
			handler:   respondSSE(chunk(`{"content":"Hel"}`, ""), chunk(`{"content":"lo"}`, "")),
			wantErr:   "stream was cut",
			temporary: true,
		},
		{
			name:      "connection closed mid-stream",
			handler:   hijack(chunk(`{"content":"Hel"}`, ""), chunk(`{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a"}}]}`, "")),
			wantErr:   "stream was cut",
			temporary: true,
		},
		{
			name: "cut mid-event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "data: "+chunk(`{"content":"Hel"}`, "")+"\n\ndata: {\"id\":\"chatc")
			},
			wantErr:   "stream was cut",
			temporary: true,
		},
		{
			name:     "finish_reason without [DONE]",
			handler:  respondSSE(chunk(`{"content":"Hello"}`, ""), chunk(`{}`, "stop")),
			wantText: "Hello",
		},
		{
			name:     "[DONE] without finish_reason",
			handler:  respondSSE(chunk(`{"content":"Hello"}`, ""), "[DONE]"),
			wantText: "Hello",
		},
		{
			name:     "closed after finish_reason, before usage",
			handler:  hijack(chunk(`{"content":"Hello"}`, ""), chunk(`{}`, "stop")),
			wantText: "Hello",
		},
		{
			name:    "error event",
			handler: respondSSE(chunk(`{"content":"Hel"}`, ""), `{"error":{"message":"upstream overloaded","code":502}}`),
			wantErr: "upstream overloaded",
			status:  502,
		},
		{
			name: "typed error event",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				io.WriteString(w, "event: error\ndata: {\"message\":\"model crashed\"}\n\n")
			},
			wantErr:   "model crashed",
			temporary: true,
		},
		{
			name:    "malformed chunk",
			handler: respondSSE(chunk(`{"content":"Hel"}`, ""), `{"choices": [`),
			wantErr: "malformed response",
			status:  200,
		},
		{
			name:     "server ignores stream",
			handler:  respondJSON(200, completion(`{"role":"assistant","content":"Hello"}`, "stop", `{"prompt_tokens":1,"completion_tokens":1}`)),
			wantText: "Hello",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newTestClient(t, tt.handler)
			var log deltaLog
			resp, err := c.Complete(context.Background(), streamRequest(&log))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Complete: %v", err)
				}
				if got, want := resp.Text(), tt.wantText; got != want {
					t.Errorf("text = %q, want %q", got, want)
				}
				if got, want := log.text.String(), tt.wantText; got != want {
					t.Errorf("streamed text = %q, want %q", got, want)
				}
				return
			}
			var apiErr *llm.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v (%T), response %+v, want *llm.APIError", err, err, resp)
			}
			if !strings.Contains(apiErr.Message, tt.wantErr) {
				t.Errorf("Message = %q, want it to contain %q", apiErr.Message, tt.wantErr)
			}
			if got, want := apiErr.Temporary, tt.temporary; got != want {
				t.Errorf("Temporary = %v, want %v", got, want)
			}
			if got, want := apiErr.Status, tt.status; got != want {
				t.Errorf("Status = %d, want %d", got, want)
			}
		})
	}
}
