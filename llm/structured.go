package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
)

// CompleteJSON asks for structured output: the answer must be a JSON value
// matching out.Parameters. It works with every provider by forcing a call to
// the tool out; models that answer in text instead (some local servers ignore
// tool_choice) are accepted when the text holds a JSON object. Validation of
// the value against the schema is the caller's.
func CompleteJSON(ctx context.Context, p Provider, req Request, out Tool) (json.RawMessage, *Response, error) {
	req.Tools = append(append([]Tool(nil), req.Tools...), out)
	req.ToolChoice = ToolChoice{Mode: ToolChoiceTool, Name: out.Name}
	resp, err := p.Complete(ctx, &req)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range resp.ToolCalls() {
		if c.Name == out.Name {
			if !json.Valid(c.Arguments) {
				return nil, resp, fmt.Errorf("structured output %s: arguments are not valid JSON: %.200s", out.Name, c.Arguments)
			}
			return c.Arguments, resp, nil
		}
	}
	if v, ok := jsonInText(resp.Text()); ok {
		return v, resp, nil
	}
	return nil, resp, fmt.Errorf("structured output %s: the model answered without calling the tool or giving JSON: %.200q", out.Name, resp.Text())
}

// jsonInText finds a JSON object in text: the whole text, a fenced block, or
// the span from the first '{' to the last '}'.
func jsonInText(text string) (json.RawMessage, bool) {
	text = strings.TrimSpace(text)
	candidates := []string{text}
	if i := strings.Index(text, "```"); i >= 0 {
		rest := text[i+3:]
		rest = strings.TrimPrefix(rest, "json")
		if j := strings.Index(rest, "```"); j >= 0 {
			candidates = append(candidates, strings.TrimSpace(rest[:j]))
		}
	}
	if i, j := strings.Index(text, "{"), strings.LastIndex(text, "}"); i >= 0 && j > i {
		candidates = append(candidates, text[i:j+1])
	}
	for _, c := range candidates {
		b := []byte(c)
		if len(b) > 0 && b[0] == '{' && json.Valid(b) {
			var buf bytes.Buffer
			if json.Compact(&buf, b) == nil {
				return buf.Bytes(), true
			}
		}
	}
	return nil, false
}
