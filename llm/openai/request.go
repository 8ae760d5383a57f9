package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/mlrc/mlrc/llm"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/param"
)

// emptySchema is sent for a tool without parameters; some compatible
// servers reject a function without a parameters object.
const emptySchema = `{"type":"object","properties":{}}`

// errorPrefix marks a failed tool result: the wire format has no error flag
// for tool messages, so the model learns of the failure from the text.
const errorPrefix = "ERROR: "

// toParams converts a neutral request to the wire format. completionTokens
// selects max_completion_tokens over max_tokens.
func toParams(req *llm.Request, completionTokens bool) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{Model: openai.ChatModel(req.Model)}
	if req.System != "" {
		p.Messages = append(p.Messages, openai.SystemMessage(req.System))
	}
	for i, m := range req.Messages {
		msgs, err := toMessages(m)
		if err != nil {
			return p, fmt.Errorf("message %d: %w", i, err)
		}
		p.Messages = append(p.Messages, msgs...)
	}
	for _, t := range req.Tools {
		tool, err := toTool(t)
		if err != nil {
			return p, err
		}
		p.Tools = append(p.Tools, tool)
	}
	choice, err := toToolChoice(req.ToolChoice, req.Tools)
	if err != nil {
		return p, err
	}
	p.ToolChoice = choice
	if req.MaxTokens > 0 {
		if completionTokens {
			p.MaxCompletionTokens = param.NewOpt(int64(req.MaxTokens))
		} else {
			p.MaxTokens = param.NewOpt(int64(req.MaxTokens))
		}
	}
	if req.Temperature != nil {
		p.Temperature = param.NewOpt(*req.Temperature)
	}
	if req.Stream != nil {
		p.StreamOptions.IncludeUsage = param.NewOpt(true)
	}
	return p, nil
}

// toMessages converts one neutral message. A tool message becomes one wire
// message per result; text next to tool results follows them as a user
// message, since tool messages must directly follow the assistant's calls.
func toMessages(m llm.Message) ([]openai.ChatCompletionMessageParamUnion, error) {
	switch m.Role {
	case llm.RoleAssistant:
		msg, err := toAssistant(m)
		if err != nil {
			return nil, err
		}
		return []openai.ChatCompletionMessageParamUnion{msg}, nil
	case llm.RoleUser, llm.RoleTool:
		var out []openai.ChatCompletionMessageParamUnion
		for _, p := range m.Content {
			switch {
			case p.Type == llm.PartToolResult && p.ToolResult != nil:
				content := p.ToolResult.Content
				if p.ToolResult.IsError {
					content = errorPrefix + content
				}
				out = append(out, openai.ToolMessage(content, p.ToolResult.CallID))
			case p.Type == llm.PartToolCall:
				return nil, fmt.Errorf("tool call in a %s message", m.Role)
			}
		}
		if text := m.Text(); text != "" || m.Role == llm.RoleUser {
			out = append(out, openai.UserMessage(text))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown role %q", m.Role)
}

func toAssistant(m llm.Message) (openai.ChatCompletionMessageParamUnion, error) {
	var a openai.ChatCompletionAssistantMessageParam
	for _, p := range m.Content {
		if p.Type == llm.PartToolResult {
			return openai.ChatCompletionMessageParamUnion{}, errors.New("tool result in an assistant message")
		}
	}
	calls := m.ToolCalls()
	if text := m.Text(); text != "" || len(calls) == 0 {
		a.Content.OfString = param.NewOpt(text)
	}
	for _, call := range calls {
		a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
			OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
				ID: call.ID,
				Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{
					Name:      call.Name,
					Arguments: wireArgs(call.Arguments),
				},
			},
		})
	}
	return openai.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
}

// wireFunction is a function definition whose parameters travel as the raw
// JSON Schema the tool declared: the SDK's map type would reorder keys.
type wireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters"`
}

func toTool(t llm.Tool) (openai.ChatCompletionToolUnionParam, error) {
	schema := bytes.TrimSpace(t.Parameters)
	if len(schema) == 0 {
		schema = []byte(emptySchema)
	}
	if !json.Valid(schema) {
		return openai.ChatCompletionToolUnionParam{}, fmt.Errorf("tool %s: parameters are not valid JSON", t.Name)
	}
	fn := param.Override[openai.FunctionDefinitionParam](wireFunction{
		Name:        t.Name,
		Description: t.Description,
		Parameters:  json.RawMessage(schema),
	})
	return openai.ChatCompletionFunctionTool(fn), nil
}

// toToolChoice converts tc; auto is the wire default and is left out, and
// nothing is sent without tools, which OpenAI would reject.
func toToolChoice(tc llm.ToolChoice, tools []llm.Tool) (openai.ChatCompletionToolChoiceOptionUnionParam, error) {
	var none openai.ChatCompletionToolChoiceOptionUnionParam
	switch tc.Mode {
	case llm.ToolChoiceAuto:
		return none, nil
	case llm.ToolChoiceNone, llm.ToolChoiceRequired:
		if len(tools) == 0 {
			return none, nil
		}
		return openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: param.NewOpt(string(tc.Mode))}, nil
	case llm.ToolChoiceTool:
		if !slices.ContainsFunc(tools, func(t llm.Tool) bool { return t.Name == tc.Name }) {
			return none, fmt.Errorf("tool choice names %q, which is not among the request's tools", tc.Name)
		}
		return openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: tc.Name}), nil
	}
	return none, fmt.Errorf("unknown tool choice mode %q", tc.Mode)
}

// wireArgs returns a tool call's arguments as the wire's JSON string. An
// argument string that was not valid JSON is kept in the neutral form as a
// JSON string (see neutralArgs) and is sent back exactly as the model wrote it.
func wireArgs(args json.RawMessage) string {
	args = bytes.TrimSpace(args)
	if len(args) == 0 {
		return "{}"
	}
	var s string
	if args[0] == '"' && json.Unmarshal(args, &s) == nil {
		return s
	}
	return string(args)
}
