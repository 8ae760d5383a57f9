// Package gate asks a person at a run's human gates through the run store,
// so that any process can answer: the terminal that started the run, the web
// UI (mlrc serve), an MCP server. The first answer wins (store.AnswerGate)
// and the other side is told.
//
// Human implements experiment.Human (approve the plan, checkpoints, the
// final answer, the agent's questions) and idea.Chooser (pick an idea). With
// a Console it asks on the terminal too; without one, or once the terminal
// has closed (nohup, CI), it waits for an answer from elsewhere.
package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/store"
)

// MaxText bounds guidance and feedback, in bytes.
const MaxText = 8000

// Pick is the answer at a pick_idea gate: the index of the chosen idea in
// the ranking (the gate's options), or new ideas with feedback.
type Pick struct {
	Pick       int        `json:"pick"`
	Regenerate bool       `json:"regenerate,omitempty"`
	Feedback   string     `json:"feedback,omitempty"`
	Edited     *idea.Idea `json:"edited,omitempty"`
}

// Check validates an answer to g and returns it in its canonical form: the
// JSON of Pick for pick_idea, of experiment.Answer for the other kinds. The
// error says what is wrong, for the person who answered.
func Check(g store.Gate, raw json.RawMessage) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if g.Kind == store.GatePickIdea {
		var p Pick
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("an answer to pick_idea is {\"pick\": N} or {\"regenerate\": true, \"feedback\": \"…\"}: %v", err)
		}
		var opts []json.RawMessage
		json.Unmarshal(g.Options, &opts)
		switch {
		case len(p.Feedback) > MaxText:
			return nil, fmt.Errorf("feedback is %d bytes; at most %d", len(p.Feedback), MaxText)
		case p.Regenerate && strings.TrimSpace(p.Feedback) == "":
			return nil, fmt.Errorf("new ideas need feedback saying what to change")
		case !p.Regenerate && (p.Pick < 0 || p.Pick >= len(opts)):
			return nil, fmt.Errorf("pick %d: want 0 to %d (the ideas in ranking order, from 0)", p.Pick, len(opts)-1)
		case p.Edited != nil && (strings.TrimSpace(p.Edited.Title) == "" || strings.TrimSpace(p.Edited.Hypothesis) == ""):
			return nil, fmt.Errorf("an edited idea needs a title and a hypothesis")
		}
		return json.Marshal(p)
	}
	var a experiment.Answer
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("an answer is {} (go on), {\"stop\": true} or {\"guidance\": \"…\"}: %v", err)
	}
	if len(a.Guidance) > MaxText {
		return nil, fmt.Errorf("guidance is %d bytes; at most %d", len(a.Guidance), MaxText)
	}
	a.Guidance = strings.TrimSpace(a.Guidance)
	return json.Marshal(a)
}

// Describe says in a few words what an answer to a gate of kind decides:
// "go on", "stop", "guidance: …", "idea 2: …", "new ideas: …".
func Describe(g store.Gate) string {
	if g.Status == store.GateCancelled {
		return "cancelled (" + g.AnsweredBy + ")"
	}
	if g.Kind == store.GatePickIdea {
		var p Pick
		json.Unmarshal(g.Answer, &p)
		if p.Regenerate {
			return "new ideas: " + p.Feedback
		}
		var opts []struct {
			Title string `json:"title"`
		}
		json.Unmarshal(g.Options, &opts)
		title := ""
		if p.Pick >= 0 && p.Pick < len(opts) {
			title = ": " + opts[p.Pick].Title
		}
		if p.Edited != nil {
			title = " (edited): " + p.Edited.Title
		}
		return fmt.Sprintf("idea %d%s", p.Pick+1, title)
	}
	var a experiment.Answer
	json.Unmarshal(g.Answer, &a)
	switch {
	case a.Stop:
		return "stop"
	case a.Guidance != "":
		return "guidance: " + a.Guidance
	}
	return "go on"
}

// Kind is the store's gate kind for an experiment question.
func Kind(q experiment.Question) string {
	switch q.Gate {
	case "first_run":
		return store.GateApprovePlan
	case "checkpoint":
		return store.GateCheckpoint
	case "final":
		return store.GateFinal
	}
	return store.GateAsk
}

// title heads a gate on the terminal.
func title(kind string) string {
	switch kind {
	case store.GatePickIdea:
		return "pick an idea"
	case store.GateApprovePlan:
		return "before the first experiment"
	case store.GateCheckpoint:
		return "checkpoint"
	case store.GateFinal:
		return "before the final answer"
	}
	return "the agent asks"
}
