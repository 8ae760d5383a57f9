package experiment

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/validate"
)

// Which run's code a run keeps.
//
// mlrc keeps the best measured run. The final answer may name another run
// (keep_run): its code is kept instead when its metric lies within the
// noise band of the best one, where a difference says nothing about which
// code is better (the agent may prefer simpler or more robust code). The
// band is two standard deviations of the metric over seeds when a spread
// is known (Config.Noise: the baseline's re-runs in an earlier validation
// of the same task), and never less than validation's own tolerance for a
// reproduced metric (validate.DefaultTolerance: 1e-4 relative, 1e-6
// absolute). A named run that failed, did not beat the baseline, or lies
// outside the band is not kept, and the reason is recorded.

// Noise is what is known of how much the metric moves with the seed.
type Noise struct {
	SD     float64 `json:"sd"`     // standard deviation of the metric over seeds
	Seeds  int     `json:"seeds"`  // how many seeds it was measured on
	Source string  `json:"source"` // where it comes from, for the report
}

// Band is the noise band around a metric value m.
func (n *Noise) Band(m float64) float64 {
	tol := validate.DefaultTolerance
	floor := math.Max(tol.Absolute, tol.Relative*math.Abs(m))
	if n == nil || !(n.SD > 0) {
		return floor
	}
	return math.Max(floor, 2*n.SD)
}

// describe says how the band is made, for the brief and the report.
func (n *Noise) describe() string {
	tol := validate.DefaultTolerance
	if n == nil || !(n.SD > 0) {
		return fmt.Sprintf("no seed spread is known for this task yet, so the band is validation's tolerance: %g of the metric (at least %g)", tol.Relative, tol.Absolute)
	}
	return fmt.Sprintf("two standard deviations of the metric over seeds: 2 × %.4g = %.4g (%s)", n.SD, 2*n.SD, n.Source)
}

// Keep says which run's code was kept and why.
type Keep struct {
	Run    int     `json:"run"`             // the run whose code was kept
	Best   int     `json:"best"`            // the best measured run
	Named  int     `json:"named,omitempty"` // the run the final answer named; 0 for none
	Band   float64 `json:"band"`
	Reason string  `json:"reason"`
}

// namedRun is the run the final answer named in steps, or 0.
func namedRun(steps []agent.Step) int {
	for i := len(steps) - 1; i >= 0; i-- {
		for _, o := range steps[i].Outcomes {
			if o.Call.Name != "final_answer" {
				continue
			}
			var p finalParams
			if json.Unmarshal(o.Call.Arguments, &p) == nil {
				return p.KeepRun
			}
			return 0
		}
	}
	return 0
}

// keepRun applies the rule: the best run, or the named one within the
// noise band of it. best must have a metric.
func keepRun(tr *Tracker, best RunRecord, named int, noise *Noise) (RunRecord, Keep) {
	band := noise.Band(*best.Metric)
	k := Keep{Run: best.Run, Best: best.Run, Named: named, Band: band}
	m := func(r RunRecord) string { return fmt.Sprintf("%s %.6g", tr.Metric, *r.Metric) }
	switch {
	case named == 0:
		k.Reason = fmt.Sprintf("the best measured run, run %d (%s); the final answer named no run", best.Run, m(best))
		return best, k
	case named == best.Run:
		k.Reason = fmt.Sprintf("run %d (%s), the best measured run, which the final answer named", best.Run, m(best))
		return best, k
	}
	var rec *RunRecord
	for _, r := range tr.Runs() {
		if r.Run == named {
			rec = &r
			break
		}
	}
	switch {
	case rec == nil:
		k.Reason = fmt.Sprintf("the best measured run, run %d (%s); the final answer named run %d, which does not exist", best.Run, m(best), named)
	case rec.Metric == nil:
		k.Reason = fmt.Sprintf("the best measured run, run %d (%s); the final answer named run %d, which failed", best.Run, m(best), named)
	case !better(tr.Goal, *rec.Metric, tr.Baseline):
		k.Reason = fmt.Sprintf("the best measured run, run %d (%s); the final answer named run %d (%s), which does not beat the baseline %.6g", best.Run, m(best), named, m(*rec), tr.Baseline)
	case math.Abs(*rec.Metric-*best.Metric) <= band:
		k.Run = named
		k.Reason = fmt.Sprintf("run %d (%s), as the final answer named: within the noise band ±%.4g of the best run %d (%s); the band is %s", named, m(*rec), band, best.Run, m(best), noise.describe())
		return *rec, k
	default:
		k.Reason = fmt.Sprintf("the best measured run, run %d (%s); the final answer named run %d (%s), %.4g away, outside the noise band ±%.4g (%s)", best.Run, m(best), named, m(*rec), math.Abs(*rec.Metric-*best.Metric), band, noise.describe())
	}
	return best, k
}
