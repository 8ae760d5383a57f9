package idea

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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

// schemaFor is T's JSON Schema with the rules shape adds (enums, bounds,
// minimum lengths): the rules the model must follow are in the schema it
// sees, so a provider with constrained decoding enforces them. Every object
// closes its properties and requires them all (strict mode's shape).
func schemaFor[T any](shape func(*jsonschema.Schema)) (*jsonschema.Schema, error) {
	s, err := jsonschema.For[T](nil)
	if err != nil {
		return nil, err
	}
	notNull(s)
	if shape != nil {
		shape(s)
	}
	return s, nil
}

// ask requests a T as structured output: the answer must call the tool
// named name with arguments matching schema and pass check. An invalid
// answer is sent back with the validation error, up to retries times, so the
// model can correct it.
//
// When every attempt fails validation, ask returns the last answer that
// could be decoded into a T (nil if none) with an error wrapping
// ErrInvalidOutput: the caller repairs what it can rather than give up. A
// failed call (no answer at all) returns a nil value and the call's error.
func ask[T any](ctx context.Context, m Model, req llm.Request, name, description string, schema *jsonschema.Schema, retries int, check func(*T) error) (*T, error) {
	raw, err := json.Marshal(schema)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", name, err)
	}
	resolved, err := schema.Resolve(nil)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", name, err)
	}
	tool := llm.Tool{Name: name, Description: description, Parameters: raw, Strict: true}
	// The corrections appended below must not write into the caller's
	// backing array: a caller that goes on with the conversation (the
	// novelty check) appends its own messages there.
	req.Messages = slices.Clip(req.Messages)
	var problems []string
	var last *T
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
			var decoded bool
			reason, decoded = validate(resolved, args, &v, check)
			if decoded {
				last = &v
			}
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
	return last, fmt.Errorf("%w after %d attempts (%s): %s", ErrInvalidOutput, retries+1, name, strings.Join(problems, "; "))
}

// validate checks args against the schema and check; decoded says whether
// args could at least be decoded into v.
func validate[T any](resolved *jsonschema.Resolved, args json.RawMessage, v *T, check func(*T) error) (reason string, decoded bool) {
	var generic any
	if err := json.Unmarshal(args, &generic); err != nil {
		return "the arguments are not valid JSON: " + err.Error(), false
	}
	schemaErr := resolved.Validate(generic)
	if err := json.Unmarshal(args, v); err != nil {
		if schemaErr != nil {
			return "the arguments do not match the schema: " + schemaErr.Error(), false
		}
		return "the arguments do not fit: " + err.Error(), false
	}
	// The check's own words first: they name the idea and the valid values.
	if check != nil {
		if err := check(v); err != nil {
			return strings.ReplaceAll(err.Error(), "\n", "; "), true
		}
	}
	if schemaErr != nil {
		return "the arguments do not match the schema: " + schemaErr.Error(), true
	}
	return "", true
}

// notNull makes every list a list: Go slices are nullable in the inferred
// schema (["null", "array"]), and a null where a list is asked for is a
// mistake a model should not be allowed to make.
func notNull(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && slices.Contains(s.Types, "null") {
		s.Type = s.Types[0]
		if s.Type == "null" {
			s.Type = s.Types[1]
		}
		s.Types = nil
	}
	for _, p := range s.Properties {
		notNull(p)
	}
	notNull(s.Items)
}

// Schema-shaping helpers: they find a property by its path of names
// ("ideas", "builds_on") through objects and array items.

func prop(s *jsonschema.Schema, path ...string) *jsonschema.Schema {
	for _, name := range path {
		for s.Items != nil && s.Properties == nil {
			s = s.Items
		}
		next, ok := s.Properties[name]
		if !ok {
			panic(fmt.Sprintf("idea: schema has no property %q", name)) // the types are fixed: a bug
		}
		s = next
	}
	return s
}

func minItems(s *jsonschema.Schema, n int) { s.MinItems = &n }
func maxItems(s *jsonschema.Schema, n int) { s.MaxItems = &n }
func minLength(s *jsonschema.Schema)       { one := 1; s.MinLength = &one }
func bounds(s *jsonschema.Schema, lo, hi float64) {
	s.Minimum, s.Maximum = &lo, &hi
}
