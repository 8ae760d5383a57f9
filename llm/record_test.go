package llm

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
)

type memRecorder struct{ calls []Call }

func (m *memRecorder) RecordCall(_ context.Context, c Call) error {
	m.calls = append(m.calls, c)
	return nil
}

func TestRequestHashIgnoresStreaming(t *testing.T) {
	a := &Request{Model: "m", Messages: []Message{UserText("hi")}}
	b := &Request{Model: "m", Messages: []Message{UserText("hi")}, Stream: func(Delta) {}}
	c := &Request{Model: "m", Messages: []Message{UserText("hi!")}}
	d := &Request{Model: "other", Messages: []Message{UserText("hi")}}
	if RequestHash(a) != RequestHash(d) {
		t.Error("the model name changed the hash: a recording could not be replayed under replay/RUN")
	}
	if RequestHash(a) != RequestHash(b) {
		t.Error("streaming changed the hash")
	}
	if RequestHash(a) == RequestHash(c) {
		t.Error("different prompts hash alike")
	}
}

func TestStackRecordsCallsAndErrors(t *testing.T) {
	rec := &memRecorder{}
	n := 0
	backend := ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		n++
		if n == 2 {
			return nil, &APIError{Provider: "x", Status: 400, Message: "bad"}
		}
		return &Response{Message: AssistantText("hello"), Usage: Usage{InputTokens: 3, OutputTokens: 2}}, nil
	})
	p := Stack{Provider: "x", Model: "m", Meter: NewMeter(Prices{"x/m": {Input: 1, Output: 1}}, Budget{}), Recorder: rec}.Wrap(backend)
	if _, err := p.Complete(context.Background(), &Request{Messages: []Message{UserText("a")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Complete(context.Background(), &Request{Messages: []Message{UserText("b")}}); err == nil {
		t.Fatal("want the 400 error")
	}
	if len(rec.calls) != 2 {
		t.Fatalf("recorded %d calls, want 2", len(rec.calls))
	}
	ok, bad := rec.calls[0], rec.calls[1]
	if ok.Model != "m" || ok.Provider != "x" || ok.Usage.Total() != 5 || ok.Cost.USD != 5e-6 || ok.Response == nil {
		t.Errorf("first call recorded as %+v", ok)
	}
	var req Request
	if err := json.Unmarshal(ok.Request, &req); err != nil || req.Model != "m" || req.Messages[0].Text() != "a" {
		t.Errorf("recorded request %s: %v", ok.Request, err)
	}
	if ok.RequestHash != RequestHash(&req) {
		t.Error("recorded hash does not match the recorded request")
	}
	if bad.Error == "" || bad.Response != nil {
		t.Errorf("failed call recorded as %+v", bad)
	}
}

func TestBudgetRefusalIsNotRecorded(t *testing.T) {
	rec := &memRecorder{}
	m := NewMeter(Prices{}, Budget{Tokens: 1})
	p := Stack{Provider: "x", Model: "m", Meter: m, Recorder: rec}.Wrap(fixed(Usage{InputTokens: 5}))
	p.Complete(context.Background(), &Request{})
	_, err := p.Complete(context.Background(), &Request{})
	var be *BudgetError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want BudgetError", err)
	}
	if len(rec.calls) != 1 {
		t.Errorf("recorded %d calls, want 1 (the refusal is not a call)", len(rec.calls))
	}
}

func TestCompleteJSON(t *testing.T) {
	tool := Tool{Name: "answer", Parameters: json.RawMessage(`{"type":"object"}`)}
	tests := []struct {
		name string
		resp Message
		want string
		err  bool
	}{
		{"tool call", Message{Role: RoleAssistant, Content: []Part{{Type: PartToolCall, ToolCall: &ToolCall{ID: "1", Name: "answer", Arguments: json.RawMessage(`{"a":1}`)}}}}, `{"a":1}`, false},
		{"fenced text", AssistantText("Here:\n```json\n{\"a\": 2}\n```"), `{"a":2}`, false},
		{"bare text", AssistantText(`{"a": 3}`), `{"a":3}`, false},
		{"no json", AssistantText("I cannot."), "", true},
		{"invalid args", Message{Role: RoleAssistant, Content: []Part{{Type: PartToolCall, ToolCall: &ToolCall{Name: "answer", Arguments: json.RawMessage(`{"a":`)}}}}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Request
			p := ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
				got = req
				return &Response{Message: tt.resp}, nil
			})
			v, _, err := CompleteJSON(context.Background(), p, Request{Messages: []Message{UserText("q")}}, tool)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if string(v) != tt.want {
				t.Errorf("value = %s, want %s", v, tt.want)
			}
			if got.ToolChoice.Mode != ToolChoiceTool || got.ToolChoice.Name != "answer" || len(got.Tools) != 1 {
				t.Errorf("request did not force the tool: %+v", got.ToolChoice)
			}
		})
	}
}
