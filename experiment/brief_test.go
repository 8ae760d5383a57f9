package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/internal/machine"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// requestText is everything a request says, system prompt included.
func requestText(r llm.Request) string {
	var b strings.Builder
	b.WriteString(r.System)
	for _, m := range r.Messages {
		for _, p := range m.Content {
			b.WriteString(p.Text)
			if p.ToolResult != nil {
				b.WriteString(p.ToolResult.Content)
			}
		}
	}
	return b.String()
}

// The brief tells the agent the machine, the limits and how long the
// baseline took; each run's observation says how long it took against
// its limit. A resumed run's brief names the machine it was set up on.
func TestBriefHasMachineAndLimits(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		toolCall("run_experiment", nil),
		toolCall("final_answer", map[string]any{"summary": "kept the baseline"}),
	})
	cfg, run := linearConfig(t, m)
	cfg.Machine = &machine.Machine{Cores: 3, Memory: 7 << 30, GPUs: []string{"GPU 0: NVIDIA T4 (UUID: GPU-x)"}}
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	reqs := m.Requests()
	brief := requestText(reqs[0])
	for _, want := range []string{
		"Machine: 3 cores, 7 GiB of memory, GPUs: 1 (GPU 0: NVIDIA T4 (UUID: GPU-x))",
		"a run is killed at 5m0s", "the whole research run has 1h0m0s", "memory 2.0 GiB",
		"its run took ",
	} {
		if !strings.Contains(brief, want) {
			t.Errorf("the brief lacks %q:\n%s", want, brief)
		}
	}
	if got := lastText(reqs[1]); !strings.Contains(got, "s of the 5m0s limit") {
		t.Errorf("the run's observation does not give its time against the limit:\n%s", got)
	}
	st, err := load(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if st.machine == nil || st.machine.Cores != 3 || len(st.machine.GPUs) != 1 {
		t.Errorf("the setup step does not keep the machine: %+v", st.machine)
	}
}

// Each run's stdout and stderr are files in the run directory, named in
// its record; the baseline's too.
func TestRunLogsKept(t *testing.T) {
	m := scripted.New("s", []scripted.Response{
		toolCall("write_file", map[string]any{"path": "train.py", "content": treeKNN + "import sys\nprint('to stderr', file=sys.stderr)\nprint('knn done')\n"}),
		toolCall("run_experiment", nil),
		toolCall("final_answer", map[string]any{"summary": "knn"}),
	})
	cfg, run := linearConfig(t, m)
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	rec, err := Read(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Runs) != 1 {
		t.Fatalf("%d runs, want 1", len(rec.Runs))
	}
	for _, c := range []struct {
		got, want, text string
	}{
		{rec.Runs[0].Logs.Stdout, "logs/run-1-stdout.txt", "knn done"},
		{rec.Runs[0].Logs.Stderr, "logs/run-1-stderr.txt", "to stderr"},
		{rec.Baseline.Logs.Stdout, "logs/baseline-stdout.txt", "validation accuracy"},
	} {
		if c.got != c.want {
			t.Errorf("log path %q, want %q", c.got, c.want)
			continue
		}
		b, err := os.ReadFile(filepath.Join(run.Dir, c.got))
		if err != nil || !strings.Contains(string(b), c.text) {
			t.Errorf("%s: %v, lacks %q: %q", c.got, err, c.text, b)
		}
	}
}

// A run that takes more than half of its limit is followed by a warning;
// a quick one is not.
func TestSlowRunWarning(t *testing.T) {
	tk := &task.Task{Limits: task.Limits{RunTimeout: 300 * time.Second}}
	lab := &Lab{Task: tk, Isolation: "test"}
	tr := &Tracker{Goal: task.Maximize, Metric: "accuracy", Baseline: 0.9}
	v := 0.95
	for _, tc := range []struct {
		took time.Duration
		warn bool
	}{{233 * time.Second, true}, {151 * time.Second, true}, {149 * time.Second, false}, {3 * time.Second, false}} {
		rec := RunRecord{Run: 1, OK: true, Metric: &v}
		got := describeRun(lab, tr, rec, &sandbox.Result{Duration: tc.took}, nil, nil, false)
		if strings.Contains(got, "WARNING") != tc.warn {
			t.Errorf("a run of %s (limit 5m): warning %v, want %v:\n%s", tc.took, !tc.warn, tc.warn, got)
		}
		if !strings.Contains(got, "of the 5m0s limit") {
			t.Errorf("a run of %s: no time against the limit:\n%s", tc.took, got)
		}
	}
	if got := summarizeRun(tr, RunRecord{Run: 4, Metric: &v, Seconds: 233.4}, true); got != "run_experiment #4 → accuracy 0.95 (new best) [233 s]" {
		t.Errorf("summary %q does not say how long the run took", got)
	}
	got := describeRun(lab, tr, RunRecord{Run: 2}, &sandbox.Result{Duration: 233 * time.Second}, nil, nil, false)
	if !strings.Contains(got, "233 s, 78% of its 5m0s limit") {
		t.Errorf("the warning does not say how much of the limit was used:\n%s", got)
	}
}
