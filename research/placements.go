package research

import (
	"fmt"

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
