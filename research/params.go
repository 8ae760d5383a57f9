package research

import (
	"fmt"
	"os"
	"strings"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/validate"
)

// Params are the settings of a research run, kept with the run so that
// `mlrc resume` continues it.
type Params struct {
	Papers   []string `json:"papers"`
	Task     string   `json:"task"` // absolute
	N        int      `json:"n"`
	Model    string   `json:"model"`
	Search   string   `json:"search"`
	Human    bool     `json:"human"`
	Every    int      `json:"gate_every,omitempty"`
	MaxSteps int      `json:"max_steps,omitempty"`
	Workers  int      `json:"workers,omitempty"`
	Seeds    []int    `json:"seeds"`
	Index    string   `json:"index,omitempty"`
	Offline  bool     `json:"offline,omitempty"`
	// Plan, when set, is implemented directly: no idea phase (mlrc
	// research --plan, mlrc bench --plan).
	Plan     string `json:"plan,omitempty"`
	PlanFile string `json:"plan_file,omitempty"`
	// MinRelative is the success criterion: the least relative improvement
	// over the baseline (0.1 = 10%); 0 means any significant improvement.
	MinRelative float64 `json:"min_relative"`
	// Experiments is how many of the top ideas are tried, in order, each
	// with an equal share of the steps; the best is validated.
	Experiments int `json:"n_experiments,omitempty"`
	// NoMemory: the run neither reads nor adds to the research memory.
	NoMemory bool `json:"no_memory,omitempty"`
	// Reference overrides the task's reference: (prototype or first-run).
	Reference string `json:"reference,omitempty"`
	// Tolerance is how far the reported metric may lie from the re-runs;
	// nil means validate.DefaultTolerance.
	Tolerance *validate.Tolerance `json:"tolerance,omitempty"`
}

// Experiment is the experiment phase's settings of a research run.
func (p *Params) Experiment() *ExperimentParams {
	return &ExperimentParams{Task: p.Task, Model: p.Model, Search: p.Search, Human: p.Human, Every: p.Every,
		MaxSteps: p.MaxSteps, Workers: p.Workers, Seed: FirstSeed(p.Seeds), Reference: p.Reference}
}

// Ideas is the idea phase's settings of a research run.
func (p *Params) Ideas() IdeaParams {
	return IdeaParams{Papers: p.Papers, Task: p.Task, N: p.N, Human: p.Human, Index: p.Index, Offline: p.Offline}
}

// IdeaParams are the settings of an idea phase.
type IdeaParams struct {
	Papers  []string
	Task    string
	N       int
	Human   bool
	Index   string
	Offline bool
	// Recalled is what earlier research runs on the task found (the
	// research memory), for the proposer.
	Recalled []string
}

// ExperimentParams are the settings of an experiment run, stored with the
// run so that `mlrc resume` continues it exactly.
type ExperimentParams struct {
	Task     string `json:"task"` // absolute task directory
	Plan     string `json:"plan,omitempty"`
	PlanFile string `json:"plan_file,omitempty"`
	Model    string `json:"model"`
	Search   string `json:"search"`
	Human    bool   `json:"human"`
	Every    int    `json:"gate_every,omitempty"`
	MaxSteps int    `json:"max_steps,omitempty"`
	Workers  int    `json:"workers,omitempty"`
	Seed     int    `json:"seed"`
	// Recalled is the research memory's lines for the brief (kept in the
	// run's memory.json, not here).
	Recalled []string `json:"-"`
	// Reference overrides the task's reference: (prototype or first-run).
	Reference string `json:"reference,omitempty"`
}

// Config is what a run stores as its config: mlrc's settings and the
// command's own.
type Config struct {
	Settings   any               `json:"settings"`
	Experiment *ExperimentParams `json:"experiment,omitempty"`
	Research   *Params           `json:"research,omitempty"`
	ReplayOf   string            `json:"replay_of,omitempty"`
}

// FirstSeed is the first of seeds, 0 when there is none.
func FirstSeed(seeds []int) int {
	if len(seeds) == 0 {
		return 0
	}
	return seeds[0]
}

// ReadPlan reads a plan file: text or Markdown, or an ideas.json from
// mlrc idea, whose first idea (the chosen one) becomes the plan.
func ReadPlan(path string) (string, error) {
	if strings.HasSuffix(strings.ToLower(path), ".json") {
		res, err := idea.Read(path)
		if err != nil {
			return "", fmt.Errorf("plan: %w", err)
		}
		if len(res.Ideas) == 0 {
			return "", fmt.Errorf("plan %s holds no idea", path)
		}
		return idea.PlanText(res.Ideas[0]), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read plan: %w", err)
	}
	if strings.TrimSpace(string(b)) == "" {
		return "", fmt.Errorf("plan %s is empty", path)
	}
	return string(b), nil
}

// IsRehearsal says whether model is a script rather than a language model.
func IsRehearsal(model string) bool { return strings.HasPrefix(model, "scripted/") }

// RehearsalLine opens and closes a rehearsal's output.
const RehearsalLine = "rehearsal: a scripted model, not a language model; set OPENAI_API_KEY (or ANTHROPIC_API_KEY, OPENROUTER_API_KEY, MLRC_MODEL=ollama/...) to research live"

// ReferenceUsage is the help of --reference.
const ReferenceUsage = "what runs are compared with: prototype (the untouched prototype's score, the baseline) or first-run (for a template prototype that gives no score: the first run that yields the metric becomes the reference, and validation re-runs its code); default: the task's reference:, else prototype"
