package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mlrc/mlrc/llm"
)

// Func is a tool made of a typed parameter struct P and a function. Its JSON
// Schema is inferred from P (json tags name the fields, fields without
// omitempty are required, `jsonschema:"…"` tags describe them); arguments
// that do not fit are a tool error the model sees, naming the problem.
type Func[P any] struct {
	name, description string
	schema            json.RawMessage
	resolved          *jsonschema.Resolved
	fn                func(ctx context.Context, p P) (Result, error)
}

// NewFunc builds a tool. It panics if P cannot be described as JSON Schema:
// that is a programming error, found by any test that builds the tool.
func NewFunc[P any](name, description string, fn func(ctx context.Context, p P) (Result, error)) *Func[P] {
	s, err := jsonschema.For[P](nil)
	if err != nil {
		panic(fmt.Sprintf("agent: tool %s: schema: %v", name, err))
	}
	raw, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("agent: tool %s: schema: %v", name, err))
	}
	resolved, err := s.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("agent: tool %s: resolve schema: %v", name, err))
	}
	return &Func[P]{name: name, description: strings.TrimSpace(description), schema: raw, resolved: resolved, fn: fn}
}

// Definition describes the tool to the model.
func (f *Func[P]) Definition() llm.Tool {
	return llm.Tool{Name: f.name, Description: f.description, Parameters: f.schema}
}

// Call decodes and validates the arguments, then runs the function.
func (f *Func[P]) Call(ctx context.Context, args json.RawMessage) (Result, error) {
	var generic any
	if err := json.Unmarshal(args, &generic); err != nil {
		return Result{Content: fmt.Sprintf("The arguments are not valid JSON (%v). Send a JSON object matching the tool's schema.", err), IsError: true}, nil
	}
	if err := f.resolved.Validate(generic); err != nil {
		return Result{Content: fmt.Sprintf("The arguments do not match the tool's schema: %v. Schema: %s", err, f.schema), IsError: true}, nil
	}
	var p P
	dec := json.NewDecoder(bytes.NewReader(args))
	if err := dec.Decode(&p); err != nil {
		return Result{Content: fmt.Sprintf("The arguments do not fit: %v. Schema: %s", err, f.schema), IsError: true}, nil
	}
	return f.fn(ctx, p)
}
