package task

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlrc/mlrc/sandbox"
)

// Baseline is the score of a task's untouched prototype.
type Baseline struct {
	Task    *Task
	Score   *Score
	Prepare *sandbox.Result // nil when the task has no prepare step
	Run     *sandbox.Result
	// Elapsed is the whole check: setup, run and evaluation.
	Elapsed time.Duration
	// Warnings are problems that do not stop the task, as sentences.
	Warnings []string
}

// Check runs the task's prototype once as mlrc would: set up l, run the
// experiment, evaluate. A step that fails is a *StepError.
func (t *Task) Check(ctx context.Context, x Executor, l Layout, opt Options) (*Baseline, error) {
	start := time.Now()
	b := &Baseline{Task: t}
	if v := t.VisibleLabels(); len(v) > 0 {
		if !opt.AllowVisibleLabels {
			return b, &VisibleLabelsError{Task: t.Name, Files: v}
		}
		b.Warnings = append(b.Warnings, fmt.Sprintf("the evaluator reads %s from the workspace, where the agent can read it (allowed)", strings.Join(v, ", ")))
	}
	var err error
	if b.Prepare, err = t.Setup(ctx, x, l, opt); err != nil {
		return b, err
	}
	if _, missing := t.ProtectedPaths(l.Workspace); len(missing) > 0 {
		b.Warnings = append(b.Warnings, fmt.Sprintf("protected: %s not in the workspace after prepare (a typo, or prepare did not make it): left unprotected", strings.Join(missing, ", ")))
	}
	b.Warnings = append(b.Warnings, t.SystemCopies(l, opt.python(), nil)...)
	if b.Run, err = t.Run(ctx, x, l, opt); err != nil {
		return b, fmt.Errorf("run %s: %w", t.Name, err)
	}
	if !b.Run.OK() {
		return b, &StepError{Step: "run", Reason: "the prototype " + failure(b.Run, "limits.run_timeout"), Result: b.Run}
	}
	if b.Score, err = t.Evaluate(ctx, x, l, opt); err != nil {
		if t.Reference == ReferenceFirstRun {
			return b, fmt.Errorf("%w\n(no baseline, as this task's reference: first-run expects of a template prototype: research runs take the first working run as the reference)", err)
		}
		return b, fmt.Errorf("%w\n(no baseline: if the prototype is a template that leaves the model to the agent, run anyway with --reference first-run on mlrc research or mlrc experiment, or reference: first-run in task.yaml: the first working run becomes the reference)", err)
	}
	b.Elapsed = time.Since(start)
	return b, nil
}

// Check loads the task in dir and checks it in a temporary layout that is
// removed afterwards.
func Check(ctx context.Context, dir string, x Executor, opt Options) (*Baseline, error) {
	t, err := Load(dir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "mlrc-check-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	return t.Check(ctx, x, Layout{Workspace: filepath.Join(tmp, "workspace"), Private: filepath.Join(tmp, "private")}, opt)
}
