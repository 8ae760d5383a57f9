package fakeserver

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/mlrc/mlrc/llm/scripted"
)

func openAIMessage(model string, r *scripted.Response) map[string]any {
	msg := map[string]any{"role": "assistant", "content": r.Text}
	finish := "stop"
	if len(r.ToolCalls) > 0 {
		var calls []map[string]any
		for i, c := range r.ToolCalls {
			calls = append(calls, map[string]any{"id": callID(i, c), "type": "function",
				"function": map[string]any{"name": c.Name, "arguments": args(c)}})
		}
		msg["tool_calls"] = calls
		finish = "tool_calls"
	}
	in, out := usage(r)
	return map[string]any{
		"id": "chatcmpl-fake", "object": "chat.completion", "created": 1700000000, "model": model,
		"choices": []map[string]any{{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out},
	}
}

// openAIStream sends the response as server-sent events: text in pieces,
// each tool call's arguments split in two, usage in a last chunk.
func openAIStream(w http.ResponseWriter, model string, r *scripted.Response) {
	w.Header().Set("Content-Type", "text/event-stream")
	chunk := func(delta map[string]any, finish any) {
		send(w, "", map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
			"choices": []map[string]any{{"index": 0, "delta": delta, "finish_reason": finish}}})
	}
	chunk(map[string]any{"role": "assistant", "content": ""}, nil)
	for _, piece := range split(r.Text, 3) {
		chunk(map[string]any{"content": piece}, nil)
	}
	for i, c := range r.ToolCalls {
		a := args(c)
		half := len(a) / 2
		chunk(map[string]any{"tool_calls": []map[string]any{{"index": i, "id": callID(i, c), "type": "function",
			"function": map[string]any{"name": c.Name, "arguments": a[:half]}}}}, nil)
		chunk(map[string]any{"tool_calls": []map[string]any{{"index": i, "function": map[string]any{"arguments": a[half:]}}}}, nil)
	}
	finish := "stop"
	if len(r.ToolCalls) > 0 {
		finish = "tool_calls"
	}
	chunk(map[string]any{}, finish)
	in, out := usage(r)
	send(w, "", map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1700000000, "model": model,
		"choices": []any{}, "usage": map[string]any{"prompt_tokens": in, "completion_tokens": out, "total_tokens": in + out}})
	fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}

func send(w http.ResponseWriter, event string, v any) {
	b, _ := json.Marshal(v)
	if event != "" {
		fmt.Fprintf(w, "event: %s\n", event)
	}
	fmt.Fprintf(w, "data: %s\n\n", b)
	flush(w)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// split cuts s into about n pieces.
func split(s string, n int) []string {
	if s == "" {
		return nil
	}
	size := max(1, (len(s)+n-1)/n)
	var out []string
	for len(s) > size {
		out = append(out, s[:size])
		s = s[size:]
	}
	return append(out, s)
}
