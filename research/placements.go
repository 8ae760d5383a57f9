package research

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/validate"
)

// placements lists where the experiment's runs and the validation's
// re-runs ran, for the report.
func placements(rec *experiment.Record, v *validate.Verdict) []report.Placement {
	var out []report.Placement
	if rec != nil {
		for _, s := range rec.Steps {
			if s.Where != nil {
				out = append(out, reportPlacement(fmt.Sprintf("experiment step %d", s.Step), *s.Where, s.Seconds))
			}
		}
	}
	if v != nil {
		for _, p := range v.Placements {
			out = append(out, reportPlacement(fmt.Sprintf("validation %s seed %d", p.Arm, p.Seed), p.Where, p.Seconds))
		}
	}
	return out
}

func reportPlacement(what string, p sandbox.Placement, seconds float64) report.Placement {
	res := ""
	if p.CPUs > 0 {
		res = fmt.Sprintf("%g CPU, ", p.CPUs)
	}
	if p.Memory > 0 {
		res += fmt.Sprintf("%.1f GiB", float64(p.Memory)/(1<<30))
	}
	if n := len(p.GPUs); n > 0 {
		res += fmt.Sprintf(", %d GPU", n)
	}
	return report.Placement{What: what, Where: p.String(), Seconds: seconds, Resources: res}
}

// WhereSummary is where the re-runs ran, in a few words ("slurm: 6 jobs
// on node1, node2; GPU NVIDIA A100; 90 s of runs"), and their summed wall
// time.
func WhereSummary(ps []validate.Placed) (string, float64) {
	if len(ps) == 0 {
		return "", 0
	}
	var execs, hosts, gpus []string
	jobs := 0
	total := 0.0
	for _, p := range ps {
		execs = appendNew(execs, p.Where.Executor)
		hosts = appendNew(hosts, p.Where.Host)
		for _, g := range p.Where.GPUs {
			gpus = appendNew(gpus, g)
		}
		if p.Where.Job != "" {
			jobs++
		}
		total += p.Seconds
	}
	s := strings.Join(execs, ", ")
	if jobs > 0 {
		s += fmt.Sprintf(": %d jobs", jobs)
	}
	if len(hosts) > 0 {
		s += " on " + strings.Join(hosts, ", ")
	}
	if len(gpus) > 0 {
		s += "; GPUs " + strings.Join(gpus, ", ")
	}
	return s + fmt.Sprintf("; %.0f s of re-runs", total), total
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
