package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/param"

	"github.com/mlrc/mlrc/llm"
)

// defaultMaxTokens is sent when a request leaves MaxTokens at zero: the API
// requires max_tokens.
const defaultMaxTokens = 4096

// toParams converts a neutral request to the Messages API's parameters.
func toParams(req *llm.Request) (sdk.MessageNewParams, error) {
	p := sdk.MessageNewParams{
		Model:     sdk.Model(req.Model),
		MaxTokens: int64(req.MaxTokens),
	}
	if p.MaxTokens <= 0 {
		p.MaxTokens = defaultMaxTokens
	}
	if req.System != "" {
		p.System = []sdk.TextBlockParam{{Text: req.System}}
	}
	msgs, err := toMessages(req.Messages)
	if err != nil {
		return p, err
	}
	p.Messages = msgs
	for _, t := range req.Tools {
		tool, err := toTool(t)
		if err != nil {
			return p, err
		}
		p.Tools = append(p.Tools, tool)
	}
	if p.ToolChoice, err = toToolChoice(req.ToolChoice); err != nil {
		return p, err
	}
	if req.Temperature != nil {
		// This SDK version no longer models temperature; the API still takes it.
		p.SetExtraFields(map[string]any{"temperature": *req.Temperature})
	}
	return p, nil
}

// wireTurn is one message on the wire before it becomes an SDK param.
type wireTurn struct {
	assistant bool
	blocks    []sdk.ContentBlockParamUnion
}

// toMessages converts the conversation. Tool results travel in user
// messages, and consecutive messages of one wire role are merged, because the
// API wants user and assistant turns to alternate.
func toMessages(msgs []llm.Message) ([]sdk.MessageParam, error) {
	var turns []wireTurn
	for i, m := range msgs {
		var assistant bool
		switch m.Role {
		case llm.RoleAssistant:
			assistant = true
		case llm.RoleUser, llm.RoleTool:
		default:
			return nil, fmt.Errorf("message %d: unknown role %q", i, m.Role)
		}
		blocks, err := toBlocks(m.Content)
		if err != nil {
			return nil, fmt.Errorf("message %d: %w", i, err)
		}
		if len(blocks) == 0 {
			continue
		}
		if n := len(turns); n > 0 && turns[n-1].assistant == assistant {
			turns[n-1].blocks = append(turns[n-1].blocks, blocks...)
			continue
		}
		turns = append(turns, wireTurn{assistant: assistant, blocks: blocks})
	}
	out := make([]sdk.MessageParam, 0, len(turns))
	for _, t := range turns {
		if t.assistant {
			out = append(out, sdk.NewAssistantMessage(t.blocks...))
			continue
		}
		out = append(out, sdk.NewUserMessage(toolResultsFirst(t.blocks)...))
	}
	return out, nil
}

// toBlocks converts a message's parts. Empty text parts are dropped: the API
// rejects empty text blocks.
func toBlocks(parts []llm.Part) ([]sdk.ContentBlockParamUnion, error) {
	var blocks []sdk.ContentBlockParamUnion
	for _, p := range parts {
		switch p.Type {
		case llm.PartText:
			if p.Text != "" {
				blocks = append(blocks, sdk.NewTextBlock(p.Text))
			}
		case llm.PartToolCall:
			if p.ToolCall == nil {
				return nil, fmt.Errorf("tool_call part without a tool call")
			}
			c := p.ToolCall
			blocks = append(blocks, sdk.NewToolUseBlock(c.ID, toolInput(c.Arguments), c.Name))
		case llm.PartToolResult:
			if p.ToolResult == nil {
				return nil, fmt.Errorf("tool_result part without a tool result")
			}
			blocks = append(blocks, toolResultBlock(p.ToolResult))
		default:
			return nil, fmt.Errorf("unknown part type %q", p.Type)
		}
	}
	return blocks, nil
}

// toolInput returns a tool call's arguments as the API's input object. The
// API accepts only an object, so empty or non-object arguments (a model's
// broken call kept in the history) are sent as {}.
func toolInput(args json.RawMessage) json.RawMessage {
	trimmed := bytes.TrimSpace(args)
	if !isObject(trimmed) {
		return json.RawMessage(`{}`)
	}
	return json.RawMessage(trimmed)
}

// isObject reports whether raw, without surrounding space, is a JSON object.
func isObject(raw []byte) bool {
	return len(raw) > 0 && raw[0] == '{' && json.Valid(raw)
}

func toolResultBlock(r *llm.ToolResult) sdk.ContentBlockParamUnion {
	b := sdk.ToolResultBlockParam{ToolUseID: r.CallID}
	if r.Content != "" {
		b.Content = []sdk.ToolResultBlockParamContentUnion{{OfText: &sdk.TextBlockParam{Text: r.Content}}}
	}
	if r.IsError {
		b.IsError = param.NewOpt(true)
	}
	return sdk.ContentBlockParamUnion{OfToolResult: &b}
}

// toolResultsFirst moves tool results ahead of other blocks, keeping their
// order: the API wants a user message's tool results before its text.
func toolResultsFirst(blocks []sdk.ContentBlockParamUnion) []sdk.ContentBlockParamUnion {
	out := make([]sdk.ContentBlockParamUnion, 0, len(blocks))
	for _, b := range blocks {
		if b.OfToolResult != nil {
			out = append(out, b)
		}
	}
	for _, b := range blocks {
		if b.OfToolResult == nil {
			out = append(out, b)
		}
	}
	return out
}

// toTool converts a tool definition. Its JSON Schema is sent as it is, with
// "type": "object" added when missing, since the API requires it.
func toTool(t llm.Tool) (sdk.ToolUnionParam, error) {
	schema := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(t.Parameters)) > 0 {
		if err := json.Unmarshal(t.Parameters, &schema); err != nil {
			return sdk.ToolUnionParam{}, fmt.Errorf("tool %s: parameters are not a JSON Schema object: %w", t.Name, err)
		}
	}
	if schema == nil { // the parameters were JSON null
		schema = map[string]json.RawMessage{}
	}
	raw := t.Parameters
	if _, ok := schema["type"]; !ok {
		schema["type"] = json.RawMessage(`"object"`)
		var err error
		if raw, err = json.Marshal(schema); err != nil {
			return sdk.ToolUnionParam{}, fmt.Errorf("tool %s: %w", t.Name, err)
		}
	}
	tool := sdk.ToolParam{
		Name:        t.Name,
		InputSchema: param.Override[sdk.ToolInputSchemaParam](json.RawMessage(raw)),
	}
	if t.Description != "" {
		tool.Description = param.NewOpt(t.Description)
	}
	return sdk.ToolUnionParam{OfTool: &tool}, nil
}

func toToolChoice(c llm.ToolChoice) (sdk.ToolChoiceUnionParam, error) {
	switch c.Mode {
	case llm.ToolChoiceAuto:
		return sdk.ToolChoiceUnionParam{}, nil
	case llm.ToolChoiceNone:
		return sdk.ToolChoiceUnionParam{OfNone: &sdk.ToolChoiceNoneParam{}}, nil
	case llm.ToolChoiceRequired:
		return sdk.ToolChoiceUnionParam{OfAny: &sdk.ToolChoiceAnyParam{}}, nil
	case llm.ToolChoiceTool:
		if c.Name == "" {
			return sdk.ToolChoiceUnionParam{}, fmt.Errorf("tool choice %q needs a tool name", c.Mode)
		}
		return sdk.ToolChoiceParamOfTool(c.Name), nil
	}
	return sdk.ToolChoiceUnionParam{}, fmt.Errorf("unknown tool choice mode %q", c.Mode)
}

// fromMessage converts a complete API message to a neutral response.
func fromMessage(m *sdk.Message) (*llm.Response, error) {
	resp := &llm.Response{
		Model:      string(m.Model),
		Message:    llm.Message{Role: llm.RoleAssistant},
		StopReason: stopReason(m.StopReason),
		Usage: llm.Usage{
			InputTokens:      m.Usage.InputTokens,
			OutputTokens:     m.Usage.OutputTokens,
			CacheReadTokens:  m.Usage.CacheReadInputTokens,
			CacheWriteTokens: m.Usage.CacheCreationInputTokens,
		},
	}
	for _, b := range m.Content {
		switch b.Type {
		case "text":
			if b.Text != "" {
				resp.Message.Content = append(resp.Message.Content, llm.Part{Type: llm.PartText, Text: b.Text})
			}
		case "tool_use":
			args := json.RawMessage(bytes.TrimSpace(b.Input))
			if len(args) == 0 {
				args = json.RawMessage(`{}`)
			}
			if !isObject(args) {
				return nil, fmt.Errorf("tool call %s: input is not a JSON object: %s", b.ID, trimBody(string(args)))
			}
			call := &llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: args}
			resp.Message.Content = append(resp.Message.Content, llm.Part{Type: llm.PartToolCall, ToolCall: call})
		}
	}
	return resp, nil
}

// stopReason maps the API's stop_reason to the neutral one.
func stopReason(r sdk.StopReason) llm.StopReason {
	switch r {
	case sdk.StopReasonEndTurn, sdk.StopReasonStopSequence:
		return llm.StopEnd
	case sdk.StopReasonToolUse:
		return llm.StopToolUse
	case sdk.StopReasonMaxTokens:
		return llm.StopMaxTokens
	}
	return llm.StopOther
}
