package sandbox

import "time"

// Phase is how long one part of a run took, for measuring what the sandbox
// costs around the command (mlrc bench perf prints them). Result.Phases
// lists them in order; together they make up the whole call.
type Phase struct {
	Name string
	Took time.Duration
}

// timeline collects a run's phases: each mark ends the phase running
// since the previous mark (or since start).
type timeline struct {
	last   time.Time
	phases []Phase
}

func startTimeline() *timeline { return &timeline{last: time.Now()} }

// mark ends the current phase and names it.
func (t *timeline) mark(name string) {
	if t == nil {
		return
	}
	now := time.Now()
	t.phases = append(t.phases, Phase{Name: name, Took: now.Sub(t.last)})
	t.last = now
}
