package experiment

import (
	"context"
	"sync"

	"github.com/mlrc/mlrc/snapshot"
)

// touched records that something outside the workspace's own methods (an
// experiment run, its evaluation) may have changed the files.
func (w *Workspace) touched() { w.changed.Store(true) }

// checkpoints commits the workspace to its snapshot repository, but only
// when something may have changed it since the last commit: a read-only
// agent step costs no git process. The workspace must be exactly last when
// checkpoints is made.
type checkpoints struct {
	repo *snapshot.Repo
	ws   *Workspace

	mu   sync.Mutex
	last string
}

// commit returns the commit that records the workspace as it is now.
func (c *checkpoints) commit(ctx context.Context, message string) (string, error) {
	return c.record(ctx, message, false)
}

// beforeRun records the workspace an experiment is about to run on, always
// looking at the files themselves: what runs must be exactly what the
// snapshot holds, even if something outside the tools changed the files
// (an escape from the sandbox, a person editing them). git finds an
// unchanged workspace cheaply, and a run costs far more.
func (c *checkpoints) beforeRun(ctx context.Context, message string) (string, error) {
	return c.record(ctx, message, true)
}

func (c *checkpoints) record(ctx context.Context, message string, always bool) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Clear the flag before committing: a change made while git runs
	// sets it again and is recorded next time.
	if changed := c.ws.changed.Swap(false); c.last != "" && !changed && !always {
		return c.last, nil
	}
	id, _, err := c.repo.Commit(ctx, message)
	if err != nil {
		c.ws.changed.Store(true)
		return "", err
	}
	c.last = id
	return id, nil
}
