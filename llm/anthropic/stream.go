package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/mlrc/mlrc/llm"
)

// stream makes one streaming call, reporting fragments through req.Stream
// and assembling the response from the events. A stream that ends before
// message_stop is an error, never a shorter response.
func (c *Client) stream(ctx context.Context, req *llm.Request, params sdk.MessageNewParams) (*llm.Response, error) {
	s := c.api.Messages.NewStreaming(ctx, params)
	defer s.Close()
	acc := newAccumulator(req.Stream)
	for !acc.stopped && s.Next() {
		if err := acc.add(s.Current()); err != nil {
			var apiErr *sdk.Error
			if errors.As(err, &apiErr) {
				return nil, c.wrapError(ctx, req, err)
			}
			return nil, c.malformed(req, err)
		}
	}
	if err := s.Err(); err != nil {
		return nil, c.wrapError(ctx, req, err)
	}
	if !acc.stopped {
		if err := ctx.Err(); err != nil {
			return nil, c.wrapError(ctx, req, err)
		}
		return nil, c.streamCut(req)
	}
	resp, err := acc.response()
	if err != nil {
		return nil, c.malformed(req, err)
	}
	return resp, nil
}

// accumulator builds a response from stream events and reports each
// fragment as it comes.
type accumulator struct {
	emit    func(llm.Delta)
	resp    llm.Response
	blocks  []*block // in the order they started
	byIndex map[int64]*block
	tools   int // tool_use blocks seen so far
	stopped bool
}

// block is one content block being streamed.
type block struct {
	kind      string // "text", "tool_use", or a kind the adapter ignores
	text      strings.Builder
	id, name  string
	toolIndex int
	args      strings.Builder
	// startInput is the input content_block_start carried, used when no
	// input_json_delta follows.
	startInput string
}

func newAccumulator(emit func(llm.Delta)) *accumulator {
	return &accumulator{emit: emit, byIndex: map[int64]*block{}}
}

// add applies one event. It returns an *sdk.Error for an error event, and
// another error for an event that does not fit the stream so far.
func (a *accumulator) add(ev sdk.MessageStreamEventUnion) error {
	switch ev.Type {
	case "message_start":
		a.resp.Model = string(ev.Message.Model)
		u := ev.Message.Usage
		a.resp.Usage = llm.Usage{
			InputTokens:      u.InputTokens,
			OutputTokens:     u.OutputTokens,
			CacheReadTokens:  u.CacheReadInputTokens,
			CacheWriteTokens: u.CacheCreationInputTokens,
		}
	case "content_block_start":
		return a.start(ev.Index, ev.ContentBlock)
	case "content_block_delta":
		return a.delta(ev.Index, ev.Delta)
	case "content_block_stop":
		if _, ok := a.byIndex[ev.Index]; !ok {
			return fmt.Errorf("content_block_stop for unknown block %d", ev.Index)
		}
	case "message_delta":
		a.resp.StopReason = stopReason(ev.Delta.StopReason)
		// Usage counts here are totals for the whole message, not increments.
		u := ev.Usage
		a.resp.Usage.OutputTokens = u.OutputTokens
		if u.JSON.InputTokens.Valid() {
			a.resp.Usage.InputTokens = u.InputTokens
		}
		if u.JSON.CacheReadInputTokens.Valid() {
			a.resp.Usage.CacheReadTokens = u.CacheReadInputTokens
		}
		if u.JSON.CacheCreationInputTokens.Valid() {
			a.resp.Usage.CacheWriteTokens = u.CacheCreationInputTokens
		}
	case "message_stop":
		a.stopped = true
	case "error":
		// The SDK turns an SSE event named "error" into an error itself;
		// this is an error sent under another event name.
		apiErr := &sdk.Error{}
		if err := apiErr.UnmarshalJSON([]byte(ev.RawJSON())); err != nil {
			return fmt.Errorf("error event: %w", err)
		}
		return apiErr
	}
	return nil
}

func (a *accumulator) start(index int64, cb sdk.ContentBlockStartEventContentBlockUnion) error {
	if _, ok := a.byIndex[index]; ok {
		return fmt.Errorf("content block %d started twice", index)
	}
	b := &block{kind: cb.Type}
	a.blocks = append(a.blocks, b)
	a.byIndex[index] = b
	switch cb.Type {
	case "text":
		if cb.Text != "" {
			b.text.WriteString(cb.Text)
			a.emit(llm.Delta{Text: cb.Text})
		}
	case "tool_use":
		b.id, b.name, b.toolIndex = cb.ID, cb.Name, a.tools
		b.startInput = cb.JSON.Input.Raw()
		a.tools++
		a.emit(llm.Delta{ToolIndex: b.toolIndex, ToolID: b.id, ToolName: b.name})
	}
	return nil
}

func (a *accumulator) delta(index int64, d sdk.MessageStreamEventUnionDelta) error {
	b, ok := a.byIndex[index]
	if !ok {
		return fmt.Errorf("%s for unknown content block %d", d.Type, index)
	}
	switch d.Type {
	case "text_delta":
		if b.kind != "text" {
			return fmt.Errorf("text_delta for a %s block", b.kind)
		}
		b.text.WriteString(d.Text)
		if d.Text != "" {
			a.emit(llm.Delta{Text: d.Text})
		}
	case "input_json_delta":
		if b.kind != "tool_use" {
			return fmt.Errorf("input_json_delta for a %s block", b.kind)
		}
		b.args.WriteString(d.PartialJSON)
		if d.PartialJSON != "" {
			a.emit(llm.Delta{ToolIndex: b.toolIndex, ToolArgs: d.PartialJSON})
		}
	}
	return nil
}

// response returns the assembled response. A tool call whose arguments are
// not a JSON object is an error, unless the model ran out of tokens while
// writing it: then the call is dropped and StopMaxTokens says why.
func (a *accumulator) response() (*llm.Response, error) {
	resp := a.resp
	if resp.StopReason == "" {
		resp.StopReason = llm.StopOther
	}
	resp.Message = llm.Message{Role: llm.RoleAssistant}
	for _, b := range a.blocks {
		switch b.kind {
		case "text":
			if b.text.Len() > 0 {
				resp.Message.Content = append(resp.Message.Content, llm.Part{Type: llm.PartText, Text: b.text.String()})
			}
		case "tool_use":
			args := b.arguments()
			if !isObject(args) {
				if resp.StopReason == llm.StopMaxTokens {
					continue
				}
				return nil, fmt.Errorf("tool call %s: arguments are not a JSON object: %s", b.id, trimBody(string(args)))
			}
			call := &llm.ToolCall{ID: b.id, Name: b.name, Arguments: args}
			resp.Message.Content = append(resp.Message.Content, llm.Part{Type: llm.PartToolCall, ToolCall: call})
		}
	}
	return &resp, nil
}

// arguments returns a tool call's reassembled arguments: the fragments of
// input_json_delta joined, else the input the block started with, else {}.
func (b *block) arguments() json.RawMessage {
	args := strings.TrimSpace(b.args.String())
	if args == "" {
		args = strings.TrimSpace(b.startInput)
	}
	if args == "" || args == "null" {
		args = "{}"
	}
	return json.RawMessage(args)
}
