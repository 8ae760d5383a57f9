package experiment

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mlrc/mlrc/snapshot"
)

// Workspace is the directory the agent works in. Every path a tool takes is
// relative to it and must stay inside it, symlinks included; protected paths
// cannot be changed. Changes are journaled so that they can be undone.
type Workspace struct {
	root      string
	protected []string

	mu      sync.Mutex
	journal []change

	// changed is set by whatever may have changed the files (a write, an
	// undo, an experiment run) and cleared when a snapshot records them.
	changed atomic.Bool
}

// change is one file as it was before an edit or a write.
type change struct {
	path    string // relative
	before  []byte
	existed bool
}

// NewWorkspace returns the workspace rooted at dir; protected lists paths
// relative to it ("data/", "eval.py") that the agent may read but not change.
func NewWorkspace(dir string, protected []string) (*Workspace, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	w := &Workspace{root: root}
	for _, p := range protected {
		w.protected = append(w.protected, filepath.Clean(p))
	}
	return w, nil
}

// Root returns the workspace's absolute path.
func (w *Workspace) Root() string { return w.root }

// errOutside is shown to the model when a path leaves the workspace.
var errOutside = errors.New("is outside the workspace; use a path relative to the workspace root, such as train.py or data/train.csv")

// resolve turns a path given by the model into an absolute one inside the
// workspace, refusing escapes by "..", absolute paths or symlinks.
func (w *Workspace) resolve(p string) (abs, rel string, err error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "." || p == "/" {
		return w.root, ".", nil
	}
	if filepath.IsAbs(p) {
		if r, err := filepath.Rel(w.root, p); err == nil && !strings.HasPrefix(r, "..") {
			p = r
		} else {
			return "", "", fmt.Errorf("path %q %w", p, errOutside)
		}
	}
	rel = filepath.Clean(p)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", "", fmt.Errorf("path %q %w", p, errOutside)
	}
	abs = filepath.Join(w.root, rel)
	// Follow symlinks of the longest existing prefix: a link may not lead out.
	existing := abs
	for {
		if _, err := os.Lstat(existing); err == nil {
			break
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return "", "", fmt.Errorf("path %q: %v", p, err)
	}
	if real != w.root && !strings.HasPrefix(real, w.root+string(filepath.Separator)) {
		return "", "", fmt.Errorf("path %q leads through a symlink to %s, which %w", p, real, errOutside)
	}
	return abs, rel, nil
}

// isProtected reports whether rel is, or lies under, a protected path.
func (w *Workspace) isProtected(rel string) bool {
	for _, p := range w.protected {
		if rel == p || strings.HasPrefix(rel, p+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func (w *Workspace) writable(p string) (abs, rel string, err error) {
	abs, rel, err = w.resolve(p)
	if err != nil {
		return "", "", err
	}
	if w.isProtected(rel) {
		return "", "", fmt.Errorf("%s is protected: the task does not allow changing it (protected: %s); change other files instead", rel, strings.Join(w.protected, ", "))
	}
	return abs, rel, nil
}

// write replaces a file's contents, journaling what was there.
func (w *Workspace) write(abs, rel string, data []byte) error {
	w.changed.Store(true)
	before, err := os.ReadFile(abs)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(abs, data, 0o644); err != nil {
		return err
	}
	w.mu.Lock()
	w.journal = append(w.journal, change{path: rel, before: before, existed: existed})
	w.mu.Unlock()
	return nil
}

// undo reverts the last journaled change and says which.
func (w *Workspace) undo() (string, error) {
	w.mu.Lock()
	if len(w.journal) == 0 {
		w.mu.Unlock()
		return "", errors.New("there is nothing to undo: no edit or write has been made since the run started (or all have been undone)")
	}
	c := w.journal[len(w.journal)-1]
	w.journal = w.journal[:len(w.journal)-1]
	w.mu.Unlock()
	w.changed.Store(true)
	abs := filepath.Join(w.root, c.path)
	if !c.existed {
		if err := os.Remove(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return fmt.Sprintf("Removed %s, which the last write had created.", c.path), nil
	}
	if err := os.WriteFile(abs, c.before, 0o644); err != nil {
		return "", err
	}
	return fmt.Sprintf("Restored %s to its content before the last change.", c.path), nil
}

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
