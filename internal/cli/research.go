package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// researchParams are the settings of a research run, kept with the run so
// that `mlrc resume` continues it.
type researchParams struct {
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
	// Plan, when set, is implemented directly: no idea phase (mlrc bench
	// --plan).
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
}

func (p *researchParams) experiment() *experimentParams {
	return &experimentParams{Task: p.Task, Model: p.Model, Search: p.Search, Human: p.Human, Every: p.Every,
		MaxSteps: p.MaxSteps, Workers: p.Workers, Seed: firstSeed(p.Seeds)}
}

func (p *researchParams) ideas() ideaParams {
	return ideaParams{papers: p.Papers, task: p.Task, n: p.N, human: p.Human, index: p.Index, offline: p.Offline}
}

func firstSeed(seeds []int) int {
	if len(seeds) == 0 {
		return 0
	}
	return seeds[0]
}

func (a *app) researchCommand() *cobra.Command {
	var p researchParams
	var auto bool
	var rehearsal string
	cmd := &cobra.Command{
		Use:   "research --paper P [--paper ...] --task DIR [--model M | --rehearsal SCRIPT] [--auto|--human] [--search linear|tree]",
		Short: "Do research end to end: ideas from the papers, experiments on the task, validation, a report",
		Long: `One resumable run of four phases: the IdeaAgent proposes and ranks ideas from the papers (feasible in
the task), the ExperimentAgent implements the chosen one, validation re-runs the baseline and the best
solution over several seeds through the task's evaluator and tests the difference, and the report
(report.md, report.html) is written into the run directory. mlrc resume RUN continues a killed run.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(p.Papers) == 0 || p.Task == "" {
				return usageError("--paper and --task are required (e.g. --paper examples/papers/fashion-mnist.md --task examples/tasks/digits)")
			}
			if auto && p.Human {
				return usageError("--auto and --human exclude each other")
			}
			if p.Search != "linear" && p.Search != "tree" {
				return usageError("--search %q: want linear or tree", p.Search)
			}
			if rehearsal != "" {
				if cmd.Flags().Changed("model") {
					return usageError("--rehearsal and --model exclude each other: a rehearsal's answers come from its script")
				}
				if _, err := os.Stat(rehearsal); err != nil {
					return usageError("--rehearsal %s: %v (the shipped script is examples/rehearsal/digits.yaml)", rehearsal, err)
				}
				p.Model = "scripted/" + rehearsal
			}
			if p.Experiments < 1 {
				return usageError("--n-experiments %d: want at least 1", p.Experiments)
			}
			if p.Experiments > p.N {
				return usageError("--n-experiments %d is more than the %d ideas asked for (--n)", p.Experiments, p.N)
			}
			if len(p.Seeds) < 2 {
				return usageError("--seeds needs at least 2 seeds to test a difference")
			}
			abs, err := filepath.Abs(p.Task)
			if err != nil {
				return err
			}
			p.Task = abs
			for i, f := range p.Papers {
				if _, err := os.Stat(f); err == nil {
					p.Papers[i], _ = filepath.Abs(f)
				}
			}
			_, err = a.runResearch(cmd.Context(), &p, "")
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.Papers, "paper", nil, "a paper: PDF, .txt/.md, arXiv id or URL (repeat for several)")
	f.StringVar(&p.Task, "task", "", "task directory (with task.yaml)")
	f.IntVar(&p.N, "n", 5, "candidate ideas to generate")
	f.StringVar(&p.Search, "search", "linear", "experiment search: linear or tree")
	f.BoolVar(&auto, "auto", false, "no human gates (the default)")
	f.BoolVar(&p.Human, "human", false, "ask a person: which idea, before the first run, every --gate-every steps, before the final answer")
	f.IntVar(&p.Every, "gate-every", 5, "with --human, a checkpoint every N steps")
	f.IntVar(&p.MaxSteps, "max-steps", 0, "most agent steps (default: the task's limits.max_steps)")
	f.IntVar(&p.Workers, "workers", 2, "with --search tree, parallel workers")
	f.IntSliceVar(&p.Seeds, "seeds", []int{0, 1, 2}, "seeds for validation (the first is the experiment's)")
	f.StringVar(&p.Index, "index", "", "literature index (default: literature: in the config, or <runs-dir>/literature.db)")
	f.BoolVar(&p.Offline, "offline", false, "do not query Semantic Scholar, OpenAlex or arXiv")
	f.StringVar(&rehearsal, "rehearsal", "", "rehearse with no model: the model's answers come from this script (examples/rehearsal/digits.yaml); everything else runs for real, and the run says it is a rehearsal")
	f.IntVar(&p.Experiments, "n-experiments", 1, "try the top K ideas in sequence, each with 1/K of the steps, and validate the best")
	f.BoolVar(&p.NoMemory, "no-memory", false, "neither tell the models what earlier runs on this task and data found nor remember this run (see mlrc memory)")
	f.Float64Var(&p.MinRelative, "min-improvement", 0, "success needs at least this relative improvement (0.1 = 10%) besides significance")
	return cmd
}

// runResearch runs (or, with resumeID, continues) a research run. Each
// phase that finished is read back rather than redone.
func (a *app) runResearch(ctx context.Context, p *researchParams, resumeID string) (o *outcome, err error) {
	t, err := task.Load(p.Task)
	if err != nil {
		return nil, usageError("%w", err)
	}
	if p.Model == "" {
		if p.Model, err = a.modelName(ctx); err != nil {
			return nil, err
		}
	}
	out := a.env.Stdout
	if isRehearsal(p.Model) {
		// The first and the last line say it: no language model answers.
		fmt.Fprintln(out, rehearsalLine)
		defer fmt.Fprintln(out, "\n"+rehearsalLine)
	}
	r, err := a.openLabRun(ctx, t, p.Model, "research", runConfig{Settings: a.cfg, Research: p}, resumeID)
	if err != nil {
		return nil, err
	}
	defer func() { r.end(a, err) }()
	st, s, lab, meter, model, isolation := r.st, r.s, r.lab, r.lab.meter, r.lab.model, r.lab.isolation
	fmt.Fprintf(out, "research run %s · task %s · model %s · sandbox %s\n", s.run.ID, t.Name, p.Model, isolation)

	// Every run ends with a report: one that stops before its report phase
	// gets one saying where it stopped, why, and how to go on.
	phase, taskHash, ep := "setup", "", p.experiment()
	var ideas *idea.Result
	var res *experiment.Result
	var verdict *validate.Verdict
	var rc *recalled
	var trials []trial
	defer func() {
		if err != nil && (phase == "validation" || phase == "report") {
			a.remember(ctx, st, s.run.ID, t, rc, ideas, ep.Plan, res, verdict, phase)
		}
		if err != nil && phase != "report" {
			a.stoppedReport(ctx, s, p, t, stopInfo{phase: phase, err: err, ideas: ideas, res: res, verdict: verdict,
				taskHash: taskHash, isolation: isolation, plan: ep.Plan})
		}
	}()
	taskHash, err = startHash(s.run.Dir, t)
	if err != nil {
		return nil, err
	}
	rc = a.recall(ctx, st, s.run.Dir, t, p.NoMemory)
	ep.Recalled = rc.Lines

	// Phase 1: ideas, unless a plan is given.
	phase = "idea"
	fmt.Fprintf(out, "\n== phase 1/4: ideas ==\n")
	if p.Plan != "" {
		ep.Plan = p.Plan
		fmt.Fprintf(out, "a plan was given (%s): no idea phase\n", orText(p.PlanFile, "inline"))
	} else {
		ideas, err = idea.Read(filepath.Join(s.run.Dir, "ideas.json"))
		if errors.Is(err, fs.ErrNotExist) {
			ip := p.ideas()
			ip.recalled = rc.Lines
			ideas, err = a.ideaPhase(ctx, st, s, model, p.Model, ip)
		} else if err == nil {
			fmt.Fprintf(out, "ideas already chosen: %s\n", ideas.Ideas[0].Title)
		}
		if err != nil {
			return nil, err
		}
		ep.Plan = idea.PlanText(ideas.Ideas[0])
	}

	// Phase 2: the experiment.
	phase = "experiment"
	fmt.Fprintf(out, "\n== phase 2/4: experiment ==\n")
	if p.Experiments > 1 && ideas != nil {
		ep.MaxSteps = stepShare(p.MaxSteps, t, p.Experiments)
		fmt.Fprintf(out, "experiment 1/%d: %s (%d steps each)\n", p.Experiments, ideas.Ideas[0].Title, ep.MaxSteps)
	}
	res, err = a.experimentPhase(ctx, s, ep, lab)
	if err != nil {
		return nil, err
	}
	if p.Experiments > 1 && ideas != nil {
		if trials, err = a.moreTrials(ctx, st, s, ep, lab, ideas, p.Experiments, res); err != nil {
			return nil, err
		}
		res = chooseTrial(ideas, trials, t.Metric.Goal, res)
	}

	// Phase 3: validation.
	phase = "validation"
	fmt.Fprintf(out, "\n== phase 3/4: validation ==\n")
	verdict, err = a.validationPhase(ctx, s, p, lab, res, taskHash)
	if err != nil {
		return nil, err
	}

	// Phase 4: the report.
	phase = "report"
	fmt.Fprintf(out, "\n== phase 4/4: report ==\n")
	if len(trials) > 0 {
		ep.Plan = idea.PlanText(ideas.Ideas[0])
	}
	paths, err := a.reportPhase(ctx, s, p, t, ideas, res, verdict, taskHash, isolation, ep.Plan, reportTrials(trials, res))
	if err != nil {
		return nil, err
	}
	a.remember(ctx, st, s.run.ID, t, rc, ideas, ep.Plan, res, verdict, "")
	a.rememberTrials(ctx, st, t, rc, trials, res)
	fmt.Fprintf(out, "\n%s\nreport: %s\n", verdictLine(verdict), paths)
	usage, cost, _ := meter.Totals()
	info, _ := s.run.Info(ctx)
	return &outcome{RunID: s.run.ID, Task: t.Name, Metric: res.Metric, Goal: string(res.Goal), Result: res, Verdict: verdict,
		Expected: expectedChange(ideas), Steps: res.Steps, Tokens: usage.Total(), Cost: cost, Wall: time.Since(info.Created)}, nil
}

// outcome is what a research run produced, for mlrc bench.
type outcome struct {
	RunID, Task, Metric, Goal string
	Result                    *experiment.Result
	Verdict                   *validate.Verdict
	// Expected is the chosen idea's forecast change of the metric; nil
	// without an idea phase or a valid forecast.
	Expected *float64
	Steps    int
	Tokens   int64
	Cost     llm.Cost
	Wall     time.Duration
}

func orText(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// startHash records the task's hash when the run starts (integrity.json in
// the run directory) and returns it; a resumed run reads it back, so a task
// changed mid-run is caught by validation.
func startHash(dir string, t *task.Task) (string, error) {
	path := filepath.Join(dir, "integrity.json")
	var rec struct {
		TaskHash string `json:"task_hash"`
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &rec); err == nil && rec.TaskHash != "" {
			return rec.TaskHash, nil
		}
	}
	h, err := t.Hash()
	if err != nil {
		return "", err
	}
	rec.TaskHash = h
	b, _ := json.MarshalIndent(rec, "", "  ")
	return h, os.WriteFile(path, b, 0o644)
}

// rehearsalLine opens and closes a rehearsal's output.
const rehearsalLine = "rehearsal: a scripted model, not a language model; set OPENAI_API_KEY (or ANTHROPIC_API_KEY, OPENROUTER_API_KEY, MLRC_MODEL=ollama/...) to research live"

// isRehearsal says whether model is a script rather than a language model.
func isRehearsal(model string) bool { return strings.HasPrefix(model, "scripted/") }
