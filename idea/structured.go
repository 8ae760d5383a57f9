package idea

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/llm"
)

// Model is what the IdeaAgent calls; llm.Provider satisfies it.
type Model interface {
	Complete(ctx context.Context, req *llm.Request) (*llm.Response, error)
}

// ErrInvalidOutput is returned when the model's answer still fails
// validation after every retry.
var ErrInvalidOutput = errors.New("the model's structured answer did not validate")

// ask requests a T as structured output: the answer must call the tool
// named name with arguments matching T's JSON Schema and pass check. An
// invalid answer is sent back with the validation error, up to retries
// times, so the model can correct it.
func ask[T any](ctx context.Context, m Model, req llm.Request, name, description string, retries int, check func(*T) error) (*T, error) {
	schema, err := jsonschema.For[T](nil)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", name, err)
	}
	raw, _ := json.Marshal(schema)
	resolved, err := schema.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", name, err)
	}
	tool := llm.Tool{Name: name, Description: description, Parameters: raw}
	var problems []string
	for attempt := 0; attempt <= retries; attempt++ {
		args, resp, err := llm.CompleteJSON(ctx, m, req, tool)
		var reason string
		var v T
		switch {
		case err != nil && resp == nil:
			return nil, err // the call itself failed
		case err != nil:
			reason = err.Error()
		default:
			reason = validate(resolved, args, &v, check)
		}
		if reason == "" {
			return &v, nil
		}
		problems = append(problems, reason)
		// Show the model its answer and what is wrong with it.
		req.Messages = append(req.Messages, resp.Message)
		fix := fmt.Sprintf("Your answer is not valid: %s. Call %s again with corrected arguments that match its schema.", reason, name)
		if calls := resp.ToolCalls(); len(calls) > 0 {
			var results []llm.ToolResult
			for _, c := range calls {
				results = append(results, llm.ToolResult{CallID: c.ID, Name: c.Name, Content: fix, IsError: true})
			}
			req.Messages = append(req.Messages, llm.ToolResults(results...))
		} else {
			req.Messages = append(req.Messages, llm.UserText(fix))
		}
	}
	return nil, fmt.Errorf("%w after %d attempts (%s): %s", ErrInvalidOutput, retries+1, name, strings.Join(problems, "; "))
}

func validate[T any](resolved *jsonschema.Resolved, args json.RawMessage, v *T, check func(*T) error) string {
	var generic any
	if err := json.Unmarshal(args, &generic); err != nil {
		return "the arguments are not valid JSON: " + err.Error()
	}
	if err := resolved.Validate(generic); err != nil {
		return "the arguments do not match the schema: " + err.Error()
	}
	if err := json.Unmarshal(args, v); err != nil {
		return "the arguments do not fit: " + err.Error()
	}
	if check != nil {
		if err := check(v); err != nil {
			return err.Error()
		}
	}
	return ""
}
