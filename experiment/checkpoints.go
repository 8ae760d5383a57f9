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
	c.mu.Lock()
	defer c.mu.Unlock()
	// Clear the flag before committing: a change made while git runs
	// sets it again and is recorded next time.
	if c.last != "" && !c.ws.changed.Swap(false) {
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
