package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/mlrc/mlrc/llm"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// readStream reads a server-sent event stream of chunks, reporting
// fragments to req.Stream, and assembles the answer. A stream that ends
// before both a finish_reason and [DONE] is an error: the answer may be
// truncated anywhere.
func (c *Client) readStream(ctx context.Context, req *llm.Request, raw *http.Response) (*llm.Response, error) {
	dec := ssestream.NewDecoder(raw)
	defer dec.Close()
	s := stream{emit: req.Stream, byIndex: map[int64]int{}}
	done := false
	for !done && dec.Next() {
		evt := dec.Event()
		data := bytes.TrimSpace(evt.Data)
		switch {
		case len(data) == 0:
		case bytes.Equal(data, []byte("[DONE]")):
			done = true
		case evt.Type == "error" || hasError(data):
			return nil, c.streamError(req, data)
		default:
			var chunk openai.ChatCompletionChunk
			if err := json.Unmarshal(data, &chunk); err != nil {
				return nil, c.malformed(req, err)
			}
			s.add(&chunk)
		}
	}
	if err := dec.Err(); err != nil && s.finish == "" {
		if ctx.Err() != nil {
			return nil, c.transportError(ctx, req, "reading stream", err)
		}
		return nil, c.cut(req, err)
	}
	if !done && s.finish == "" {
		return nil, c.cut(req, nil)
	}
	return s.response(), nil
}

// stream accumulates one streamed answer.
type stream struct {
	emit   func(llm.Delta)
	model  string
	text   strings.Builder
	finish string
	usage  openai.CompletionUsage
	calls  []*partialCall
	// byIndex maps a wire tool-call index to the call in calls that it
	// currently continues.
	byIndex map[int64]int
}

type partialCall struct {
	id, name string
	args     strings.Builder
}

func (s *stream) add(chunk *openai.ChatCompletionChunk) {
	if chunk.Model != "" {
		s.model = chunk.Model
	}
	// Usage comes in the last chunk (include_usage) or, on some servers,
	// running totals in every chunk; the last one counts.
	if chunk.JSON.Usage.Valid() {
		s.usage = chunk.Usage
	}
	for _, choice := range chunk.Choices {
		if choice.Index != 0 {
			continue
		}
		d := choice.Delta
		for _, text := range []string{d.Content, d.Refusal} {
			if text != "" {
				s.text.WriteString(text)
				s.emit(llm.Delta{Text: text})
			}
		}
		for i := range d.ToolCalls {
			s.addToolCall(&d.ToolCalls[i])
		}
		if choice.FinishReason != "" {
			s.finish = choice.FinishReason
		}
	}
}

// addToolCall merges one tool-call fragment. Fragments are matched by their
// index (0 when the server leaves it out); a fragment starts a new call when
// it carries an ID other than the call's, or, from a server that sends
// whole calls without index or ID, a name and arguments after the call's
// arguments are already complete JSON.
func (s *stream) addToolCall(tc *openai.ChatCompletionChunkChoiceDeltaToolCall) {
	pos, ok := s.byIndex[tc.Index]
	if ok && startsNewCall(s.calls[pos], tc) {
		ok = false
	}
	if !ok {
		pos = len(s.calls)
		s.calls = append(s.calls, &partialCall{id: tc.ID, name: tc.Function.Name})
		s.byIndex[tc.Index] = pos
		s.emit(llm.Delta{ToolIndex: pos, ToolID: tc.ID, ToolName: tc.Function.Name})
	}
	call := s.calls[pos]
	if call.id == "" {
		call.id = tc.ID
	}
	if call.name == "" {
		call.name = tc.Function.Name
	}
	if args := tc.Function.Arguments; args != "" {
		call.args.WriteString(args)
		s.emit(llm.Delta{ToolIndex: pos, ToolArgs: args})
	}
}

func startsNewCall(call *partialCall, tc *openai.ChatCompletionChunkChoiceDeltaToolCall) bool {
	if tc.ID != "" && call.id != "" && tc.ID != call.id {
		return true
	}
	return tc.ID == "" && tc.Function.Name != "" && tc.Function.Arguments != "" &&
		call.name != "" && json.Valid([]byte(call.args.String()))
}

func (s *stream) response() *llm.Response {
	calls := make([]llm.ToolCall, len(s.calls))
	for i, pc := range s.calls {
		calls[i] = llm.ToolCall{ID: pc.id, Name: pc.name, Arguments: neutralArgs(pc.args.String())}
	}
	return newResponse(s.model, s.text.String(), calls, s.finish, s.usage)
}
