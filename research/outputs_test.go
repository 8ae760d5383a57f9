package research

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/validate"
)

// The seed spread comes from the latest earlier validation of the same
// task, never from another task's or the run's own.
func TestPriorNoise(t *testing.T) {
	runs := t.TempDir()
	put := func(id, hash string, values []float64, sd float64, age time.Duration) {
		dir := filepath.Join(runs, id)
		os.MkdirAll(dir, 0o755)
		b, _ := json.Marshal(map[string]string{"task_hash": hash})
		os.WriteFile(filepath.Join(dir, "integrity.json"), b, 0o644)
		b, _ = json.Marshal(validate.Verdict{Baseline: validate.Arm{Values: values, SD: sd}})
		path := filepath.Join(dir, "verdict.json")
		os.WriteFile(path, b, 0o644)
		when := time.Now().Add(-age)
		os.Chtimes(path, when, when)
	}
	put("old", "h1", []float64{0.9, 0.91, 0.92}, 0.01, 2*time.Hour)
	put("new", "h1", []float64{0.9, 0.905, 0.91}, 0.005, time.Hour)
	put("other", "h2", []float64{0.5, 0.7}, 0.14, 0)
	put("one-seed", "h1", []float64{0.9}, 0, 0)
	put("self", "h1", []float64{0.1, 0.9}, 0.56, 0)
	n := priorNoise(filepath.Join(runs, "self"), "h1")
	if n == nil || n.SD != 0.005 || n.Seeds != 3 || !strings.Contains(n.Source, "run new") {
		t.Errorf("noise = %+v, want the newest earlier run of the task (SD 0.005, 3 seeds, run new)", n)
	}
	if n := priorNoise(filepath.Join(runs, "self"), "h3"); n != nil {
		t.Errorf("a task never validated has noise %+v", n)
	}
}

func TestReportOutputs(t *testing.T) {
	d := &report.Data{}
	res := &experiment.Result{
		Generated: []experiment.Generated{{Path: "submission.csv", Bytes: 120000, Why: "the task's output, read by the evaluator"}},
		Keep:      &experiment.Keep{Run: 2, Best: 3, Named: 2, Reason: "run 2, within the band"},
	}
	rec := &experiment.Record{
		Baseline: &experiment.RunRecord{Logs: experiment.LogPaths("baseline")},
		Runs:     []experiment.RunRecord{{Run: 1}, {Run: 2, Logs: experiment.LogFiles{Stderr: "logs/run-2-stderr.txt"}}},
	}
	reportOutputs(d, res, rec)
	if len(d.Generated) != 1 || d.Generated[0].Bytes != 120000 || d.Kept == nil || d.Kept.Run != 2 {
		t.Errorf("generated %+v, kept %+v", d.Generated, d.Kept)
	}
	if len(d.Logs) != 2 || d.Logs[0].Name != "baseline" || d.Logs[1].Name != "run-2" || d.Logs[1].Stdout != "" {
		t.Errorf("logs = %+v, want the baseline's and run 2's (run 1 kept none)", d.Logs)
	}
}
