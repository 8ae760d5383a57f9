package replay

import (
	"context"
	"errors"
	"testing"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
)

type memRecorder struct{ calls []llm.Call }

func (m *memRecorder) RecordCall(_ context.Context, c llm.Call) error {
	c.Seq = int64(len(m.calls) + 1)
	m.calls = append(m.calls, c)
	return nil
}

// A recorded conversation replays with the same answers and no model.
func TestReplayReproducesRecording(t *testing.T) {
	rec := &memRecorder{}
	live := llm.Stack{Provider: "scripted", Model: "m", Recorder: rec}.Wrap(scripted.New("s", []scripted.Response{
		{Text: "first"}, {Text: "second"}, {Text: "first again, differently"},
	}))
	ctx := context.Background()
	prompts := []string{"a", "b", "a"}
	var want []string
	for _, p := range prompts {
		r, err := live.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText(p)}})
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r.Text())
	}

	m := New(rec.calls)
	p := llm.Stack{Provider: "replay", Model: "m"}.Wrap(m)
	for i, pr := range prompts {
		r, err := p.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText(pr)}})
		if err != nil {
			t.Fatalf("replay %d: %v", i, err)
		}
		if got := r.Text(); got != want[i] {
			t.Errorf("replay %d = %q, want %q", i, got, want[i])
		}
	}
	if m.Unused() != 0 {
		t.Errorf("unused = %d", m.Unused())
	}
	_, err := p.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText("never asked")}})
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("err = %v, want ErrDiverged", err)
	}
}

func TestSequential(t *testing.T) {
	rec := &memRecorder{}
	live := llm.Stack{Provider: "scripted", Model: "m", Recorder: rec}.Wrap(scripted.New("s", []scripted.Response{{Text: "one"}, {Text: "two"}}))
	ctx := context.Background()
	live.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText("a")}})
	live.Complete(ctx, &llm.Request{Messages: []llm.Message{llm.UserText("b")}})

	s := NewSequential(rec.calls)
	r1, err := s.Complete(ctx, &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("a")}})
	if err != nil || r1.Text() != "one" {
		t.Fatalf("first = %v, %v", r1, err)
	}
	r2, err := s.Complete(ctx, &llm.Request{Model: "m", Messages: []llm.Message{llm.UserText("b, slightly different")}})
	if err != nil || r2.Text() != "two" || s.Drift() != 1 {
		t.Fatalf("second = %v, %v, drift %d", r2, err, s.Drift())
	}
	if _, err := s.Complete(ctx, &llm.Request{}); !errors.Is(err, ErrDiverged) {
		t.Fatalf("third = %v, want ErrDiverged", err)
	}
}

// A reused answer is recorded with the seq of the call it reuses and no
// cost; each answer is reused once, then the live model answers.
func TestReuseRecords(t *testing.T) {
	ctx := context.Background()
	first := &memRecorder{}
	live := llm.Stack{Provider: "scripted", Model: "m", Recorder: first}.Wrap(scripted.New("s", []scripted.Response{{Text: "paid for"}}))
	req := func() *llm.Request { return &llm.Request{Messages: []llm.Message{llm.UserText("a")}} }
	if _, err := live.Complete(ctx, req()); err != nil {
		t.Fatal(err)
	}
	first.calls[0].Usage = llm.Usage{InputTokens: 7}

	again := &memRecorder{}
	fresh := llm.Stack{Provider: "scripted", Model: "m", Recorder: again}.Wrap(scripted.New("s", []scripted.Response{{Text: "new"}}))
	r := NewReuse(first.calls)
	p := r.Wrap(fresh, again)
	got, err := p.Complete(ctx, req())
	if err != nil || got.Text() != "paid for" {
		t.Fatalf("first = %v, %v; want the recorded answer", got, err)
	}
	if len(again.calls) != 1 || again.calls[0].ReplayOf != first.calls[0].Seq || again.calls[0].Usage.Total() != 0 ||
		again.calls[0].RequestHash != first.calls[0].RequestHash {
		t.Fatalf("recorded %+v; want one call replaying call %d with no usage", again.calls, first.calls[0].Seq)
	}
	got, err = p.Complete(ctx, req())
	if err != nil || got.Text() != "new" {
		t.Fatalf("second = %v, %v; want the live answer", got, err)
	}
	if len(again.calls) != 2 || again.calls[1].ReplayOf != 0 || r.Unused() != 0 {
		t.Errorf("after the live call: %+v, unused %d", again.calls, r.Unused())
	}
}
