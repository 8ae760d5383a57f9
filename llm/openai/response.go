package openai

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strings"

	"github.com/mlrc/mlrc/llm"
	"github.com/openai/openai-go/v3"
)

// readCompletion reads and converts a non-streamed answer.
func (c *Client) readCompletion(ctx context.Context, req *llm.Request, body io.Reader) (*llm.Response, error) {
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, c.transportError(ctx, req, "reading response", err)
	}
	if hasError(data) {
		return nil, c.streamError(req, data)
	}
	var cc openai.ChatCompletion
	if err := json.Unmarshal(data, &cc); err != nil {
		return nil, c.malformed(req, err)
	}
	if len(cc.Choices) == 0 {
		return nil, c.malformed(req, errors.New("no choices"))
	}
	return fromCompletion(&cc), nil
}

// fromCompletion converts the first choice of cc.
func fromCompletion(cc *openai.ChatCompletion) *llm.Response {
	choice := cc.Choices[0]
	msg := choice.Message
	text := msg.Content
	if text == "" {
		text = msg.Refusal
	}
	var calls []llm.ToolCall
	for _, tc := range msg.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			continue // custom tools are never offered
		}
		calls = append(calls, llm.ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: neutralArgs(tc.Function.Arguments)})
	}
	return newResponse(cc.Model, text, calls, choice.FinishReason, cc.Usage)
}

// newResponse assembles a neutral response; streamed and whole answers end
// here alike.
func newResponse(model, text string, calls []llm.ToolCall, finish string, usage openai.CompletionUsage) *llm.Response {
	ensureIDs(calls)
	msg := llm.Message{Role: llm.RoleAssistant}
	if text != "" {
		msg.Content = append(msg.Content, llm.Part{Type: llm.PartText, Text: text})
	}
	for i := range calls {
		msg.Content = append(msg.Content, llm.Part{Type: llm.PartToolCall, ToolCall: &calls[i]})
	}
	return &llm.Response{
		Model:      model,
		Message:    msg,
		StopReason: stopReason(finish, len(calls) > 0),
		Usage:      toUsage(usage),
	}
}

// stopReason maps a finish_reason. Some servers (older Ollama) say "stop"
// when the model called tools; the calls are what matters.
func stopReason(finish string, calls bool) llm.StopReason {
	switch finish {
	case "tool_calls", "function_call":
		return llm.StopToolUse
	case "length":
		return llm.StopMaxTokens
	case "stop":
		if calls {
			return llm.StopToolUse
		}
		return llm.StopEnd
	}
	return llm.StopOther
}

// toUsage maps token counts. prompt_tokens includes the tokens read from and
// written to the prompt cache; they are counted apart so that none is
// counted twice.
func toUsage(u openai.CompletionUsage) llm.Usage {
	in := u.PromptTokens
	read := min(max(u.PromptTokensDetails.CachedTokens, 0), in)
	in -= read
	written := min(max(u.PromptTokensDetails.CacheWriteTokens, 0), in)
	in -= written
	return llm.Usage{
		InputTokens:      in,
		OutputTokens:     u.CompletionTokens,
		CacheReadTokens:  read,
		CacheWriteTokens: written,
	}
}

// neutralArgs turns a wire argument string into JSON. Empty means no
// arguments; a string that is not JSON (a call cut off by max_tokens) is kept
// as a JSON string, so the message stays valid JSON and the tool reports the
// problem to the model.
func neutralArgs(s string) json.RawMessage {
	if strings.TrimSpace(s) == "" {
		return json.RawMessage("{}")
	}
	if json.Valid([]byte(s)) {
		return json.RawMessage(s)
	}
	quoted, _ := json.Marshal(s)
	return quoted
}

// ensureIDs gives every call an ID unique within calls: some servers
// (Ollama) send none, and a repeated ID would make results ambiguous.
func ensureIDs(calls []llm.ToolCall) {
	seen := make(map[string]bool, len(calls))
	for i := range calls {
		for calls[i].ID == "" || seen[calls[i].ID] {
			calls[i].ID = newCallID()
		}
		seen[calls[i].ID] = true
	}
}

func newCallID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b) // never fails; see crypto/rand.Read
	return "call_" + hex.EncodeToString(b)
}

// replay reports a whole answer as stream fragments.
func replay(resp *llm.Response, emit func(llm.Delta)) {
	if text := resp.Text(); text != "" {
		emit(llm.Delta{Text: text})
	}
	for i, call := range resp.ToolCalls() {
		emit(llm.Delta{ToolIndex: i, ToolID: call.ID, ToolName: call.Name})
		emit(llm.Delta{ToolIndex: i, ToolArgs: string(call.Arguments)})
	}
}
