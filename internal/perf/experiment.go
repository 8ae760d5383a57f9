package perf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// Lab is what the experiment and validation figures run on.
type Lab struct {
	Task      *task.Task
	Runner    sandbox.Runner
	Isolation string
	Python    string
	// Dir holds the runs' directories; Store records them.
	Dir   string
	Store *store.Store
}

// StepRun is one scripted experiment run.
type StepRun struct {
	// Overhead is mlrc's own time per agent step, in ms: each step's wall
	// time minus the time its commands spent in the sandbox.
	Overhead []float64
	// Wall and Sandboxed are the whole run's wall time and the sum of its
	// sandboxed commands' times (setup, baseline, experiments, evaluation).
	Wall, Sandboxed time.Duration
	Run             *store.Run
	Result          *experiment.Result
}

// stepScript is a run of n agent steps with an instant model: reading,
// listing, writing a note, inspecting the data, running the experiment,
// reading again, in turn; the last step is the final answer.
func stepScript(n int) []scripted.Response {
	call := func(name string, args map[string]any) scripted.Response {
		return scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}
	}
	var rs []scripted.Response
	for i := range n - 1 {
		switch i % 6 {
		case 0:
			rs = append(rs, call("read_file", map[string]any{"path": "train.py"}))
		case 1:
			rs = append(rs, call("list_files", nil))
		case 2:
			rs = append(rs, call("write_file", map[string]any{"path": "notes.txt", "content": fmt.Sprintf("note %d\n", i)}))
		case 3:
			rs = append(rs, call("read_file", map[string]any{"path": "notes.txt"}))
		case 4:
			rs = append(rs, call("run_experiment", map[string]any{"note": fmt.Sprintf("run at step %d", i+1)}))
		case 5:
			rs = append(rs, call("list_files", map[string]any{"depth": 1}))
		}
	}
	return append(rs, call("final_answer", map[string]any{"summary": "kept the baseline"}))
}

// Steps runs a linear experiment of n agent steps on lab with an instant
// scripted model and measures mlrc's own time per step.
func Steps(ctx context.Context, lab Lab, n int) (*StepRun, error) {
	run, err := lab.Store.CreateRun(ctx, store.NewRun{Kind: "experiment", RunsDir: filepath.Join(lab.Dir, "runs")})
	if err != nil {
		return nil, err
	}
	timed := &Timed{Runner: lab.Runner}
	model := scripted.New("instant", stepScript(n))
	var (
		mu       sync.Mutex
		lastAt   time.Time
		lastBox  time.Duration
		overhead []float64
	)
	mark := func() {
		now := time.Now()
		box, _ := timed.Total()
		mu.Lock()
		defer mu.Unlock()
		if !lastAt.IsZero() {
			overhead = append(overhead, float64(now.Sub(lastAt)-(box-lastBox))/float64(time.Millisecond))
		}
		lastAt, lastBox = now, box
	}
	cfg := experiment.Config{
		Task: lab.Task, Sandbox: timed, Isolation: lab.Isolation, Python: lab.Python, Run: run,
		Model:    llm.Stack{Provider: "scripted", Model: "instant", Recorder: run}.Wrap(model),
		MaxSteps: n,
		Progress: func(e experiment.Event) {
			if e.Kind == "baseline" || e.Kind == "step" {
				mark()
			}
		},
	}
	start := time.Now()
	res, err := experiment.Run(ctx, cfg)
	wall := time.Since(start)
	if err != nil {
		return nil, err
	}
	box, _ := timed.Total()
	if len(overhead) == 0 || box <= 0 {
		return nil, errors.New("the experiment ran no step")
	}
	return &StepRun{Overhead: overhead, Wall: wall, Sandboxed: box, Run: run, Result: res}, nil
}

// Fixture is a task set up once for validation: its untouched prototype.
type Fixture struct {
	Prototype string
	TaskHash  string
	Protected map[string]string
}

// Setup prepares lab's task once in lab.Dir for Validation.
func Setup(ctx context.Context, lab Lab) (*Fixture, error) {
	l := task.Layout{Workspace: filepath.Join(lab.Dir, "fixture", "workspace"), Private: filepath.Join(lab.Dir, "fixture", "private")}
	if _, err := lab.Task.Setup(ctx, lab.Runner, l, task.Options{Python: lab.Python}); err != nil {
		return nil, err
	}
	f := &Fixture{Prototype: filepath.Join(lab.Dir, "fixture", "prototype")}
	if err := task.CopyDir(f.Prototype, l.Workspace); err != nil {
		return nil, err
	}
	var err error
	if f.TaskHash, err = lab.Task.Hash(); err != nil {
		return nil, err
	}
	if f.Protected, err = validate.HashProtected(l.Workspace, lab.Task.Protected); err != nil {
		return nil, err
	}
	return f, nil
}

// Validation validates best against the fixture's prototype over seeds and
// returns its wall time ÷ (its sandboxed time ÷ cores): 1 when the re-runs
// keep every core busy, the number of cores when they run one at a time.
func Validation(ctx context.Context, lab Lab, f *Fixture, best string, seeds []int) (float64, error) {
	work, err := os.MkdirTemp(lab.Dir, "validation-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(work)
	timed := &Timed{Runner: lab.Runner}
	start := time.Now()
	_, err = validate.Run(ctx, validate.Config{
		Task: lab.Task, Sandbox: timed, Python: lab.Python, Seeds: seeds,
		Prototype: f.Prototype, Best: best, WorkDir: work,
		TaskHash: f.TaskHash, ProtectedHashes: f.Protected,
	})
	wall := time.Since(start)
	if err != nil {
		return 0, err
	}
	box, _ := timed.Total()
	if box <= 0 {
		return 0, errors.New("validation ran nothing in the sandbox")
	}
	return wall.Seconds() / (box.Seconds() / float64(Cores())), nil
}
