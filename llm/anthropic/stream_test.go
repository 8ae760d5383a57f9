package anthropic

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

// Events of a typical stream, in the API's wire format.
var (
	evMessageStart = sse{"message_start", `{"type": "message_start", "message": {"id": "msg_s1", "type": "message", "role": "assistant", "model": "claude-test-20260101", "content": [], "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 10, "cache_creation_input_tokens": 0}}}`}
	evPing         = sse{"ping", `{"type": "ping"}`}
	evMessageStop  = sse{"message_stop", `{"type": "message_stop"}`}
)

func evTextStart(index int) sse {
	return sse{"content_block_start", `{"type": "content_block_start", "index": ` + itoa(index) + `, "content_block": {"type": "text", "text": ""}}`}
}

func evText(index int, text string) sse {
	return sse{"content_block_delta", `{"type": "content_block_delta", "index": ` + itoa(index) + `, "delta": {"type": "text_delta", "text": ` + quote(text) + `}}`}
}

func evToolStart(index int, id, name string) sse {
	return sse{"content_block_start", `{"type": "content_block_start", "index": ` + itoa(index) + `, "content_block": {"type": "tool_use", "id": "` + id + `", "name": "` + name + `", "input": {}}}`}
}

func evArgs(index int, partial string) sse {
	return sse{"content_block_delta", `{"type": "content_block_delta", "index": ` + itoa(index) + `, "delta": {"type": "input_json_delta", "partial_json": ` + quote(partial) + `}}`}
}

func evStop(index int) sse {
	return sse{"content_block_stop", `{"type": "content_block_stop", "index": ` + itoa(index) + `}`}
}

func evMessageDelta(stop string, outputTokens int) sse {
	return sse{"message_delta", `{"type": "message_delta", "delta": {"type": "message_delta", "stop_reason": "` + stop + `", "stop_sequence": null}, "usage": {"output_tokens": ` + itoa(outputTokens) + `}}`}
}

// streamWith serves events and makes one streaming call.
func streamWith(t *testing.T, events ...sse) (*fakeAPI, *llm.Response, []llm.Delta, error) {
	t.Helper()
	f, c := newFake(t, func(w http.ResponseWriter, r *http.Request) { writeSSE(w, events...) })
	var deltas recorder
	resp, err := c.Complete(context.Background(), &llm.Request{
		Model:    "claude-test",
		Messages: []llm.Message{llm.UserText("hi")},
		Stream:   deltas.add,
	})
	return f, resp, deltas.got(), err
}

func TestStreamText(t *testing.T) {
	f, resp, deltas, err := streamWith(t,
		evMessageStart,
		evTextStart(0),
		evPing,
		evText(0, "Hello"),
		evText(0, ", wor"),
		evText(0, "ld."),
		evStop(0),
		evMessageDelta("end_turn", 15),
		evMessageStop,
	)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	f.request(t).checkEnvelope(t, true)

	wantDeltas := []llm.Delta{{Text: "Hello"}, {Text: ", wor"}, {Text: "ld."}}
	if !reflect.DeepEqual(deltas, wantDeltas) {
		t.Errorf("deltas = %+v, want %+v", deltas, wantDeltas)
	}
	if got, want := resp.Text(), "Hello, world."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got, want := len(resp.Message.Content), 1; got != want {
		t.Errorf("%d parts, want %d", got, want)
	}
	if got, want := resp.StopReason, llm.StopEnd; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Model, "claude-test-20260101"; got != want {
		t.Errorf("model = %q, want %q", got, want)
	}
	// Input tokens come from message_start, output tokens from message_delta.
	if got, want := resp.Usage, (llm.Usage{InputTokens: 25, OutputTokens: 15, CacheReadTokens: 10}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
}

func TestStreamToolUse(t *testing.T) {
	// The fragments split the JSON anywhere: inside a key, a string, a number.
	fragments := []string{`{"pa`, `th": "/tmp/`, `a b.txt", "li`, `mit": 1`, `20, "flags": [tr`, `ue]}`}
	events := []sse{evMessageStart, evTextStart(0), evText(0, "Reading it."), evStop(0), evToolStart(1, "toolu_9", "read_file")}
	for _, frag := range fragments {
		events = append(events, evArgs(1, frag))
	}
	events = append(events, evStop(1), evToolStart(2, "toolu_10", "now"), evStop(2), evMessageDelta("tool_use", 60), evMessageStop)

	_, resp, deltas, err := streamWith(t, events...)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}

	wantDeltas := []llm.Delta{{Text: "Reading it."}, {ToolIndex: 0, ToolID: "toolu_9", ToolName: "read_file"}}
	for _, frag := range fragments {
		wantDeltas = append(wantDeltas, llm.Delta{ToolIndex: 0, ToolArgs: frag})
	}
	wantDeltas = append(wantDeltas, llm.Delta{ToolIndex: 1, ToolID: "toolu_10", ToolName: "now"})
	if !reflect.DeepEqual(deltas, wantDeltas) {
		t.Errorf("deltas =\n%+v\nwant\n%+v", deltas, wantDeltas)
	}

	if got, want := resp.StopReason, llm.StopToolUse; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got, want := resp.Text(), "Reading it."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	parts := resp.Message.Content
	if got, want := len(parts), 3; got != want {
		t.Fatalf("%d parts, want %d: %+v", got, want, parts)
	}
	if got, want := parts[0].Type, llm.PartText; got != want {
		t.Errorf("part 0 is %q, want %q", got, want)
	}
	calls := resp.ToolCalls()
	if got, want := len(calls), 2; got != want {
		t.Fatalf("%d tool calls, want %d", got, want)
	}
	if got, want := calls[0].ID+" "+calls[0].Name, "toolu_9 read_file"; got != want {
		t.Errorf("call 0 = %q, want %q", got, want)
	}
	jsonEqual(t, "arguments", calls[0].Arguments, `{"path": "/tmp/a b.txt", "limit": 120, "flags": [true]}`)
	// A tool call without fragments takes the input it started with.
	jsonEqual(t, "arguments of a call without fragments", calls[1].Arguments, `{}`)
	if got, want := resp.Usage.OutputTokens, int64(60); got != want {
		t.Errorf("output tokens = %d, want %d", got, want)
	}
}

func TestStreamCut(t *testing.T) {
	tests := []struct {
		name   string
		events []sse
	}{
		{"mid text", []sse{evMessageStart, evTextStart(0), evText(0, "Partial ans")}},
		{"mid tool arguments", []sse{evMessageStart, evToolStart(0, "t1", "ls"), evArgs(0, `{"dir": "/t`)}},
		{"after message_delta", []sse{evMessageStart, evTextStart(0), evText(0, "All"), evStop(0), evMessageDelta("end_turn", 3)}},
		{"nothing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, _, err := streamWith(t, tt.events...)
			if resp != nil {
				t.Errorf("resp = %+v, want nil", resp)
			}
			e := apiError(t, err)
			if !e.Temporary || !llm.IsRetryable(err) {
				t.Errorf("got %+v, want a temporary error", e)
			}
			if !strings.Contains(e.Message, "stream was cut") {
				t.Errorf("message = %q, want it to say the stream was cut", e.Message)
			}
		})
	}
}

func TestStreamErrorEvent(t *testing.T) {
	tests := []struct {
		name          string
		event         sse
		wantStatus    int
		wantMessage   string
		wantRetryable bool
	}{
		{"overloaded", sse{"error", `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`}, 529, "Overloaded", true},
		{"api error", sse{"error", `{"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}`}, 500, "Internal server error", true},
		{"invalid request", sse{"error", `{"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}`}, 400, "bad", false},
		// An error under another event name is caught from its type.
		{"unnamed", sse{"message", `{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`}, 529, "Overloaded", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, deltas, err := streamWith(t, evMessageStart, evTextStart(0), evText(0, "Hel"), tt.event, evText(0, "lo"), evStop(0), evMessageStop)
			if resp != nil {
				t.Errorf("resp = %+v, want nil", resp)
			}
			e := apiError(t, err)
			if got, want := e.Status, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if got, want := e.Message, tt.wantMessage; got != want {
				t.Errorf("message = %q, want %q", got, want)
			}
			if got, want := llm.IsRetryable(err), tt.wantRetryable; got != want {
				t.Errorf("retryable = %v, want %v", got, want)
			}
			if got, want := deltas, []llm.Delta{{Text: "Hel"}}; !reflect.DeepEqual(got, want) {
				t.Errorf("deltas = %+v, want %+v", got, want)
			}
		})
	}
}

func TestStreamMalformed(t *testing.T) {
	tests := []struct {
		name   string
		events []sse
	}{
		{"event not JSON", []sse{evMessageStart, {"content_block_delta", `{"type": "content_block_delta", "ind`}}},
		{"delta for unknown block", []sse{evMessageStart, evText(3, "x"), evMessageStop}},
		{"arguments not JSON", []sse{evMessageStart, evToolStart(0, "t1", "ls"), evArgs(0, `{"dir": `), evStop(0), evMessageDelta("tool_use", 5), evMessageStop}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, _, err := streamWith(t, tt.events...)
			e := apiError(t, err)
			if got, want := e.Status, http.StatusOK; got != want {
				t.Errorf("status = %d, want %d", got, want)
			}
			if !strings.HasPrefix(e.Message, "malformed response: ") || llm.IsRetryable(err) {
				t.Errorf("got %+v, want a non-retryable malformed response", e)
			}
		})
	}
}

// TestStreamMaxTokensInToolCall checks that a tool call cut short by
// max_tokens is dropped, not returned with broken arguments.
func TestStreamMaxTokensInToolCall(t *testing.T) {
	_, resp, _, err := streamWith(t, evMessageStart, evTextStart(0), evText(0, "Writing."), evStop(0),
		evToolStart(1, "t1", "write"), evArgs(1, `{"content": "long te`), evStop(1), evMessageDelta("max_tokens", 4096), evMessageStop)
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if got, want := resp.StopReason, llm.StopMaxTokens; got != want {
		t.Errorf("stop reason = %q, want %q", got, want)
	}
	if got := resp.ToolCalls(); len(got) != 0 {
		t.Errorf("tool calls = %+v, want none", got)
	}
	if got, want := resp.Text(), "Writing."; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
}

var itoa = strconv.Itoa

// quote returns s as a JSON string.
func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
