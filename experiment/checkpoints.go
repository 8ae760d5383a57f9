package experiment

import (
	"context"
	"sync"

	"github.com/mlrc/mlrc/snapshot"
)

// touched records that something outside the workspace's own methods (an
// experiment run, its evaluation) may have changed the files.
func (w *Workspace) touched() { w.mayHaveChanged.Store(true) }

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
	// Clear the flags before committing: a change made while git runs
	// sets them again and is recorded next time.
	changed, maybe := c.ws.changed.Swap(false), c.ws.mayHaveChanged.Swap(false)
	if c.last != "" && !changed && !maybe && !always {
		return c.last, nil
	}
	var id string
	var err error
	if c.last != "" && !changed {
		// Probably unchanged (a run that wrote nothing, the check before
		// a run): compare with the last commit before committing.
		id, _, err = c.repo.CommitUnless(ctx, message, c.last)
	} else {
		id, _, err = c.repo.Commit(ctx, message)
	}
	if err != nil {
		c.ws.changed.Store(true)
		return "", err
	}
	c.last = id
	return id, nil
}
