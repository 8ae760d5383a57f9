package research

import (
	"strings"
	"testing"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/validate"
)

func TestPlacements(t *testing.T) {
	slurm := sandbox.Placement{Executor: "slurm", Job: "12", Host: "node1", CPUs: 1, Memory: 4 << 30, GPUs: []string{"0"}}
	rec := &experiment.Record{Steps: []experiment.StepPoint{{Step: 1}, {Step: 3, Where: &slurm, Seconds: 12.5}}}
	v := &validate.Verdict{Placements: []validate.Placed{
		{Arm: "baseline", Seed: 0, Where: slurm, Seconds: 10},
		{Arm: "best", Seed: 0, Where: sandbox.Placement{Executor: "slurm", Job: "13", Host: "node2"}, Seconds: 20},
	}}
	got := placements(rec, v)
	if len(got) != 3 {
		t.Fatalf("%d placements, want 3 (a step without a run has none): %+v", len(got), got)
	}
	if p := got[0]; p.What != "experiment step 3" || p.Where != "slurm job 12 on node1, 1 GPU (0)" || p.Seconds != 12.5 || p.Resources != "1 CPU, 4.0 GiB, 1 GPU" {
		t.Errorf("step placement %+v", p)
	}
	if p := got[2]; p.What != "validation best seed 0" || !strings.HasPrefix(p.Where, "slurm job 13 on node2") {
		t.Errorf("re-run placement %+v", p)
	}
	s, total := WhereSummary(v.Placements)
	if s != "slurm: 2 jobs on node1, node2; GPUs 0; 30 s of re-runs" || total != 30 {
		t.Errorf("bench summary %q, %v", s, total)
	}
	if s, _ := WhereSummary(nil); s != "" {
		t.Errorf("no placements: %q", s)
	}
}
