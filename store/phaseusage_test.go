package store

import (
	"context"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

func TestUsageByPhaseAndLastEvent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := createTest(t, s, "u")
	record := func(phase string, in int64, usd float64) {
		st, err := r.BeginStep(ctx, phase, "k", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.RecordCall(ctx, testCall("h", llm.Usage{InputTokens: in, OutputTokens: 1}, llm.Cost{USD: usd})); err != nil {
			t.Fatal(err)
		}
		st.End(ctx, StatusDone, nil)
	}
	record("idea", 10, 0.5)
	record("experiment", 100, 1)
	record("idea", 5, 0.25)
	record("experiment", 200, 2)
	got, err := s.UsageByPhase(ctx, "u")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Phase != "idea" || got[0].Calls != 2 || got[0].Usage.InputTokens != 15 || got[0].Cost.USD != 0.75 ||
		got[1].Phase != "experiment" || got[1].Usage.InputTokens != 300 || got[1].Cost.USD != 3 {
		t.Fatalf("usage by phase = %+v", got)
	}

	if _, ok, err := s.LastEvent(ctx, "u", "step"); ok || err != nil {
		t.Fatalf("LastEvent with none: %v, %v", ok, err)
	}
	for i := range 3 {
		r.Emit(ctx, "step", map[string]int{"n": i})
		r.Emit(ctx, "other", nil)
	}
	ev, ok, err := s.LastEvent(ctx, "u", "step")
	if !ok || err != nil || string(ev.Data) != `{"n":2}` {
		t.Fatalf("LastEvent = %+v, %v, %v; want the third step", ev, ok, err)
	}
}
