package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func createTest(t *testing.T, s *Store, id string) *Run {
	t.Helper()
	r, err := s.CreateRun(context.Background(), NewRun{ID: id, Kind: "test", RunsDir: filepath.Join(t.TempDir(), "runs")})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testCall(hash string, usage llm.Usage, cost llm.Cost) llm.Call {
	return llm.Call{
		Provider:    "openai",
		Model:       "gpt-4o-mini",
		RequestHash: hash,
		Request:     json.RawMessage(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":"<hi> & bye"}]}]}`),
		Response:    json.RawMessage(`{"message":{"role":"assistant","content":[{"type":"text","text":"ok"}]},"stop_reason":"end"}`),
		Usage:       usage,
		Cost:        cost,
		Started:     time.Date(2026, 11, 25, 18, 18, 0, 123456789, time.UTC),
		Latency:     1500*time.Millisecond + 700*time.Microsecond,
	}
}

// readLines returns the JSON lines of the file at path, decoded.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: line %d: %v: %q", path, len(lines)+1, err, sc.Text())
		}
		lines = append(lines, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func readRunFile(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("run.json: %v", err)
	}
	return m
}

// callSteps maps each call's seq to the seq of the step it is linked to, 0
// for none.
func callSteps(t *testing.T, s *Store, runID string) map[int64]int64 {
	t.Helper()
	rows, err := s.db.Query(`SELECT c.seq, COALESCE(st.seq, 0) FROM llm_calls c
		LEFT JOIN steps st ON st.id = c.step_id WHERE c.run_id = ?`, runID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[int64]int64{}
	for rows.Next() {
		var c, st int64
		if err := rows.Scan(&c, &st); err != nil {
			t.Fatal(err)
		}
		m[c] = st
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestRunLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	runsDir := filepath.Join(t.TempDir(), "runs")
	run, err := s.CreateRun(ctx, NewRun{Kind: "experiment", Model: "openai/gpt-4o-mini",
		Config: map[string]any{"seed": 1, "task": "digits"}, RunsDir: runsDir})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\d{8}-\d{6}-[0-9a-f]{6}$`).MatchString(run.ID) {
		t.Errorf("generated id %q, want like 20261125-181800-3fa2c1", run.ID)
	}
	if got, want := run.Dir, filepath.Join(runsDir, run.ID); got != want {
		t.Errorf("Dir = %s, want %s", got, want)
	}
	rf := readRunFile(t, run.Dir)
	if rf["id"] != run.ID || rf["kind"] != "experiment" || rf["model"] != "openai/gpt-4o-mini" || rf["status"] != StatusRunning {
		t.Errorf("run.json = %v, want id, kind, model and status running", rf)
	}
	if got, want := fmt.Sprint(rf["config"]), "map[seed:1 task:digits]"; got != want {
		t.Errorf("run.json config = %s, want %s", got, want)
	}

	if err := run.BeginPhase(ctx, "experiment"); err != nil {
		t.Fatal(err)
	}
	st1, err := run.BeginStep(ctx, "experiment", "edit", map[string]string{"file": "train.py"})
	if err != nil {
		t.Fatal(err)
	}
	calls := []llm.Call{
		testCall("h1", llm.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 5, CacheWriteTokens: 1}, llm.Cost{USD: 0.01}),
		{Provider: "openai", Model: "gpt-4o-mini", RequestHash: "h2", Request: json.RawMessage(`{}`),
			Error: "429 too many requests", Started: time.Date(2026, 11, 25, 18, 18, 1, 0, time.UTC)},
	}
	for _, c := range calls {
		if err := run.RecordCall(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st1.End(ctx, StatusDone, map[string]bool{"ok": true}); err != nil {
		t.Fatal(err)
	}
	st2, err := run.BeginStep(ctx, "", "run", nil)
	if err != nil {
		t.Fatal(err)
	}
	c3 := testCall("h3", llm.Usage{InputTokens: 10, OutputTokens: 1}, llm.Cost{Unknown: 1})
	c3.Provider = "ollama"
	if err := run.RecordCall(ctx, c3); err != nil {
		t.Fatal(err)
	}
	if err := st2.End(ctx, StatusFailed, nil); err != nil {
		t.Fatal(err)
	}
	c4 := testCall("h4", llm.Usage{InputTokens: 1000, OutputTokens: 200}, llm.Cost{USD: 0.1})
	if err := run.RecordCall(ctx, c4); err != nil { // no step open
		t.Fatal(err)
	}
	calls = append(calls, c3, c4)

	if err := run.Emit(ctx, "phase_started", map[string]string{"phase": "experiment"}); err != nil {
		t.Fatal(err)
	}
	if err := run.Emit(ctx, "tick", nil); err != nil {
		t.Fatal(err)
	}
	report := []byte("# Report\n\naccuracy 0.97\n")
	if err := os.MkdirAll(filepath.Join(run.Dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(run.Dir, "out", "report.md"), report, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run.AddArtifact(ctx, "report", "out/report.md", "report"); err != nil {
		t.Fatal(err)
	}
	if err := run.EndPhase(ctx, "experiment", StatusDone); err != nil {
		t.Fatal(err)
	}
	if err := run.SetStatus(ctx, StatusDone, ""); err != nil {
		t.Fatal(err)
	}

	sum, err := s.Summary(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := sum.Status, StatusDone; got != want {
		t.Errorf("status = %s, want %s", got, want)
	}
	if sum.Finished.IsZero() || sum.Finished.Before(sum.Created) {
		t.Errorf("finished = %v, want a time after created %v", sum.Finished, sum.Created)
	}
	if got, want := sum.Calls, int64(4); got != want {
		t.Errorf("calls = %d, want %d", got, want)
	}
	if got, want := sum.FailedCalls, int64(1); got != want {
		t.Errorf("failed calls = %d, want %d", got, want)
	}
	if got, want := sum.Usage, (llm.Usage{InputTokens: 1110, OutputTokens: 221, CacheReadTokens: 5, CacheWriteTokens: 1}); got != want {
		t.Errorf("usage = %+v, want %+v", got, want)
	}
	if got, want := sum.Cost.USD, 0.11; math.Abs(got-want) > 1e-12 {
		t.Errorf("cost = %v, want %v", got, want)
	}
	if got, want := sum.Cost.Unknown, 1; got != want {
		t.Errorf("calls at unknown price = %d, want %d", got, want)
	}
	if got, want := len(sum.Phases), 1; got != want {
		t.Fatalf("%d phases, want %d", got, want)
	}
	if p := sum.Phases[0]; p.Name != "experiment" || p.Status != StatusDone || p.Ended.IsZero() {
		t.Errorf("phase = %+v, want experiment done with an end time", p)
	}
	if got, want := len(sum.Steps), 2; got != want {
		t.Fatalf("%d steps, want %d", got, want)
	}
	wantSteps := []StepInfo{
		{Seq: 1, Phase: "experiment", Kind: "edit", Status: StatusDone, Input: json.RawMessage(`{"file":"train.py"}`), Output: json.RawMessage(`{"ok":true}`)},
		{Seq: 2, Kind: "run", Status: StatusFailed},
	}
	for i, want := range wantSteps {
		got := sum.Steps[i]
		if got.Seq != want.Seq || got.Phase != want.Phase || got.Kind != want.Kind || got.Status != want.Status ||
			string(got.Input) != string(want.Input) || string(got.Output) != string(want.Output) || got.Ended.IsZero() {
			t.Errorf("step %d = %+v, want %+v with an end time", i, got, want)
		}
	}
	sha := sha256.Sum256(report)
	wantArt := ArtifactInfo{Name: "report", Path: "out/report.md", Kind: "report", SHA256: hex.EncodeToString(sha[:]), Size: int64(len(report))}
	if len(sum.Artifacts) != 1 {
		t.Fatalf("artifacts = %+v, want one", sum.Artifacts)
	}
	if got := sum.Artifacts[0]; got.Created.IsZero() {
		t.Errorf("artifact has no creation time")
	} else if got.Created = (time.Time{}); got != wantArt {
		t.Errorf("artifact = %+v, want %+v", got, wantArt)
	}

	// Calls come back in order, as recorded, with a seq.
	got, err := run.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(calls) {
		t.Fatalf("%d calls, want %d", len(got), len(calls))
	}
	for i, want := range calls {
		want.Seq = int64(i + 1)
		want.Latency = want.Latency.Truncate(time.Millisecond)
		g := got[i]
		if g.Seq != want.Seq || g.Provider != want.Provider || g.Model != want.Model || g.RequestHash != want.RequestHash ||
			string(g.Request) != string(want.Request) || string(g.Response) != string(want.Response) || g.Error != want.Error ||
			g.Usage != want.Usage || g.Cost != want.Cost || !g.Started.Equal(want.Started) || g.Latency != want.Latency {
			t.Errorf("call %d = %+v\nwant %+v", i, g, want)
		}
	}
	if got[1].Response != nil {
		t.Errorf("failed call's response = %s, want nil", got[1].Response)
	}
	if got, want := callSteps(t, s, run.ID), map[int64]int64{1: 1, 2: 1, 3: 2, 4: 0}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("call → step = %v, want %v", got, want)
	}
	for i, want := range []int64{1, 1, 2, 0} {
		if got[i].Step != want {
			t.Errorf("Calls()[%d].Step = %d, want %d", i, got[i].Step, want)
		}
	}

	// The human-readable copies.
	lines := readLines(t, filepath.Join(run.Dir, "llm-calls.jsonl"))
	if len(lines) != 4 {
		t.Fatalf("llm-calls.jsonl has %d lines, want 4", len(lines))
	}
	for i, l := range lines {
		wantStep := map[int]any{0: 1.0, 1: 1.0, 2: 2.0, 3: nil}[i]
		if l["seq"] != float64(i+1) || l["step"] != wantStep || l["request_hash"] != calls[i].RequestHash {
			t.Errorf("llm-calls.jsonl line %d = %v, want seq %d, step %v, hash %s", i+1, l, i+1, wantStep, calls[i].RequestHash)
		}
	}
	raw, err := os.ReadFile(filepath.Join(run.Dir, "llm-calls.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "<hi> & bye") {
		t.Errorf("llm-calls.jsonl escapes HTML; want text as written")
	}
	evLines := readLines(t, filepath.Join(run.Dir, "events.jsonl"))
	if len(evLines) != 2 || evLines[0]["type"] != "phase_started" || evLines[1]["type"] != "tick" || evLines[1]["seq"] != 2.0 {
		t.Errorf("events.jsonl = %v, want phase_started then tick", evLines)
	}
	events, err := run.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 2 || events[0].Seq != 1 || string(events[0].Data) != `{"phase":"experiment"}` || events[1].Data != nil {
		t.Errorf("events = %+v, want 2 with data then none", events)
	}
	rf = readRunFile(t, run.Dir)
	if rf["status"] != StatusDone || rf["finished"] == nil {
		t.Errorf("run.json after SetStatus = %v, want status done and a finish time", rf)
	}
	if entries, _ := filepath.Glob(filepath.Join(run.Dir, ".*.tmp")); len(entries) != 0 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestStepEnd(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run := createTest(t, s, "r")
	st, err := run.BeginStep(ctx, "", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.End(ctx, StatusRunning, nil); err == nil {
		t.Error("End with status running: got nil error")
	}
	if err := st.End(ctx, StatusDone, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.End(ctx, StatusFailed, nil); err == nil || !strings.Contains(err.Error(), "already ended") {
		t.Errorf("second End: err = %v, want already ended", err)
	}
	if err := run.SetStatus(ctx, "finished", ""); err == nil {
		t.Error("SetStatus finished: got nil error")
	}
	if err := run.EndPhase(ctx, "never", StatusDone); !errors.Is(err, ErrNotFound) {
		t.Errorf("EndPhase of a phase never begun: err = %v, want ErrNotFound", err)
	}
	if _, err := run.BeginStep(ctx, "", "k", json.RawMessage(`{bad`)); err == nil {
		t.Error("BeginStep with invalid JSON input: got nil error")
	}
}

func TestSetStatusResume(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run := createTest(t, s, "r")
	if err := run.SetStatus(ctx, StatusFailed, "out of budget"); err != nil {
		t.Fatal(err)
	}
	info, err := run.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusFailed || info.Error != "out of budget" || info.Finished.IsZero() {
		t.Errorf("info = %+v, want failed, the error, a finish time", info)
	}
	if rf := readRunFile(t, run.Dir); rf["error"] != "out of budget" {
		t.Errorf("run.json error = %v, want out of budget", rf["error"])
	}
	if err := run.SetStatus(ctx, StatusRunning, ""); err != nil {
		t.Fatal(err)
	}
	if info, err = run.Info(ctx); err != nil {
		t.Fatal(err)
	}
	if info.Status != StatusRunning || info.Error != "" || !info.Finished.IsZero() {
		t.Errorf("resumed info = %+v, want running, no error, no finish time", info)
	}
}

func TestCreateRunErrors(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	runsDir := t.TempDir()
	if _, err := s.CreateRun(ctx, NewRun{ID: "dup", Kind: "test", RunsDir: runsDir}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		nr   NewRun
	}{
		{"no kind", NewRun{RunsDir: runsDir}},
		{"no runs dir", NewRun{Kind: "test"}},
		{"id escapes", NewRun{ID: "../x", Kind: "test", RunsDir: runsDir}},
		{"id taken", NewRun{ID: "dup", Kind: "test", RunsDir: runsDir}},
		{"id taken elsewhere", NewRun{ID: "dup", Kind: "test", RunsDir: t.TempDir()}},
		{"config not JSON", NewRun{Kind: "test", RunsDir: runsDir, Config: func() {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.CreateRun(ctx, tt.nr); err == nil {
				t.Fatal("CreateRun: got nil error")
			}
		})
	}
	// A failed create leaves no directory behind.
	entries, err := os.ReadDir(runsDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "dup" {
		t.Errorf("runs dir holds %v, want only dup", entries)
	}
}

func TestRunLookup(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, id := range []string{"20260101-000000-aaaaaa", "20260101-000000-aaaabb", "20260102-000000-cccccc", "abc", "abcd"} {
		createTest(t, s, id)
	}
	tests := []struct {
		ref     string
		want    string
		wantErr error
	}{
		{ref: "20260102-000000-cccccc", want: "20260102-000000-cccccc"},
		{ref: "20260102", want: "20260102-000000-cccccc"},
		{ref: "20260101-000000-aaaab", want: "20260101-000000-aaaabb"},
		{ref: "abc", want: "abc"}, // exact beats being a prefix of abcd
		{ref: "abcd", want: "abcd"},
		{ref: "20260101", wantErr: ErrAmbiguous},
		{ref: "2026", wantErr: ErrAmbiguous},
		{ref: "ab%", wantErr: ErrNotFound},
		{ref: "zzz", wantErr: ErrNotFound},
		{ref: "", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			r, err := s.Run(ctx, tt.ref)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Run(%q): err = %v, want %v", tt.ref, err, tt.wantErr)
				}
				if tt.ref != "" && !strings.Contains(err.Error(), tt.ref) {
					t.Errorf("error %q does not name %q", err, tt.ref)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run(%q): %v", tt.ref, err)
			}
			if r.ID != tt.want {
				t.Errorf("Run(%q).ID = %s, want %s", tt.ref, r.ID, tt.want)
			}
			if _, err := s.Summary(ctx, tt.ref); err != nil {
				t.Errorf("Summary(%q): %v", tt.ref, err)
			}
		})
	}
	_, err := s.Run(ctx, "20260101")
	for _, id := range []string{"20260101-000000-aaaaaa", "20260101-000000-aaaabb"} {
		if !strings.Contains(err.Error(), id) {
			t.Errorf("ambiguous error %q does not list %s", err, id)
		}
	}
}

func TestRunsNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	var want []string
	for _, id := range []string{"b", "c", "a"} {
		createTest(t, s, id)
		want = append([]string{id}, want...)
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range runs {
		got = append(got, r.ID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Runs = %v, want %v", got, want)
	}
}

func TestBeginPhaseIdempotent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run := createTest(t, s, "r")
	if err := run.BeginPhase(ctx, "idea"); err != nil {
		t.Fatal(err)
	}
	first, err := run.Phases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := run.EndPhase(ctx, "idea", StatusFailed); err != nil {
		t.Fatal(err)
	}
	// Resume: a new handle on the same run begins the phase again.
	again, err := s.Run(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := again.BeginPhase(ctx, "idea"); err != nil {
			t.Fatal(err)
		}
	}
	phases, err := again.Phases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 1 {
		t.Fatalf("phases = %+v, want one", phases)
	}
	if p := phases[0]; p.Status != StatusRunning || !p.Ended.IsZero() || !p.Started.Equal(first[0].Started) {
		t.Errorf("phase = %+v, want running, not ended, started %v", p, first[0].Started)
	}
	// Steps of the resumed run continue the numbering.
	st, err := again.BeginStep(ctx, "idea", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.BeginStep(ctx, "idea", "k", nil); err != nil {
		t.Fatal(err)
	}
	if got, want := st.Seq(), int64(1); got != want {
		t.Errorf("first step seq = %d, want %d", got, want)
	}
	steps, err := again.Steps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 2 || steps[1].Seq != 2 {
		t.Errorf("steps = %+v, want seqs 1, 2", steps)
	}
}

func TestCurrentStep(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	run := createTest(t, s, "r")
	a, err := run.BeginStep(ctx, "", "a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := run.BeginStep(ctx, "", "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := func(r llm.Recorder) {
		t.Helper()
		if err := r.RecordCall(ctx, testCall("h", llm.Usage{}, llm.Cost{})); err != nil {
			t.Fatal(err)
		}
	}
	rec(run)          // call 1: two steps open, no current step
	rec(a.Recorder()) // call 2: a
	rec(b.Recorder()) // call 3: b
	if err := a.End(ctx, StatusDone, nil); err != nil {
		t.Fatal(err)
	}
	rec(run) // call 4: b is the only open step
	if err := b.End(ctx, StatusDone, nil); err != nil {
		t.Fatal(err)
	}
	rec(run)          // call 5: none open
	rec(a.Recorder()) // call 6: a, though ended
	want := map[int64]int64{1: 0, 2: 1, 3: 2, 4: 2, 5: 0, 6: 1}
	if got := callSteps(t, s, run.ID); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("call → step = %v, want %v", got, want)
	}
}

// TestConcurrentWriters writes from 8 goroutines through two Stores on one
// file, so that writers queue on the busy timeout both within a connection
// pool and across pools, as separate processes would.
func TestConcurrentWriters(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mlrc.db")
	var stores [2]*Store
	for i := range stores {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	first, err := stores[0].CreateRun(ctx, NewRun{ID: "shared", Kind: "test", RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	second, err := stores[1].Run(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	runs := [2]*Run{first, second}

	const workers, perWorker = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run := runs[w%2]
			for i := range perWorker {
				st, err := run.BeginStep(ctx, "search", "try", map[string]int{"worker": w, "i": i})
				if err != nil {
					errs <- err
					return
				}
				c := testCall(fmt.Sprintf("w%d-%d", w, i), llm.Usage{InputTokens: 1, OutputTokens: 2}, llm.Cost{USD: 0.5})
				if err := st.Recorder().RecordCall(ctx, c); err != nil {
					errs <- err
					return
				}
				if err := run.Emit(ctx, "step", map[string]int64{"seq": st.Seq()}); err != nil {
					errs <- err
					return
				}
				if err := st.End(ctx, StatusDone, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	const n = workers * perWorker
	steps, err := first.Steps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != n {
		t.Fatalf("%d steps, want %d", len(steps), n)
	}
	for i, st := range steps {
		if st.Seq != int64(i+1) || st.Status != StatusDone {
			t.Fatalf("step %d: seq %d status %s, want seq %d done", i, st.Seq, st.Status, i+1)
		}
	}
	// Every call is linked to its own step, one call per step.
	perStep := map[int64]int{}
	for _, stepSeq := range callSteps(t, stores[0], "shared") {
		perStep[stepSeq]++
	}
	if len(perStep) != n {
		t.Errorf("calls linked to %d distinct steps, want %d", len(perStep), n)
	}
	for seq, k := range perStep {
		if seq == 0 || k != 1 {
			t.Errorf("step %d has %d calls, want 1", seq, k)
		}
	}
	sum, err := stores[1].Summary(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Calls != n || sum.Usage.InputTokens != n || sum.Usage.OutputTokens != 2*n || sum.Cost.USD != 0.5*n {
		t.Errorf("summary: %d calls, usage %+v, cost %v; want %d calls, %d/%d tokens, $%v",
			sum.Calls, sum.Usage, sum.Cost.USD, n, n, 2*n, 0.5*n)
	}
	events, err := first.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != n || events[n-1].Seq != n {
		t.Errorf("%d events, last seq %d; want %d", len(events), events[len(events)-1].Seq, n)
	}
	if got := len(readLines(t, filepath.Join(first.Dir, "llm-calls.jsonl"))); got != n {
		t.Errorf("llm-calls.jsonl has %d lines, want %d", got, n)
	}
	if got := len(readLines(t, filepath.Join(first.Dir, "events.jsonl"))); got != n {
		t.Errorf("events.jsonl has %d lines, want %d", got, n)
	}
}

var _ llm.Recorder = (*Run)(nil)

// integrityCheck runs PRAGMA integrity_check on db.
func integrityCheck(t *testing.T, db *sql.DB) {
	t.Helper()
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if res != "ok" {
		t.Fatalf("integrity_check = %q, want ok", res)
	}
}

func TestAbandonSteps(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run, err := s.CreateRun(ctx, NewRun{Kind: "experiment", RunsDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := run.BeginStep(ctx, "p", "agent", nil)
	run.BeginStep(ctx, "p", "agent", nil)
	run.BeginStep(ctx, "p", "agent", nil)
	a.End(ctx, StatusDone, nil)
	reopened, _ := s.Run(ctx, run.ID)
	seqs, err := reopened.AbandonSteps(ctx)
	if err != nil || fmt.Sprint(seqs) != "[2 3]" {
		t.Fatalf("abandoned %v, %v; want [2 3]", seqs, err)
	}
	steps, _ := reopened.Steps(ctx)
	for _, st := range steps {
		want := map[int64]string{1: StatusDone, 2: StatusStopped, 3: StatusStopped}[st.Seq]
		if st.Status != want {
			t.Errorf("step %d status %s, want %s", st.Seq, st.Status, want)
		}
	}
	if seqs, _ := reopened.AbandonSteps(ctx); len(seqs) != 0 {
		t.Errorf("second abandon = %v", seqs)
	}
}
