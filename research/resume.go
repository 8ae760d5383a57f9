package research

import (
	"context"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/replay"
	"github.com/mlrc/mlrc/store"
)

// Resume prepares a run that is continued: steps a killed process left
// open are marked stopped, what the run has spent is read back into the
// meter, and the answers it may reuse (see reusable) are returned, so that
// no call already made is sent again.
func Resume(ctx context.Context, run *store.Run, meter *llm.Meter) (*replay.Reuse, error) {
	if _, err := run.AbandonSteps(ctx); err != nil {
		return nil, err
	}
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	phases, err := run.Phases(ctx)
	if err != nil {
		return nil, err
	}
	calls, err := run.Calls(ctx)
	if err != nil {
		return nil, err
	}
	var usage llm.Usage
	var cost llm.Cost
	sent := 0
	for _, c := range calls {
		usage, cost = usage.Add(c.Usage), cost.Add(c.Cost)
		if c.ReplayOf == 0 {
			sent++
		}
	}
	meter.Restore(usage, cost, sent)
	return replay.NewReuse(reusable(steps, phases, calls)), nil
}

// redoPhases are the phases a resumed run starts again from their beginning
// when they did not end done: their steps that did end done are redone too.
var redoPhases = map[string]bool{"idea": true}

// reusable returns the answers a resumed run may reuse, in order: the
// successful calls of the steps that were cut off (killed, or stopped by an
// interrupt), and of every step of a phase that was cut off and starts again
// from scratch, that no later call has reused yet. A reused answer is
// recorded again with the step that used it (ReplayOf); that copy, not the
// first, is the one to reuse should that step be cut off as well. Failed
// steps and phases are left out: their answers may be what failed, and a
// resume asks again.
func reusable(steps []store.StepInfo, phases []store.PhaseInfo, calls []llm.Call) []llm.Call {
	redo := map[string]bool{}
	for _, p := range phases {
		if redoPhases[p.Name] && (p.Status == store.StatusRunning || p.Status == store.StatusStopped) {
			redo[p.Name] = true
		}
	}
	open := map[int64]bool{}
	for _, s := range steps {
		if s.Status == store.StatusStopped || s.Status == store.StatusRunning || redo[s.Phase] {
			open[s.Seq] = true
		}
	}
	reused := map[int64]bool{}
	for _, c := range calls {
		if c.ReplayOf != 0 {
			reused[c.ReplayOf] = true
		}
	}
	var out []llm.Call
	for _, c := range calls {
		if c.Step != 0 && open[c.Step] && c.Response != nil && !reused[c.Seq] {
			out = append(out, c)
		}
	}
	return out
}
