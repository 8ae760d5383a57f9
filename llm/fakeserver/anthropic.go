package fakeserver

import (
	"encoding/json"
	"net/http"

	"github.com/mlrc/mlrc/llm/scripted"
)

func anthropicContent(r *scripted.Response) ([]map[string]any, string) {
	var content []map[string]any
	if r.Text != "" {
		content = append(content, map[string]any{"type": "text", "text": r.Text})
	}
	stop := "end_turn"
	for i, c := range r.ToolCalls {
		content = append(content, map[string]any{"type": "tool_use", "id": callID(i, c), "name": c.Name, "input": json.RawMessage(args(c))})
		stop = "tool_use"
	}
	if content == nil {
		content = []map[string]any{}
	}
	return content, stop
}

func anthropicMessage(model string, r *scripted.Response) map[string]any {
	content, stop := anthropicContent(r)
	in, out := usage(r)
	return map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": content,
		"stop_reason": stop, "stop_sequence": nil, "usage": map[string]any{"input_tokens": in, "output_tokens": out},
	}
}

// anthropicStream sends the response as the Messages API's events.
func anthropicStream(w http.ResponseWriter, model string, r *scripted.Response) {
	w.Header().Set("Content-Type", "text/event-stream")
	in, out := usage(r)
	send(w, "message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": in, "output_tokens": 1}}})
	idx := 0
	if r.Text != "" {
		send(w, "content_block_start", map[string]any{"type": "content_block_start", "index": idx, "content_block": map[string]any{"type": "text", "text": ""}})
		send(w, "ping", map[string]any{"type": "ping"})
		for _, piece := range split(r.Text, 3) {
			send(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "text_delta", "text": piece}})
		}
		send(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	_, stop := anthropicContent(r)
	for i, c := range r.ToolCalls {
		send(w, "content_block_start", map[string]any{"type": "content_block_start", "index": idx,
			"content_block": map[string]any{"type": "tool_use", "id": callID(i, c), "name": c.Name, "input": map[string]any{}}})
		a := args(c)
		half := len(a) / 2
		for _, piece := range []string{a[:half], a[half:]} {
			send(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": idx, "delta": map[string]any{"type": "input_json_delta", "partial_json": piece}})
		}
		send(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": idx})
		idx++
	}
	send(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stop, "stop_sequence": nil}, "usage": map[string]any{"output_tokens": out}})
	send(w, "message_stop", map[string]any{"type": "message_stop"})
}
