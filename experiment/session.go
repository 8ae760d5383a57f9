package experiment

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/template"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/snapshot"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

//go:embed prompts/*.md
var prompts embed.FS

// Phase is the store phase of the experiment.
const Phase = "experiment"

// Step kinds in the store.
const (
	KindSetup    = "setup"
	KindBaseline = "baseline"
	KindAgent    = "agent"
)

// DefaultPlan is used when no plan is given.
const DefaultPlan = "No plan was given: find and implement the change most likely to improve the metric, measure it, and iterate."

// Config is one run of the ExperimentAgent.
type Config struct {
	Task      *task.Task
	Sandbox   sandbox.Runner
	Isolation string
	Python    string
	Seed      int
	// Model is dressed for the run: recorded, metered, retried.
	Model agent.Model
	// ModelFor returns the model dressed as Model but recording its calls
	// with rec (a store step's Recorder), so that each call is linked to
	// its own step while several steps are open, as in tree search.
	// Optional: nil means Model, whose calls are linked to a step only
	// while exactly one is open.
	ModelFor func(rec llm.Recorder) agent.Model
	// Plan is the research plan to implement, as text.
	Plan        string
	MaxSteps    int
	DebugBudget int
	Gates       Gates
	Catalog     *Catalog
	Run         *store.Run
	// Progress hears of each phase of the run; optional.
	Progress func(Event)
	Log      *slog.Logger
}

// Event is progress for a display.
type Event struct {
	Kind     string // "setup", "baseline", "step", "done"
	Step     int
	Action   string
	Metric   *float64 // this step's last run
	Best     *float64
	Baseline float64
	Message  string
}

// Result is how the run ended.
type Result struct {
	Reason   string
	Metric   string
	Goal     task.Goal
	Baseline float64
	Best     *RunRecord // nil when no run produced a metric
	Steps    int
	// Workspace is the agent's workspace; BestDir holds the best code.
	Workspace string
	BestDir   string
	// Diff is the best code against the prototype.
	Diff string
}

// dirs of a run inside its run directory.
type dirs struct{ workspace, private, snapshots, best string }

func runDirs(run *store.Run) dirs {
	return dirs{
		workspace: filepath.Join(run.Dir, "workspace"),
		private:   filepath.Join(run.Dir, "private"),
		snapshots: filepath.Join(run.Dir, "snapshots.git"),
		best:      filepath.Join(run.Dir, "best"),
	}
}

// agentStepOutput is what an agent step stores.
type agentStepOutput struct {
	Step     agent.Step `json:"step"`
	Snapshot string     `json:"snapshot"`
}

// state is what a run has done so far, read back from the store on resume.
type state struct {
	prototype string // snapshot of the untouched workspace
	baseline  *RunRecord
	history   []agent.Step
	snapshot  string // the workspace after the last completed step
}

// Run starts a new run, or resumes cfg.Run from its last completed step.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = withDefaults(cfg)
	d := runDirs(cfg.Run)
	st, err := load(ctx, cfg.Run)
	if err != nil {
		return nil, err
	}
	if err := cfg.Run.BeginPhase(ctx, Phase); err != nil {
		return nil, err
	}
	lab := &Lab{Task: cfg.Task, Sandbox: cfg.Sandbox, Isolation: cfg.Isolation, Private: d.private, Options: task.Options{Python: cfg.Python, Seed: cfg.Seed}}
	res, err := run(ctx, cfg, lab, d, st)
	status := store.StatusDone
	if err != nil {
		status = store.StatusFailed
		if errors.Is(err, context.Canceled) {
			status = store.StatusStopped
		}
	}
	if perr := cfg.Run.EndPhase(context.WithoutCancel(ctx), Phase, status); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

func run(ctx context.Context, cfg Config, lab *Lab, d dirs, st *state) (*Result, error) {
	progress := func(e Event) {
		if cfg.Progress != nil {
			cfg.Progress(e)
		}
	}
	snaps, err := prepare(ctx, cfg, lab, d, st, progress)
	if err != nil {
		return nil, err
	}
	// The workspace is exactly as the last completed step left it.
	resumeAt := st.snapshot
	if resumeAt == "" {
		resumeAt = st.prototype
	}
	if err := snaps.Restore(ctx, resumeAt); err != nil {
		return nil, fmt.Errorf("restore the workspace: %w", err)
	}
	tracker := &Tracker{Goal: cfg.Task.Metric.Goal, Metric: cfg.Task.Metric.Name, Baseline: *st.baseline.Metric}
	for _, s := range st.history {
		for _, r := range runRecords(s) {
			tracker.Add(r)
		}
	}
	progress(Event{Kind: "baseline", Baseline: tracker.Baseline, Message: fmt.Sprintf("baseline %s = %.6g", tracker.Metric, tracker.Baseline)})

	ws, err := NewWorkspace(d.workspace, cfg.Task.Protected)
	if err != nil {
		return nil, err
	}
	brief, err := renderBrief(cfg, tracker.Baseline)
	if err != nil {
		return nil, err
	}
	system, _ := prompts.ReadFile("prompts/system.md")
	// The workspace is exactly resumeAt (restored above).
	checks := &checkpoints{repo: snaps, ws: ws, last: resumeAt}
	rt := &runTool{lab: lab, ws: ws, snaps: checks, tracker: tracker, gates: cfg.Gates, approved: len(tracker.Runs()) > 0}
	tools := []agent.Tool{listFilesTool(ws), readFileTool(ws), editFileTool(ws), writeFileTool(ws), undoTool(ws),
		inspectDataTool(ws), rt.tool(), askTool(cfg.Gates), finalTool(cfg.Gates)}
	if cfg.Catalog != nil {
		tools = append(tools, retrieveTool(cfg.Catalog))
	}
	var open *store.Step
	a := &agent.Agent{
		Model:    cfg.Model,
		System:   string(system),
		Brief:    brief,
		Tools:    tools,
		MaxSteps: cfg.MaxSteps,
		Checks:   append(agent.DefaultChecks(), DebugBudget(cfg.DebugBudget)),
		Before: func(ctx context.Context, next int, history []agent.Step) (agent.Gate, error) {
			if cfg.Task.Limits.TotalTime > 0 {
				if info, err := cfg.Run.Info(ctx); err == nil && time.Since(info.Created) > cfg.Task.Limits.TotalTime {
					return agent.Gate{Stop: true, Reason: fmt.Sprintf("total_time: the run's limit of %s is reached", cfg.Task.Limits.TotalTime)}, nil
				}
			}
			var g agent.Gate
			if cfg.Gates.on() && cfg.Gates.Every > 0 && next > 1 && (next-1)%cfg.Gates.Every == 0 {
				ans, err := cfg.Gates.Human.Ask(ctx, Question{Gate: "checkpoint", Text: checkpointText(tracker, history)})
				if err != nil {
					return g, err
				}
				g = agent.Gate{Stop: ans.Stop, Reason: "stopped by the researcher at a checkpoint", Guidance: ans.Guidance}
				// The researcher may have edited files while deciding.
				ws.touched()
				if ans.Guidance != "" {
					cfg.Run.Emit(ctx, "human_feedback", map[string]any{"step": next, "gate": "checkpoint", "guidance": ans.Guidance})
				}
			}
			if !g.Stop {
				s, err := cfg.Run.BeginStep(ctx, Phase, KindAgent, map[string]int{"n": next})
				if err != nil {
					return g, err
				}
				open = s
			}
			return g, nil
		},
		After: func(ctx context.Context, s agent.Step) error {
			commit, err := checks.commit(ctx, fmt.Sprintf("step %d", s.N))
			if err != nil {
				return err
			}
			if err := open.End(ctx, store.StatusDone, agentStepOutput{Step: s, Snapshot: commit}); err != nil {
				return err
			}
			open = nil
			e := Event{Kind: "step", Step: s.N, Action: stepAction(s), Baseline: tracker.Baseline}
			if rs := runRecords(s); len(rs) > 0 {
				e.Metric = rs[len(rs)-1].Metric
			}
			if b, ok := tracker.Best(); ok {
				e.Best = b.Metric
			}
			cfg.Run.Emit(ctx, "step", e)
			progress(e)
			return nil
		},
	}
	stopped, runErr := a.Run(ctx, st.history)
	if open != nil {
		// The step did not complete; a resume redoes it.
		open.End(context.WithoutCancel(ctx), store.StatusStopped, map[string]any{"interrupted": true, "error": fmt.Sprint(runErr)})
	}
	if runErr != nil {
		return nil, runErr
	}
	return finish(ctx, cfg, snaps, d, st, tracker, stopped)
}

// withDefaults fills in what Run fills in.
func withDefaults(cfg Config) Config {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = cfg.Task.Limits.MaxSteps
	}
	if cfg.DebugBudget <= 0 {
		cfg.DebugBudget = 6
	}
	if strings.TrimSpace(cfg.Plan) == "" {
		cfg.Plan = DefaultPlan
	}
	return cfg
}

// prepare sets the run up and measures the baseline, unless a resumed run
// did so already, and returns the run's snapshot repository. (Run does the
// same inline; it could call this.)
func prepare(ctx context.Context, cfg Config, lab *Lab, d dirs, st *state, progress func(Event)) (*snapshot.Repo, error) {
	if st.prototype == "" {
		// A setup that did not finish leaves nothing worth keeping.
		os.RemoveAll(d.workspace)
		os.RemoveAll(d.private)
		os.RemoveAll(d.snapshots)
		os.RemoveAll(filepath.Join(cfg.Run.Dir, "nodes"))
		progress(Event{Kind: "setup", Message: "copying the workspace and preparing the data"})
		if err := setup(ctx, cfg, lab, d, st); err != nil {
			return nil, err
		}
	}
	snaps, err := snapshot.Open(ctx, d.snapshots, d.workspace)
	if err != nil {
		return nil, err
	}
	if st.baseline == nil {
		if err := snaps.Restore(ctx, st.prototype); err != nil {
			return nil, fmt.Errorf("restore the workspace: %w", err)
		}
		progress(Event{Kind: "baseline", Message: "running the untouched prototype"})
		if err := baseline(ctx, cfg, lab, d, st); err != nil {
			return nil, err
		}
	}
	return snaps, nil
}

func setup(ctx context.Context, cfg Config, lab *Lab, d dirs, st *state) error {
	step, err := cfg.Run.BeginStep(ctx, Phase, KindSetup, map[string]string{"task": cfg.Task.Name})
	if err != nil {
		return err
	}
	res, err := cfg.Task.Setup(ctx, cfg.Sandbox, task.Layout{Workspace: d.workspace, Private: d.private}, lab.Options)
	if err != nil {
		step.End(context.WithoutCancel(ctx), store.StatusFailed, map[string]string{"error": err.Error()})
		return fmt.Errorf("set up the task: %w", err)
	}
	_ = res
	snaps, err := snapshot.Open(ctx, d.snapshots, d.workspace)
	if err != nil {
		return err
	}
	commit, _, err := snaps.Commit(ctx, "prototype")
	if err != nil {
		return err
	}
	st.prototype = commit
	return step.End(ctx, store.StatusDone, map[string]string{"prototype": commit})
}

func baseline(ctx context.Context, cfg Config, lab *Lab, d dirs, st *state) error {
	step, err := cfg.Run.BeginStep(ctx, Phase, KindBaseline, nil)
	if err != nil {
		return err
	}
	rec, res, _, evalErr, err := measure(ctx, lab, d.workspace)
	if err != nil {
		step.End(context.WithoutCancel(ctx), store.StatusFailed, map[string]string{"error": err.Error()})
		return err
	}
	rec.Snapshot = st.prototype
	if rec.Metric == nil {
		step.End(context.WithoutCancel(ctx), store.StatusFailed, rec)
		detail := rec.Error
		if evalErr != nil {
			detail = evalErr.Error()
		} else if res != nil {
			detail += ": " + agent.Clip(res.Stderr.Text, 1500)
		}
		return fmt.Errorf("the untouched prototype does not give a baseline (%s); check the task with `mlrc task check`", detail)
	}
	st.baseline = &rec
	return step.End(ctx, store.StatusDone, rec)
}

func finish(ctx context.Context, cfg Config, snaps *snapshot.Repo, d dirs, st *state, tracker *Tracker, stopped *agent.Stopped) (*Result, error) {
	res := &Result{Reason: stopped.Reason, Metric: tracker.Metric, Goal: tracker.Goal, Baseline: tracker.Baseline,
		Steps: len(stopped.Steps), Workspace: d.workspace}
	best, ok := tracker.Best()
	if !ok || !better(tracker.Goal, *best.Metric, tracker.Baseline) {
		cfg.Run.Emit(ctx, "result", map[string]any{"reason": stopped.Reason, "improved": false})
		return res, nil
	}
	res.Best = &best
	os.RemoveAll(d.best)
	if err := snaps.Export(ctx, best.Snapshot, d.best); err != nil {
		return nil, err
	}
	diff, err := snaps.Diff(ctx, st.prototype, best.Snapshot)
	if err != nil {
		return nil, err
	}
	res.BestDir, res.Diff = d.best, diff
	if err := os.WriteFile(filepath.Join(cfg.Run.Dir, "best.diff"), []byte(diff+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := cfg.Run.AddArtifact(ctx, "best.diff", "best.diff", "diff"); err != nil {
		return nil, err
	}
	cfg.Run.Emit(ctx, "result", map[string]any{"reason": stopped.Reason, "improved": true, "best": best})
	return res, nil
}

// load reads back what a run did; an empty state for a new run.
func load(ctx context.Context, run *store.Run) (*state, error) {
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	st := &state{}
	for _, s := range steps {
		if s.Phase != Phase || s.Status != store.StatusDone {
			continue
		}
		switch s.Kind {
		case KindSetup:
			var out struct{ Prototype string }
			if err := json.Unmarshal(s.Output, &out); err != nil {
				return nil, fmt.Errorf("resume: setup step %d: %w", s.Seq, err)
			}
			st.prototype = out.Prototype
		case KindBaseline:
			var rec RunRecord
			if err := json.Unmarshal(s.Output, &rec); err != nil {
				return nil, fmt.Errorf("resume: baseline step %d: %w", s.Seq, err)
			}
			st.baseline = &rec
		case KindAgent:
			var out agentStepOutput
			if err := json.Unmarshal(s.Output, &out); err != nil {
				return nil, fmt.Errorf("resume: agent step %d: %w", s.Seq, err)
			}
			st.history = append(st.history, out.Step)
			st.snapshot = out.Snapshot
		}
	}
	return st, nil
}

// runRecords returns the experiment runs made in a step.
func runRecords(s agent.Step) []RunRecord {
	var out []RunRecord
	for _, o := range s.Outcomes {
		if o.Call.Name != "run_experiment" || o.Data == nil {
			continue
		}
		var r RunRecord
		if json.Unmarshal(o.Data, &r) == nil && r.Run > 0 {
			out = append(out, r)
		}
	}
	return out
}

func stepAction(s agent.Step) string {
	var parts []string
	for _, o := range s.Outcomes {
		parts = append(parts, o.Summary)
	}
	if len(parts) == 0 {
		return "(no tool call)"
	}
	return strings.Join(parts, "; ")
}

func checkpointText(tr *Tracker, history []agent.Step) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d steps done. Baseline %s = %.6g", len(history), tr.Metric, tr.Baseline)
	if best, ok := tr.Best(); ok {
		fmt.Fprintf(&b, "; best %.6g (run %d)", *best.Metric, best.Run)
	}
	b.WriteString(".\nRecent steps:\n")
	for _, s := range history[max(0, len(history)-5):] {
		b.WriteString(agent.StepSummary(s) + "\n")
	}
	return b.String()
}

func renderBrief(cfg Config, baseline float64) (string, error) {
	text, _ := prompts.ReadFile("prompts/brief.md")
	tmpl, err := template.New("brief").Parse(string(text))
	if err != nil {
		return "", err
	}
	protected := "none"
	if len(cfg.Task.Protected) > 0 {
		protected = strings.Join(cfg.Task.Protected, ", ")
	}
	var b strings.Builder
	err = tmpl.Execute(&b, map[string]any{
		"Name": cfg.Task.Name, "Problem": strings.TrimSpace(cfg.Task.Problem),
		"Metric": cfg.Task.Metric.Name, "Goal": cfg.Task.Metric.Goal, "Baseline": fmt.Sprintf("%.6g", baseline),
		"RunCommand": cfg.Task.Commands.Run, "RunTimeout": cfg.Task.Limits.RunTimeout, "Memory": humanBytes(cfg.Task.Limits.Memory),
		"Protected": protected, "MaxSteps": cfg.MaxSteps, "Plan": strings.TrimSpace(cfg.Plan),
	})
	return b.String(), err
}

// Record is what an experiment run measured, read back from the store: the
// baseline and every run_experiment in step order.
type Record struct {
	Baseline *RunRecord
	Runs     []RunRecord
	// Steps are the completed agent steps' points: the last metric of the
	// step (nil when its runs failed or it made none) and the action.
	Steps []StepPoint
}

// StepPoint is one agent step of a run for plots.
type StepPoint struct {
	Step   int
	Metric *float64
	Runs   int
	Action string
	// Where is where the step's last run ran; Seconds its wall time
	// (experiment and evaluation).
	Where   *sandbox.Placement
	Seconds float64
}

// Read returns what the experiment phase of run measured (linear runs;
// for tree runs, the runs of every node in step order).
func Read(ctx context.Context, run *store.Run) (*Record, error) {
	st, err := load(ctx, run)
	if err != nil {
		return nil, err
	}
	rec := &Record{Baseline: st.baseline}
	steps, err := run.Steps(ctx)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, s := range steps {
		if s.Phase != Phase || s.Kind != KindAgent || s.Status != store.StatusDone {
			continue
		}
		var out agentStepOutput
		if err := json.Unmarshal(s.Output, &out); err != nil {
			return nil, fmt.Errorf("read step %d: %w", s.Seq, err)
		}
		n++
		p := StepPoint{Step: n, Action: stepAction(out.Step)}
		for _, r := range runRecords(out.Step) {
			rec.Runs = append(rec.Runs, r)
			p.Runs++
			p.Metric = r.Metric
			p.Where, p.Seconds = r.Where, r.Seconds
		}
		rec.Steps = append(rec.Steps, p)
	}
	return rec, nil
}
