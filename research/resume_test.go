package research

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/store"
)

// reusable picks the answers a resume may reuse: those of steps cut off and
// of a phase cut off and redone from scratch, the last copy of each; not
// those of failed steps or phases.
func TestReusable(t *testing.T) {
	ok := json.RawMessage(`{}`)
	call := func(seq, step, replayOf int64) llm.Call {
		return llm.Call{Seq: seq, Step: step, ReplayOf: replayOf, Response: ok}
	}
	failed := llm.Call{Seq: 9, Step: 6} // no response
	steps := []store.StepInfo{
		{Seq: 1, Phase: "idea", Status: store.StatusDone},
		{Seq: 2, Phase: "experiment", Status: store.StatusDone},
		{Seq: 3, Phase: "experiment", Status: store.StatusStopped}, // killed once
		{Seq: 4, Phase: "experiment", Status: store.StatusStopped}, // killed again, reusing 3's answer
		{Seq: 5, Phase: "experiment", Status: store.StatusFailed},  // its answer may be what failed
		{Seq: 6, Phase: "experiment", Status: store.StatusStopped},
	}
	calls := []llm.Call{
		call(1, 1, 0),
		call(2, 2, 0),
		call(3, 3, 0),
		call(4, 4, 3), // reuses 3: 4 is the copy to reuse
		call(5, 4, 0), // a live call after it in the same step
		call(6, 5, 0),
		call(7, 0, 0), // linked to no step: cannot tell
		failed,
	}
	tests := []struct {
		name   string
		phases []store.PhaseInfo
		want   string
	}{
		{"idea done", []store.PhaseInfo{{Name: "idea", Status: store.StatusDone}, {Name: "experiment", Status: store.StatusRunning}}, "[4 5]"},
		{"idea cut off", []store.PhaseInfo{{Name: "idea", Status: store.StatusRunning}}, "[1 4 5]"},
		{"idea failed", []store.PhaseInfo{{Name: "idea", Status: store.StatusFailed}}, "[4 5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, c := range reusable(steps, tt.phases, calls) {
				got = append(got, c.Seq)
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("reusable = %v, want %s", got, tt.want)
			}
		})
	}
}
