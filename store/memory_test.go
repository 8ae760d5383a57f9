package store

import (
	"context"
	"path/filepath"
	"testing"
)

func TestMemory(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := func(x float64) *float64 { return &x }
	entries := []Memory{
		{Task: "digits", Fingerprint: "aa", RunID: "r1", Idea: "SVM", Changes: "train.py +2 -1", Metric: "accuracy", Goal: "maximize",
			Baseline: f(0.97), Best: f(0.99), Relative: f(0.66), Verdict: "validated"},
		{Task: "digits", Fingerprint: "bb", RunID: "r2", Idea: "kNN", Metric: "accuracy", Goal: "maximize", Baseline: f(0.97), Verdict: "no run beat the baseline"},
		{Task: "semrel", Fingerprint: "cc", RunID: "r3", Idea: "fusion", Metric: "spearman", Goal: "maximize", Verdict: "stopped in validation"},
	}
	for _, m := range entries {
		if err := s.Remember(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	// The same run and idea again (a resumed run that ended): replaced.
	again := entries[0]
	again.Verdict = "validated at last"
	if err := s.Remember(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Memories(ctx, "digits", "aa"); len(got) != 1 || got[0].Verdict != "validated at last" {
		t.Errorf("a run's entry for an idea was not replaced: %+v", got)
	}
	entries[0] = again
	if err := s.Remember(ctx, Memory{Task: "digits"}); err == nil {
		t.Errorf("an entry without a fingerprint was stored")
	}
	for _, tt := range []struct {
		task, fp string
		want     int
	}{{"", "", 3}, {"digits", "", 2}, {"digits", "aa", 1}, {"digits", "cc", 0}, {"none", "", 0}} {
		got, err := s.Memories(ctx, tt.task, tt.fp)
		if err != nil || len(got) != tt.want {
			t.Errorf("Memories(%q, %q) = %d entries, %v; want %d", tt.task, tt.fp, len(got), err, tt.want)
		}
	}
	got, _ := s.Memories(ctx, "digits", "aa")
	m := got[0]
	if m.Idea != "SVM" || m.Changes != "train.py +2 -1" || *m.Best != 0.99 || *m.Relative != 0.66 || m.Verdict != "validated at last" || m.Created.IsZero() {
		t.Errorf("entry read back = %+v", m)
	}
	got, _ = s.Memories(ctx, "digits", "bb")
	if got[0].Best != nil || got[0].Relative != nil {
		t.Errorf("missing numbers read back as %v, %v", got[0].Best, got[0].Relative)
	}
	if n, err := s.ForgetMemories(ctx, "digits"); err != nil || n != 2 {
		t.Errorf("forget digits: %d, %v", n, err)
	}
	if got, _ := s.Memories(ctx, "", ""); len(got) != 1 || got[0].Task != "semrel" {
		t.Errorf("after forgetting digits: %+v", got)
	}
	if n, _ := s.ForgetMemories(ctx, ""); n != 1 {
		t.Errorf("forget all: %d", n)
	}
}
