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
	"github.com/mlrc/mlrc/internal/machine"
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
	Plan string
	// Reference is what runs are compared with: task.ReferencePrototype
	// (the baseline) or task.ReferenceFirstRun (the first run that yields
	// the metric, when the prototype is a template); empty means the
	// task's reference:.
	Reference   string
	MaxSteps    int
	DebugBudget int
	Gates       Gates
	Catalog     *Catalog
	Run         *store.Run
	// Noise is what is known of the metric's spread over seeds (nil:
	// nothing), for the noise band of the keep-best rule (keep.go).
	Noise *Noise
	// Machine is the computer the experiments run on, told to the agent;
	// nil means detect it (machine.Detect) when the run is set up.
	Machine *machine.Machine
	// Recalled is what earlier research runs on the same task and data
	// tried and how it scored (the research memory), one line each; the
	// brief lists it.
	Recalled []string
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
	Reason string
	Metric string
	Goal   task.Goal
	// Baseline is the metric runs were compared with: the prototype's, or
	// with Reference task.ReferenceFirstRun the first working run's
	// (ReferenceRun; 0 when no run worked).
	Baseline float64
	// Reference is task.ReferencePrototype or task.ReferenceFirstRun.
	Reference    string
	ReferenceRun *RunRecord
	Best         *RunRecord // nil when no run beat the baseline (or the reference)
	Steps        int
	// Workspace is the agent's workspace; BestDir holds the best code.
	Workspace string
	BestDir   string
	// Diff is the best code against the prototype, without Generated.
	Diff string
	// Generated are the files the best run wrote that are outputs or data,
	// not code: left out of Diff, listed with their sizes.
	Generated []Generated
	// Keep says which run's code Best is and why (see keep.go); nil when
	// no run beat the baseline.
	Keep *Keep
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
	// machine is the computer the run was set up on (kept with the setup
	// step, so a resumed run's brief is the same).
	machine *machine.Machine
	// noise is the seed spread known when the run was set up (Config.Noise).
	noise    *Noise
	baseline *RunRecord
	history  []agent.Step
	snapshot string // the workspace after the last completed step
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
	tracker := newTracker(cfg, st)
	for _, s := range st.history {
		for _, r := range runRecords(s) {
			tracker.Add(r)
		}
	}
	msg := fmt.Sprintf("baseline %s = %.6g", tracker.Metric, tracker.Baseline)
	if tracker.FirstRun {
		msg = fmt.Sprintf("%s: %s", tracker.Metric, tracker.referenceText())
	}
	progress(Event{Kind: "baseline", Baseline: tracker.Baseline, Message: msg})

	ws, err := NewWorkspace(d.workspace, cfg.Task.Protected)
	if err != nil {
		return nil, err
	}
	brief, err := renderBrief(cfg, st)
	if err != nil {
		return nil, err
	}
	system, _ := prompts.ReadFile("prompts/system.md")
	// The workspace is exactly resumeAt (restored above).
	checks := &checkpoints{repo: snaps, ws: ws, last: resumeAt}
	rt := &runTool{lab: lab, ws: ws, snaps: checks, tracker: tracker, gates: cfg.Gates, approved: len(tracker.Runs()) > 0, runDir: cfg.Run.Dir}
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
	if cfg.Reference == "" {
		cfg.Reference = cfg.Task.Reference
	}
	if cfg.Reference == "" {
		cfg.Reference = task.ReferencePrototype
	}
	return cfg
}

// newTracker returns the tracker of a run whose baseline step is done:
// with no baseline (a template prototype, and the first working run as
// the reference) it waits for that run.
func newTracker(cfg Config, st *state) *Tracker {
	t := &Tracker{Goal: cfg.Task.Metric.Goal, Metric: cfg.Task.Metric.Name}
	if st.baseline.Metric == nil {
		t.FirstRun = true
	} else {
		t.Baseline = *st.baseline.Metric
	}
	return t
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
	m := cfg.Machine
	if m == nil {
		d := machine.Detect(ctx)
		m = &d
	}
	st.machine, st.noise = m, cfg.Noise
	return step.End(ctx, store.StatusDone, map[string]any{"prototype": commit, "machine": m, "noise": cfg.Noise})
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
	if rec.Logs, err = keepLogs(cfg.Run.Dir, "baseline", res); err != nil {
		return err
	}
	if rec.Metric == nil {
		detail := rec.Error
		if evalErr != nil {
			detail = evalErr.Error()
		} else if res != nil {
			detail += ": " + agent.Clip(res.Stderr.Text, 1500)
		}
		if cfg.Reference == task.ReferenceFirstRun {
			// Recorded as done without a metric: the first working run
			// becomes the reference.
			cfg.Run.Emit(ctx, "warning", map[string]string{"phase": Phase,
				"message": "the untouched prototype gives no baseline (" + agent.Clip(detail, 300) + "): as asked (reference: first-run), the first run that yields the metric is the reference, not a baseline"})
			st.baseline = &rec
			return step.End(ctx, store.StatusDone, rec)
		}
		step.End(context.WithoutCancel(ctx), store.StatusFailed, rec)
		return &NoBaselineError{Detail: detail, Evaluated: evalErr != nil}
	}
	st.baseline = &rec
	return step.End(ctx, store.StatusDone, rec)
}

func finish(ctx context.Context, cfg Config, snaps *snapshot.Repo, d dirs, st *state, tracker *Tracker, stopped *agent.Stopped) (*Result, error) {
	res := &Result{Reason: stopped.Reason, Metric: tracker.Metric, Goal: tracker.Goal, Baseline: tracker.Baseline,
		Reference: task.ReferencePrototype, Steps: len(stopped.Steps), Workspace: d.workspace}
	if tracker.FirstRun {
		res.Reference = task.ReferenceFirstRun
		if ref, ok := tracker.Reference(); ok {
			res.ReferenceRun = &ref
		}
	}
	best, ok := tracker.Best()
	if !ok || !tracker.hasReference() || !better(tracker.Goal, *best.Metric, tracker.Baseline) {
		cfg.Run.Emit(ctx, "result", map[string]any{"reason": stopped.Reason, "improved": false})
		return res, nil
	}
	best, keep := keepRun(tracker, best, namedRun(stopped.Steps), st.noise)
	res.Best, res.Keep = &best, &keep
	os.RemoveAll(d.best)
	if err := snaps.Export(ctx, best.Snapshot, d.best); err != nil {
		return nil, err
	}
	diff, gen, err := codeDiff(ctx, snaps, st.prototype, best.Snapshot, cfg.Task.Outputs)
	if err != nil {
		return nil, err
	}
	res.BestDir, res.Diff, res.Generated = d.best, diff, gen
	if err := os.WriteFile(filepath.Join(cfg.Run.Dir, "best.diff"), []byte(diff+"\n"), 0o644); err != nil {
		return nil, err
	}
	if err := cfg.Run.AddArtifact(ctx, "best.diff", "best.diff", "diff"); err != nil {
		return nil, err
	}
	cfg.Run.Emit(ctx, "result", map[string]any{"reason": stopped.Reason, "improved": true, "best": best, "keep": keep, "generated": gen})
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
			var out struct {
				Prototype string
				Machine   *machine.Machine
				Noise     *Noise
			}
			if err := json.Unmarshal(s.Output, &out); err != nil {
				return nil, fmt.Errorf("resume: setup step %d: %w", s.Seq, err)
			}
			st.prototype, st.machine, st.noise = out.Prototype, out.Machine, out.Noise
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
	fmt.Fprintf(&b, "%d steps done. %s: %s", len(history), tr.Metric, tr.referenceText())
	if best, ok := tr.Best(); ok {
		fmt.Fprintf(&b, "; best %.6g (run %d)", *best.Metric, best.Run)
	}
	b.WriteString(".\nRecent steps:\n")
	for _, s := range history[max(0, len(history)-5):] {
		b.WriteString(agent.StepSummary(s) + "\n")
	}
	return b.String()
}

// renderBrief writes the agent's brief. With no baseline metric (the
// prototype gives none), the first working run is the reference.
func renderBrief(cfg Config, st *state) (string, error) {
	text, _ := prompts.ReadFile("prompts/brief.md")
	tmpl, err := template.New("brief").Parse(string(text))
	if err != nil {
		return "", err
	}
	protected := "none"
	if len(cfg.Task.Protected) > 0 {
		protected = strings.Join(cfg.Task.Protected, ", ")
	}
	m := st.machine
	if m == nil {
		// A run set up before the machine was recorded.
		d := machine.Detect(context.Background())
		m = &d
	}
	total := "no limit"
	if cfg.Task.Limits.TotalTime > 0 {
		total = cfg.Task.Limits.TotalTime.String()
	}
	reference := "The untouched prototype gives no score: it is a template that leaves the model to you, or its output is missing. Make it work first: your first run that the evaluator scores becomes the reference that later runs are compared with."
	if st.baseline.Metric != nil {
		reference = fmt.Sprintf("The untouched prototype scores %.6g; its run took %.1f s.", *st.baseline.Metric, st.baseline.Seconds)
	}
	var b strings.Builder
	err = tmpl.Execute(&b, map[string]any{
		"Name": cfg.Task.Name, "Problem": strings.TrimSpace(cfg.Task.Problem),
		"Metric": cfg.Task.Metric.Name, "Goal": cfg.Task.Metric.Goal, "Reference": reference,
		"RunCommand": cfg.Task.Commands.Run, "RunTimeout": cfg.Task.Limits.RunTimeout, "Memory": humanBytes(cfg.Task.Limits.Memory),
		"TotalTime": total, "Machine": m.String(), "Band": st.noise.describe(),
		"Protected": protected, "MaxSteps": cfg.MaxSteps, "Plan": strings.TrimSpace(cfg.Plan),
		"Recalled": cfg.Recalled,
	})
	return b.String(), err
}

// Record is what an experiment run measured, read back from the store: the
// baseline and every run_experiment in step order.
type Record struct {
	// Baseline is what runs were compared with: the untouched prototype's
	// run or, when it gave no metric and the run took its first working
	// run as the reference (Reference), that run; nil when there is none.
	Baseline *RunRecord
	// Reference is task.ReferencePrototype or task.ReferenceFirstRun.
	Reference string
	Runs      []RunRecord
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
	rec := &Record{Baseline: st.baseline, Reference: task.ReferencePrototype}
	if st.baseline != nil && st.baseline.Metric == nil {
		rec.Baseline, rec.Reference = nil, task.ReferenceFirstRun
	}
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
			if rec.Reference == task.ReferenceFirstRun && rec.Baseline == nil && r.Metric != nil {
				ref := r
				ref.Reference = true
				rec.Baseline = &ref
			}
			rec.Runs = append(rec.Runs, r)
			p.Runs++
			p.Metric = r.Metric
			p.Where, p.Seconds = r.Where, r.Seconds
		}
		rec.Steps = append(rec.Steps, p)
	}
	return rec, nil
}

// NoBaselineError is returned when the untouched prototype gives no metric
// and the run was not told to take its first working run as the reference.
type NoBaselineError struct {
	Detail string
	// Evaluated says the prototype ran and the evaluator could not score
	// it (no output: typically a template prototype); else the run failed.
	Evaluated bool
}

func (e *NoBaselineError) Error() string {
	why := "the prototype's run failed"
	if e.Evaluated {
		why = "the evaluator found no output to score: the prototype may be a template that leaves the model to the agent (as MLAgentBench's house-price, imdb and spaceship-titanic do)"
	}
	return fmt.Sprintf("the untouched prototype gives no baseline (%s): %s. To run anyway with the first run that yields the metric as the reference (a reference, not a baseline; validation re-runs its code against the best), pass --reference first-run or set `reference: first-run` in task.yaml; otherwise finish the prototype so that it writes its outputs, and check the task with `mlrc task check`",
		e.Detail, why)
}

// ReferenceText says what the run's results were compared with, in one
// line: the baseline, or the first working run.
func (r *Result) ReferenceText() string {
	if r.Reference != task.ReferenceFirstRun {
		return fmt.Sprintf("baseline %s = %.6g", r.Metric, r.Baseline)
	}
	if r.ReferenceRun == nil {
		return fmt.Sprintf("reference: none (no baseline: the prototype gives no %s, and no run yielded it)", r.Metric)
	}
	return fmt.Sprintf("reference %s = %.6g (reference = first working run, run %d, not a baseline: the prototype gives no metric)", r.Metric, r.Baseline, r.ReferenceRun.Run)
}

// ReferenceLabel names the reference when it is not the untouched
// prototype's baseline, e.g. "first working run (run 1)"; empty for a
// baseline.
func (r *Record) ReferenceLabel() string {
	if r.Reference != task.ReferenceFirstRun {
		return ""
	}
	if r.Baseline == nil {
		return "first working run (none: no run yielded the metric)"
	}
	return fmt.Sprintf("first working run (run %d)", r.Baseline.Run)
}
