// Package llm holds mlrc's provider-neutral model of a conversation with a
// language model: messages made of text, tool calls and tool results; tool
// definitions with JSON Schema; usage and cost. It also holds the pieces every
// provider shares: retries, pricing, budgets, recording and structured output.
//
// Vendor adapters live in sibling packages (llm/openai, llm/anthropic, …) and
// convert between these types and their wire formats; nothing vendor-specific
// belongs here.
package llm

import (
	"context"
	"encoding/json"
	"strings"
)

// Provider is what every adapter implements: one completion per call. When
// req.Stream is set the adapter streams and reports fragments through it, and
// still returns the assembled response.
type Provider interface {
	Complete(ctx context.Context, req *Request) (*Response, error)
}

// ProviderFunc adapts a function to a Provider.
type ProviderFunc func(ctx context.Context, req *Request) (*Response, error)

// Complete calls f.
func (f ProviderFunc) Complete(ctx context.Context, req *Request) (*Response, error) {
	return f(ctx, req)
}

// Role says who speaks a message.
type Role string

// Roles. Tool results travel in messages of RoleTool.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// PartType says which field of a Part is set.
type PartType string

// Part types.
const (
	PartText       PartType = "text"
	PartToolCall   PartType = "tool_call"
	PartToolResult PartType = "tool_result"
)

// Part is one piece of a message's content.
type Part struct {
	Type       PartType    `json:"type"`
	Text       string      `json:"text,omitempty"`
	ToolCall   *ToolCall   `json:"tool_call,omitempty"`
	ToolResult *ToolResult `json:"tool_result,omitempty"`
}

// ToolCall is the model asking for a tool to be run.
type ToolCall struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments"`
}

// ToolResult answers one ToolCall. IsError marks a failure the model should
// see and react to (a file not found, an edit that did not match).
type ToolResult struct {
	CallID  string `json:"call_id"`
	Name    string `json:"name,omitempty"`
	Content string `json:"content"`
	IsError bool   `json:"is_error,omitempty"`
}

// Message is one turn of a conversation.
type Message struct {
	Role    Role   `json:"role"`
	Content []Part `json:"content"`
}

// Text returns the concatenated text parts of m.
func (m Message) Text() string {
	var b strings.Builder
	for _, p := range m.Content {
		if p.Type == PartText {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// ToolCalls returns the tool calls in m, in order.
func (m Message) ToolCalls() []ToolCall {
	var calls []ToolCall
	for _, p := range m.Content {
		if p.Type == PartToolCall && p.ToolCall != nil {
			calls = append(calls, *p.ToolCall)
		}
	}
	return calls
}

// UserText returns a user message holding text.
func UserText(text string) Message {
	return Message{Role: RoleUser, Content: []Part{{Type: PartText, Text: text}}}
}

// AssistantText returns an assistant message holding text.
func AssistantText(text string) Message {
	return Message{Role: RoleAssistant, Content: []Part{{Type: PartText, Text: text}}}
}

// ToolResults returns a tool message answering calls.
func ToolResults(results ...ToolResult) Message {
	m := Message{Role: RoleTool}
	for i := range results {
		r := results[i]
		m.Content = append(m.Content, Part{Type: PartToolResult, ToolResult: &r})
	}
	return m
}

// Tool is a function the model may call. Parameters is a JSON Schema object.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
	// Strict says that Parameters is written for constrained decoding:
	// every object lists additionalProperties false and requires all its
	// properties. An adapter whose provider can enforce a schema while
	// decoding (OpenAI's strict function tools, guided decoding) asks for
	// it; the others send the schema as usual.
	Strict bool `json:"strict,omitempty"`
}

// ToolChoiceMode says whether and how the model must call tools.
type ToolChoiceMode string

// Tool choice modes. ToolChoiceTool forces the tool named in ToolChoice.Name.
const (
	ToolChoiceAuto     ToolChoiceMode = ""
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required"
	ToolChoiceTool     ToolChoiceMode = "tool"
)

// ToolChoice constrains tool use for one request.
type ToolChoice struct {
	Mode ToolChoiceMode `json:"mode,omitempty"`
	Name string         `json:"name,omitempty"`
}

// Request is one completion request in provider-neutral form.
type Request struct {
	// Model is the model's name within its provider ("gpt-4o-mini"), without
	// the provider prefix.
	Model       string     `json:"model"`
	System      string     `json:"system,omitempty"`
	Messages    []Message  `json:"messages"`
	Tools       []Tool     `json:"tools,omitempty"`
	ToolChoice  ToolChoice `json:"tool_choice,omitzero"`
	MaxTokens   int        `json:"max_tokens,omitempty"`
	Temperature *float64   `json:"temperature,omitempty"`

	// Stream, when set, asks the adapter to stream and to report each
	// fragment as it arrives. It is not part of the request's identity.
	Stream func(Delta) `json:"-"`
}

// Delta is one streamed fragment: text, or a piece of a tool call. A tool
// call's first fragment carries its ID (possibly empty) and Name; later ones
// carry pieces of its JSON arguments. Restart says an earlier attempt was
// abandoned and everything streamed so far should be discarded.
type Delta struct {
	Text      string `json:"text,omitempty"`
	ToolIndex int    `json:"tool_index,omitempty"`
	ToolID    string `json:"tool_id,omitempty"`
	ToolName  string `json:"tool_name,omitempty"`
	ToolArgs  string `json:"tool_args,omitempty"`
	Restart   bool   `json:"restart,omitempty"`
}

// StopReason says why the model stopped.
type StopReason string

// Stop reasons.
const (
	StopEnd       StopReason = "end"
	StopToolUse   StopReason = "tool_use"
	StopMaxTokens StopReason = "max_tokens"
	StopOther     StopReason = "other"
)

// Usage counts tokens for one call.
type Usage struct {
	InputTokens      int64 `json:"input_tokens" yaml:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens" yaml:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens,omitempty" yaml:"cache_read_tokens"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty" yaml:"cache_write_tokens"`
}

// Total returns all tokens counted in u.
func (u Usage) Total() int64 {
	return u.InputTokens + u.OutputTokens + u.CacheReadTokens + u.CacheWriteTokens
}

// Add returns u plus v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		InputTokens:      u.InputTokens + v.InputTokens,
		OutputTokens:     u.OutputTokens + v.OutputTokens,
		CacheReadTokens:  u.CacheReadTokens + v.CacheReadTokens,
		CacheWriteTokens: u.CacheWriteTokens + v.CacheWriteTokens,
	}
}

// Response is one completion.
type Response struct {
	// Model is the model that answered, as the provider named it.
	Model      string     `json:"model,omitempty"`
	Message    Message    `json:"message"`
	StopReason StopReason `json:"stop_reason"`
	Usage      Usage      `json:"usage"`
	// Cost is filled in by a Meter; zero when the price is unknown.
	Cost Cost `json:"cost,omitzero"`
}

// Text returns the response's text.
func (r *Response) Text() string { return r.Message.Text() }

// ToolCalls returns the response's tool calls.
func (r *Response) ToolCalls() []ToolCall { return r.Message.ToolCalls() }
