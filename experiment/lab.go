package experiment

import (
	"context"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// Lab runs a task's experiments and its evaluator in a sandbox, for any
// workspace (the agent's, or a tree-search node's).
type Lab struct {
	Task    *task.Task
	Sandbox sandbox.Runner
	// Isolation names the sandbox, shown with every run.
	Isolation string
	// Private holds the run's held-out labels (never mounted for experiments).
	Private string
	Options task.Options
}

func (l *Lab) layout(workspace string) task.Layout {
	return task.Layout{Workspace: workspace, Private: l.Private}
}

// Run runs the experiment in workspace.
func (l *Lab) Run(ctx context.Context, workspace string) (*sandbox.Result, error) {
	return l.Task.Run(ctx, l.Sandbox, l.layout(workspace), l.Options)
}

// Evaluate scores workspace.
func (l *Lab) Evaluate(ctx context.Context, workspace string) (*task.Score, error) {
	return l.Task.Evaluate(ctx, l.Sandbox, l.layout(workspace), l.Options)
}
