package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/agent"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// RunRecord is what one run_experiment call did; it is kept with the step
// (Outcome.Data) so that a resumed run and the reports can read it back.
type RunRecord struct {
	Run      int      `json:"run"`
	OK       bool     `json:"ok"`
	Exit     int      `json:"exit"`
	Metric   *float64 `json:"metric,omitempty"`
	Error    string   `json:"error,omitempty"`
	Snapshot string   `json:"snapshot"` // the workspace that produced it
	Seconds  float64  `json:"seconds"`
	Notes    []string `json:"notes,omitempty"`
	// Logs are the run's stdout and stderr, as files in the run directory.
	Logs LogFiles `json:"logs,omitzero"`
	// Reference marks the first run that yielded the metric when the
	// prototype gave none and the run was told to take that run as its
	// reference (task.ReferenceFirstRun): later runs are compared with it.
	Reference bool `json:"reference,omitempty"`
	// Where is where the experiment ran (executor, host, job, GPUs) and
	// with what resources; absent in runs recorded before it was kept.
	Where *sandbox.Placement `json:"where,omitempty"`
}

// Tracker keeps the runs of one workspace: how many, the baseline, the best.
type Tracker struct {
	Goal     task.Goal
	Metric   string
	Baseline float64
	// FirstRun says there is no baseline yet: the first run that yields
	// the metric becomes the reference, and Baseline its metric.
	FirstRun bool

	mu        sync.Mutex
	runs      []RunRecord
	best      *RunRecord
	reference *RunRecord
}

// Add records a run.
func (t *Tracker) Add(r RunRecord) (newBest bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.runs = append(t.runs, r)
	if r.Metric == nil {
		return false
	}
	if t.FirstRun && t.reference == nil {
		rc := r
		rc.Reference = true
		t.reference, t.Baseline = &rc, *r.Metric
	}
	if t.best == nil || better(t.Goal, *r.Metric, *t.best.Metric) {
		rc := r
		t.best = &rc
		return true
	}
	return false
}

// Best returns the best run so far, if any run produced a metric.
func (t *Tracker) Best() (RunRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.best == nil {
		return RunRecord{}, false
	}
	return *t.best, true
}

// Reference returns the first working run when the tracker takes it as
// its reference (FirstRun) and one has yielded the metric.
func (t *Tracker) Reference() (RunRecord, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reference == nil {
		return RunRecord{}, false
	}
	return *t.reference, true
}

// hasReference says whether runs have something to be compared with: the
// baseline, or the first working run.
func (t *Tracker) hasReference() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return !t.FirstRun || t.reference != nil
}

// referenceText names what runs are compared with, for the agent.
func (t *Tracker) referenceText() string {
	if !t.FirstRun {
		return fmt.Sprintf("baseline %.6g", t.Baseline)
	}
	if ref, ok := t.Reference(); ok {
		return fmt.Sprintf("reference %.6g from run %d, the first working run (the prototype gave no baseline)", t.Baseline, ref.Run)
	}
	return "no baseline: the prototype gives no metric, so the first run that yields one becomes the reference"
}

// Runs returns every run so far.
func (t *Tracker) Runs() []RunRecord {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]RunRecord(nil), t.runs...)
}

func (t *Tracker) next() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.runs) + 1
}

func better(goal task.Goal, a, b float64) bool {
	if goal == task.Minimize {
		return a < b
	}
	return a > b
}

// runTool runs the experiment in the workspace and scores it.
type runTool struct {
	lab     *Lab
	ws      *Workspace
	snaps   *checkpoints
	tracker *Tracker
	gates   Gates
	// approved is set once the first run has passed its gate.
	approved bool
	// runDir keeps each run's output under logs/, named logPrefix +
	// "run-<n>"; "" keeps none.
	runDir, logPrefix string
}

type runParams struct {
	Note string `json:"note,omitempty" jsonschema:"what this run tests, for the record"`
}

func (rt *runTool) tool() agent.Tool {
	return agent.NewFunc("run_experiment", doc("run_experiment"), rt.call)
}

func (rt *runTool) call(ctx context.Context, p runParams) (agent.Result, error) {
	if rt.gates.on() && !rt.approved {
		a, err := rt.gates.Human.Ask(ctx, Question{Gate: "first_run", Text: "The agent is about to run its first experiment" + noteSuffix(p.Note) + "."})
		if err != nil {
			return agent.Result{}, err
		}
		switch {
		case a.Stop:
			return agent.Result{Content: "The researcher stopped the run before the first experiment.", Final: true, Summary: "run_experiment: stopped by the researcher"}, nil
		case a.Guidance != "":
			return agent.Result{Content: "The experiment was not run. The researcher says: " + a.Guidance, IsError: true, Summary: "run_experiment: held back with guidance: " + a.Guidance}, nil
		}
		rt.approved = true
	}
	n := rt.tracker.next()
	commit, err := rt.snaps.beforeRun(ctx, fmt.Sprintf("run %d%s", n, noteSuffix(p.Note)))
	if err != nil {
		return agent.Result{}, err
	}
	// The experiment and its evaluation may write into the workspace.
	rt.ws.touched()
	rec, res, score, evalErr, err := measure(ctx, rt.lab, rt.ws.Root())
	if err != nil {
		return agent.Result{}, err
	}
	rec.Run, rec.Snapshot = n, commit
	if rec.Logs, err = keepLogs(rt.runDir, fmt.Sprintf("%srun-%d", rt.logPrefix, n), res); err != nil {
		return agent.Result{}, err
	}
	newBest := rt.tracker.Add(rec)
	if ref, ok := rt.tracker.Reference(); ok && ref.Run == rec.Run {
		rec.Reference = true
	}
	data, _ := json.Marshal(rec)
	return agent.Result{
		Content: describeRun(rt.lab, rt.tracker, rec, res, score, evalErr, newBest),
		IsError: !rec.OK,
		Summary: summarizeRun(rt.tracker, rec, newBest),
		Data:    data,
	}, nil
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return " (" + note + ")"
}

// measure runs the experiment and, when it succeeded, the evaluator.
func measure(ctx context.Context, lab *Lab, workspace string) (RunRecord, *sandbox.Result, *task.Score, error, error) {
	start := time.Now()
	res, err := lab.Run(ctx, workspace)
	if err != nil {
		return RunRecord{}, nil, nil, nil, fmt.Errorf("run experiment: %w", err)
	}
	rec := RunRecord{Exit: res.ExitCode, Notes: res.Notes}
	if res.Placement.Executor != "" {
		p := res.Placement
		rec.Where = &p
	}
	var score *task.Score
	var evalErr error
	if res.OK() {
		score, evalErr = lab.Evaluate(ctx, workspace)
		var stepErr *task.StepError
		if evalErr != nil && !errors.As(evalErr, &stepErr) {
			return RunRecord{}, nil, nil, nil, evalErr
		}
		if evalErr == nil {
			v := score.Value
			rec.Metric = &v
			rec.OK = true
		} else {
			rec.Error = "evaluation failed: " + evalErr.Error()
		}
	} else {
		rec.Error = failure(res)
	}
	rec.Seconds = time.Since(start).Seconds()
	return rec, res, score, evalErr, nil
}

func failure(res *sandbox.Result) string {
	switch {
	case res.TimedOut:
		return "timed out"
	case res.OOM:
		return "out of memory"
	case res.Signal != "":
		return "killed by signal " + res.Signal
	}
	return fmt.Sprintf("exit status %d", res.ExitCode)
}

func describeRun(lab *Lab, tr *Tracker, rec RunRecord, res *sandbox.Result, score *task.Score, evalErr error, newBest bool) string {
	var b strings.Builder
	status := "succeeded"
	if !res.OK() {
		status = "FAILED: " + failure(res)
	}
	fmt.Fprintf(&b, "Experiment run %d %s (exit status %d, %s) [sandbox: %s]\n", rec.Run, status, res.ExitCode, runTime(res.Duration, lab.Task.Limits.RunTimeout), lab.Isolation)
	if p := res.Placement; p.Executor != "" && (p.Executor != "local" || len(p.GPUs) > 0) {
		fmt.Fprintf(&b, "Ran as %s\n", p)
	}
	if w := slowWarning(res.Duration, lab.Task.Limits.RunTimeout); w != "" && !res.TimedOut {
		b.WriteString(w + "\n")
	}
	switch {
	case rec.Metric != nil:
		fmt.Fprintf(&b, "Metric from the evaluator: %s = %.6g (%s; %s", tr.Metric, *rec.Metric, tr.Goal, tr.referenceText())
		if rec.Reference {
			b.WriteString(": this run is that reference; improve on it")
		} else if best, ok := tr.Best(); ok {
			fmt.Fprintf(&b, "; best so far %.6g in run %d", *best.Metric, best.Run)
		}
		b.WriteString(")")
		if newBest {
			b.WriteString(" ← new best")
		}
		b.WriteString("\n")
	case evalErr != nil:
		fmt.Fprintf(&b, "The run finished but the evaluator could not score it:\n%s\n", evalErr)
	default:
		b.WriteString("Not evaluated, because the run failed.\n")
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "Note: %s\n", n)
	}
	if out := strings.TrimSpace(res.Stdout.Text); out != "" {
		fmt.Fprintf(&b, "--- stdout ---\n%s\n", agent.Clip(out, 2500))
	}
	if errOut := strings.TrimSpace(res.Stderr.Text); errOut != "" {
		fmt.Fprintf(&b, "--- stderr ---\n%s\n", agent.Clip(errOut, 3500))
	}
	return b.String()
}

// runTime is how long a run took against its limit: "233.0 s of the 5m0s
// limit".
func runTime(d, limit time.Duration) string {
	if limit <= 0 {
		return fmt.Sprintf("%.1f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s of the %s limit", d.Seconds(), limit)
}

// slowWarning warns when a run used more than half of its time limit: run
// times vary, and the next, slightly heavier version may be killed.
func slowWarning(d, limit time.Duration) string {
	if limit <= 0 || d <= limit/2 {
		return ""
	}
	return fmt.Sprintf("WARNING: this run took %.0f s, %.0f%% of its %s limit. Run times vary from run to run: a variant that does a little more work may be killed at the limit. Leave a margin (fewer epochs or trees, a subsample for tuning, write the predictions as soon as they exist).",
		d.Seconds(), 100*d.Seconds()/limit.Seconds(), limit)
}

// summarizeRun is a run in one line, with how long it took: the line the
// agent sees of it once the step is old.
func summarizeRun(tr *Tracker, rec RunRecord, newBest bool) string {
	took := fmt.Sprintf(" [%.0f s]", rec.Seconds)
	if rec.Metric == nil {
		return fmt.Sprintf("run_experiment #%d → failed: %s", rec.Run, agent.Clip(rec.Error, 120)) + took
	}
	s := fmt.Sprintf("run_experiment #%d → %s %.6g", rec.Run, tr.Metric, *rec.Metric)
	if rec.Reference {
		s += " (the reference: first working run)"
	} else if newBest {
		s += " (new best)"
	}
	return s + took
}

// finalTool ends the run, after the final gate.
type finalParams struct {
	Summary string `json:"summary" jsonschema:"what you changed, why, and the metric reached compared with the baseline"`
	KeepRun int    `json:"keep_run,omitempty" jsonschema:"the number of the run whose code to keep; omit it to keep the best measured run. A run other than the best is kept only within the noise band of the best."`
}

func finalTool(gates Gates) agent.Tool {
	return agent.NewFunc("final_answer", doc("final_answer"), func(ctx context.Context, p finalParams) (agent.Result, error) {
		if gates.on() {
			a, err := gates.Human.Ask(ctx, Question{Gate: "final", Text: "The agent wants to finish:\n" + p.Summary})
			if err != nil {
				return agent.Result{}, err
			}
			if a.Guidance != "" && !a.Stop {
				return agent.Result{Content: "The researcher does not accept the final answer yet: " + a.Guidance, IsError: true, Summary: "final_answer: sent back with guidance: " + a.Guidance}, nil
			}
		}
		return agent.Result{Content: "Final answer recorded.", Final: true, Summary: "final_answer: " + agent.Clip(p.Summary, 200)}, nil
	})
}

type askParams struct {
	Question string `json:"question" jsonschema:"the question for the researcher"`
}

func askTool(gates Gates) agent.Tool {
	return agent.NewFunc("ask_human", doc("ask_human"), func(ctx context.Context, p askParams) (agent.Result, error) {
		if !gates.on() {
			return agent.Result{Content: "No researcher is watching this run (it runs unattended). Decide yourself, and say in your final answer what you assumed."}, nil
		}
		a, err := gates.Human.Ask(ctx, Question{Gate: "ask", Text: p.Question})
		if err != nil {
			return agent.Result{}, err
		}
		switch {
		case a.Stop:
			return agent.Result{Content: "The researcher stopped the run.", Final: true}, nil
		case a.Guidance == "":
			return agent.Result{Content: "The researcher gave no answer; decide yourself."}, nil
		}
		return agent.Result{Content: "The researcher answers: " + a.Guidance}, nil
	})
}

// DebugBudget stops the run after n failed experiment runs in a row.
func DebugBudget(n int) agent.Check {
	return func(history []agent.Step) ([]string, string) {
		fails := 0
	scan:
		for i := len(history) - 1; i >= 0; i-- {
			for j := len(history[i].Outcomes) - 1; j >= 0; j-- {
				o := history[i].Outcomes[j]
				if o.Call.Name != "run_experiment" || o.Data == nil {
					continue
				}
				var r RunRecord
				if json.Unmarshal(o.Data, &r) != nil || r.OK {
					break scan
				}
				fails++
			}
		}
		switch {
		case n > 0 && fails >= n:
			return nil, fmt.Sprintf("debug budget: %d failed runs in a row", fails)
		case n > 1 && fails == n-1:
			return []string{fmt.Sprintf("%d runs in a row have failed; one more failure ends the run. Consider undoing to the last working version.", fails)}, ""
		}
		return nil, ""
	}
}
