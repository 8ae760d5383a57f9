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
	"github.com/openai/openai-go/v3/shared"
)

// emptySchema is sent for a tool without parameters; some compatible
// servers reject a function without a parameters object.
const emptySchema = `{"type":"object","properties":{}}`

// errorPrefix marks a failed tool result: the wire format has no error flag
// for tool messages, so the model learns of the failure from the text.
const errorPrefix = "ERROR: "

// wireOptions are what differs between servers speaking this wire format.
type wireOptions struct {
	// completionTokens sends max_completion_tokens instead of max_tokens.
	completionTokens bool
	// strictSubset leaves out of strict schemas the keywords OpenAI's
	// strict mode rejects (minLength, maxLength, …); the caller still
	// validates them.
	strictSubset bool
	// jsonSchemaFormat asks for structured output by response_format
	// json_schema instead of a forced tool call: for servers that
	// constrain text to a schema but ignore tool_choice (Ollama,
	// llama.cpp, LM Studio).
	jsonSchemaFormat bool
}

// toParams converts a neutral request to the wire format.
func toParams(req *llm.Request, o wireOptions) (openai.ChatCompletionNewParams, error) {
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
	tools, choiceMode := req.Tools, req.ToolChoice
	if o.jsonSchemaFormat {
		if out, rest, ok := forcedStrict(req); ok {
			format, err := toResponseFormat(out, o.strictSubset)
			if err != nil {
				return p, err
			}
			p.ResponseFormat = format
			tools, choiceMode = rest, llm.ToolChoice{Mode: llm.ToolChoiceNone}
		}
	}
	for _, t := range tools {
		tool, err := toTool(t, o.strictSubset)
		if err != nil {
			return p, err
		}
		p.Tools = append(p.Tools, tool)
	}
	choice, err := toToolChoice(choiceMode, tools)
	if err != nil {
		return p, err
	}
	p.ToolChoice = choice
	if req.MaxTokens > 0 {
		if o.completionTokens {
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
	// Strict asks for constrained decoding: the arguments will match the
	// schema (OpenAI's strict function calling; vLLM and others honour
	// it or ignore it).
	Strict bool `json:"strict,omitempty"`
}

func toTool(t llm.Tool, strictSubset bool) (openai.ChatCompletionToolUnionParam, error) {
	schema, err := toolSchema(t, strictSubset)
	if err != nil {
		return openai.ChatCompletionToolUnionParam{}, err
	}
	fn := param.Override[openai.FunctionDefinitionParam](wireFunction{
		Name:        t.Name,
		Description: t.Description,
		Parameters:  schema,
		Strict:      t.Strict,
	})
	return openai.ChatCompletionFunctionTool(fn), nil
}

// toolSchema is the schema sent for t: an empty one filled in, a strict one
// cut to what OpenAI's strict mode accepts when strictSubset is set.
func toolSchema(t llm.Tool, strictSubset bool) (json.RawMessage, error) {
	schema := bytes.TrimSpace(t.Parameters)
	if len(schema) == 0 {
		schema = []byte(emptySchema)
	}
	if !json.Valid(schema) {
		return nil, fmt.Errorf("tool %s: parameters are not valid JSON", t.Name)
	}
	if t.Strict && strictSubset {
		var v any
		if err := json.Unmarshal(schema, &v); err != nil {
			return nil, fmt.Errorf("tool %s: %w", t.Name, err)
		}
		dropKeywords(v, unsupportedStrict)
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("tool %s: %w", t.Name, err)
		}
		schema = b
	}
	return json.RawMessage(schema), nil
}

// unsupportedStrict are the JSON Schema keywords OpenAI's strict mode
// rejects among those mlrc writes.
var unsupportedStrict = []string{"minLength", "maxLength", "uniqueItems", "minProperties", "maxProperties", "patternProperties"}

// dropKeywords removes the keywords from every schema object in v. The keys
// of "properties" are names, not keywords: a property named like a keyword
// stays.
func dropKeywords(v any, keywords []string) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range keywords {
			delete(x, k)
		}
		for k, sub := range x {
			if k == "properties" {
				if props, ok := sub.(map[string]any); ok {
					for _, p := range props {
						dropKeywords(p, keywords)
					}
				}
				continue
			}
			dropKeywords(sub, keywords)
		}
	case []any:
		for _, sub := range x {
			dropKeywords(sub, keywords)
		}
	}
}

// forcedStrict finds the strict tool a request forces (structured output)
// and the other tools.
func forcedStrict(req *llm.Request) (out llm.Tool, rest []llm.Tool, ok bool) {
	if req.ToolChoice.Mode != llm.ToolChoiceTool {
		return out, nil, false
	}
	for _, t := range req.Tools {
		if t.Name == req.ToolChoice.Name && t.Strict && !ok {
			out, ok = t, true
			continue
		}
		rest = append(rest, t)
	}
	return out, rest, ok
}

// toResponseFormat asks for text that is a JSON value matching t's schema.
func toResponseFormat(t llm.Tool, strictSubset bool) (openai.ChatCompletionNewParamsResponseFormatUnion, error) {
	schema, err := toolSchema(t, strictSubset)
	if err != nil {
		return openai.ChatCompletionNewParamsResponseFormatUnion{}, err
	}
	js := shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: t.Name, Schema: schema, Strict: param.NewOpt(true)}
	if t.Description != "" {
		js.Description = param.NewOpt(t.Description)
	}
	return openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: js}}, nil
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
