package research

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/validate"
)

// priorNoise is the seed spread of the task's baseline from the latest
// earlier validation of the same task (same task hash) among the runs
// beside runDir: the standard deviation of the baseline's re-runs. Nil
// when no earlier run re-ran it on two seeds or more.
func priorNoise(runDir, taskHash string) *experiment.Noise {
	dirs, _ := filepath.Glob(filepath.Join(filepath.Dir(runDir), "*", "verdict.json"))
	var best *experiment.Noise
	var newest int64
	for _, path := range dirs {
		dir := filepath.Dir(path)
		if dir == filepath.Clean(runDir) {
			continue
		}
		var integrity struct {
			TaskHash string `json:"task_hash"`
		}
		b, err := os.ReadFile(filepath.Join(dir, "integrity.json"))
		if err != nil || json.Unmarshal(b, &integrity) != nil || integrity.TaskHash != taskHash {
			continue
		}
		var v validate.Verdict
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if b, err = os.ReadFile(path); err != nil || json.Unmarshal(b, &v) != nil {
			continue
		}
		if n := len(v.Baseline.Values); n >= 2 && v.Baseline.SD > 0 && fi.ModTime().UnixNano() > newest {
			newest = fi.ModTime().UnixNano()
			best = &experiment.Noise{SD: v.Baseline.SD, Seeds: n,
				Source: fmt.Sprintf("the baseline's standard deviation over %d seeds in run %s", n, filepath.Base(dir))}
		}
	}
	return best
}

// reportOutputs fills in what the report says of the experiment's
// outputs: the files left out of the diff, the code kept and why, and
// each run's output files.
func reportOutputs(d *report.Data, res *experiment.Result, rec *experiment.Record) {
	if res != nil {
		for _, g := range res.Generated {
			d.Generated = append(d.Generated, report.Generated{Path: g.Path, Bytes: g.Bytes, Why: g.Why})
		}
		if res.Keep != nil {
			d.Kept = &report.Kept{Run: res.Keep.Run, Reason: res.Keep.Reason}
		}
	}
	if rec == nil {
		return
	}
	add := func(l experiment.LogFiles) {
		if l.Stdout == "" && l.Stderr == "" {
			return
		}
		name := strings.TrimSuffix(filepath.Base(l.Stdout), "-stdout.txt")
		if l.Stdout == "" {
			name = strings.TrimSuffix(filepath.Base(l.Stderr), "-stderr.txt")
		}
		d.Logs = append(d.Logs, report.RunLogs{Name: name, Stdout: l.Stdout, Stderr: l.Stderr})
	}
	if rec.Baseline != nil {
		add(rec.Baseline.Logs)
	}
	for _, r := range rec.Runs {
		add(r.Logs)
	}
}
