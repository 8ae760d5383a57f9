package experiment

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/snapshot"
	"github.com/mlrc/mlrc/task"
)

func f64(v float64) *float64 { return &v }

// The keep-best rule, branch by branch.
func TestKeepRun(t *testing.T) {
	tr := &Tracker{Goal: task.Maximize, Metric: "accuracy", Baseline: 0.90}
	for _, r := range []RunRecord{
		{Run: 1, Metric: f64(0.950)},
		{Run: 2, Metric: f64(0.9492)}, // 0.0008 below the best
		{Run: 3},                      // failed
		{Run: 4, Metric: f64(0.93)},   // 0.02 below
		{Run: 5, Metric: f64(0.89)},   // below the baseline
	} {
		tr.Add(r)
	}
	best, _ := tr.Best()
	seeds := &Noise{SD: 0.002, Seeds: 3, Source: "the baseline over 3 seeds in run R"}
	for _, tc := range []struct {
		name   string
		named  int
		noise  *Noise
		kept   int
		reason string
	}{
		{"none named", 0, seeds, 1, "named no run"},
		{"best named", 1, seeds, 1, "the best measured run, which the final answer named"},
		{"within the band", 2, seeds, 2, "within the noise band ±0.004"},
		{"outside the band", 4, seeds, 1, "outside the noise band ±0.004"},
		{"no spread known: validation's tolerance", 2, nil, 1, "no seed spread is known"},
		{"failed run", 3, seeds, 1, "which failed"},
		{"below the baseline", 5, &Noise{SD: 0.1}, 1, "does not beat the baseline"},
		{"missing run", 9, seeds, 1, "does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, k := keepRun(tr, best, tc.named, tc.noise)
			if rec.Run != tc.kept || k.Run != tc.kept || k.Best != 1 || k.Named != tc.named {
				t.Errorf("kept run %d (keep %+v), want %d", rec.Run, k, tc.kept)
			}
			if !strings.Contains(k.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", k.Reason, tc.reason)
			}
		})
	}
}

func TestGeneratedWhy(t *testing.T) {
	outputs := []string{"predictions.csv", "out/*.txt"}
	for _, tc := range []struct {
		c    snapshot.Change
		want string
	}{
		{snapshot.Change{Path: "train.py", Size: 3000}, ""},
		{snapshot.Change{Path: "predictions.csv", Size: 40}, "the task's output"},
		{snapshot.Change{Path: "out/pred.txt", Size: 40}, "the task's output"},
		{snapshot.Change{Path: "cache/features.npy", Size: 40}, "data file (.npy)"},
		{snapshot.Change{Path: "submission.CSV", Size: 40}, "data file (.csv)"},
		{snapshot.Change{Path: "weights.py", Size: 2 << 20}, "large file"},
		{snapshot.Change{Path: "notes.md", Size: -1, Status: "D"}, ""},
	} {
		if got := generatedWhy(tc.c, outputs); !strings.HasPrefix(got, tc.want) || (tc.want == "") != (got == "") {
			t.Errorf("%s: %q, want %q", tc.c.Path, got, tc.want)
		}
	}
}

// A run on digits: the final answer names the second, slightly worse run.
// With a seed spread that covers the difference its code is kept and
// exported; without one the best run's is. Either way the diff holds the
// code, not predictions.csv (the task's output) or a data file the run
// wrote, which are listed with their sizes.
func TestKeepNamedRunInARun(t *testing.T) {
	for _, tc := range []struct {
		name  string
		noise *Noise
		kept  int
		model string
	}{
		{"within the band", &Noise{SD: 0.02, Seeds: 3, Source: "test"}, 2, "KNeighborsClassifier"},
		{"no spread known", nil, 1, "SVC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := scripted.New("s", []scripted.Response{
				toolCall("write_file", map[string]any{"path": "train.py", "content": treeFixed + "import numpy as np\nnp.save('feats.npy', train[features].values)\n"}),
				toolCall("run_experiment", nil),
				toolCall("write_file", map[string]any{"path": "train.py", "content": treeKNN}),
				toolCall("run_experiment", nil),
				toolCall("final_answer", map[string]any{"summary": "kNN is simpler", "keep_run": 2}),
			})
			cfg, _ := linearConfig(t, m)
			cfg.Noise = tc.noise
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Best == nil || res.Keep == nil {
				t.Fatalf("no best run: %+v", res)
			}
			if res.Best.Run != tc.kept || res.Keep.Run != tc.kept || res.Keep.Named != 2 {
				t.Fatalf("kept run %d (%+v), want %d", res.Best.Run, res.Keep, tc.kept)
			}
			t.Logf("reason: %s", res.Keep.Reason)
			code, err := os.ReadFile(filepath.Join(res.BestDir, "train.py"))
			if err != nil || !strings.Contains(string(code), tc.model) {
				t.Errorf("best/train.py is not the kept run's code (%v):\n%s", err, code)
			}
			if !strings.Contains(res.Diff, "train.py") || strings.Contains(res.Diff, "b/predictions.csv") || strings.Contains(res.Diff, "b/feats.npy") {
				t.Errorf("the diff holds generated files or lacks the code:\n%s", res.Diff)
			}
			gen := map[string]Generated{}
			for _, g := range res.Generated {
				gen[g.Path] = g
			}
			// A run's snapshot is taken before it runs: run 2's holds what
			// run 1 wrote.
			if tc.kept == 2 {
				if g, ok := gen["feats.npy"]; !ok || g.Bytes < 1797*64 || g.Why != "data file (.npy)" {
					t.Errorf("feats.npy is not listed with its size: %+v", res.Generated)
				}
			}
			if g, ok := gen["predictions.csv"]; ok && (g.Bytes <= 0 || !strings.Contains(g.Why, "output")) {
				t.Errorf("predictions.csv is not listed as the task's output: %+v", g)
			}
			t.Logf("generated: %+v", res.Generated)
			// The brief explains the rule.
			if brief := requestText(m.Requests()[0]); !strings.Contains(brief, "keep_run") || !strings.Contains(brief, "noise band") {
				t.Errorf("the brief does not explain what is kept:\n%s", brief)
			}
		})
	}
}
