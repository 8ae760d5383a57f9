// Package snapshot records a workspace's files as commits in a git
// repository kept outside the workspace, so that the code the agent cannot
// see cannot be changed by it either: every step's state can be restored,
// diffed against the prototype, and replayed.
package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// DefaultMaxFile is the size above which a file is left out of snapshots.
const DefaultMaxFile = 100 << 20

// Repo is a git repository whose work tree is a workspace.
type Repo struct {
	// MaxFile is the size above which a file is not recorded (zero:
	// DefaultMaxFile): a workspace can hold gigabytes of checkpoints or
	// generated data, which git would copy and compress at every step.
	MaxFile int64

	gitDir   string
	workTree string
	mu       sync.Mutex // git's index is one per repository
	skipped  []string   // by the last Commit, with sizes
}

// Open opens (creating if needed) the repository at gitDir for workTree.
func Open(ctx context.Context, gitDir, workTree string) (*Repo, error) {
	if _, err := exec.LookPath("git"); err != nil {
		return nil, errors.New("snapshot: git is not installed: apt-get install git")
	}
	gitDir, err := filepath.Abs(gitDir)
	if err != nil {
		return nil, err
	}
	workTree, err = filepath.Abs(workTree)
	if err != nil {
		return nil, err
	}
	r := &Repo{gitDir: gitDir, workTree: workTree}
	if _, err := os.Stat(filepath.Join(gitDir, "HEAD")); err != nil {
		if err := os.MkdirAll(gitDir, 0o755); err != nil {
			return nil, fmt.Errorf("snapshot: %w", err)
		}
		cmd := exec.CommandContext(ctx, "git", "init", "--quiet", "--bare", gitDir)
		cmd.Env = gitEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("snapshot: git init: %v: %s", err, out)
		}
		if _, err := r.git(ctx, "config", "core.bare", "false"); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// WorkTree returns the workspace directory.
func (r *Repo) WorkTree() string { return r.workTree }

func (r *Repo) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir", r.gitDir, "--work-tree", r.workTree}, args...)...)
	cmd.Dir = r.workTree
	cmd.Env = gitEnv()
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("snapshot: git %s: %v: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// Commit records the workspace as it is now and returns the commit id. When
// nothing changed since the last commit it returns that commit and false.
func (r *Repo) Commit(ctx context.Context, message string) (id string, changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commit(ctx, message, "")
}

// CommitUnless is Commit for a workspace that has probably not changed
// since commit last: when the files are exactly last, it returns last and
// false after two git processes (stage, compare) instead of four.
func (r *Repo) CommitUnless(ctx context.Context, message, last string) (id string, changed bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.commit(ctx, message, last)
}

func (r *Repo) commit(ctx context.Context, message, last string) (id string, changed bool, err error) {
	// --force: a .gitignore written into the workspace must not hide files
	// from the record; only Python's caches and files over MaxFile are
	// left out.
	big := r.bigFiles()
	r.skipped = r.skipped[:0]
	spec := []string{"add", "--all", "--force", "--", ".",
		":(exclude,glob)**/__pycache__/**", ":(exclude,glob)**/*.pyc", ":(exclude,glob)**/.ipynb_checkpoints/**"}
	var drop []string
	for _, f := range big {
		spec = append(spec, ":(exclude,literal)"+f.path)
		drop = append(drop, ":(literal)"+f.path)
		r.skipped = append(r.skipped, fmt.Sprintf("%s (%.1f MiB)", f.path, float64(f.size)/(1<<20)))
	}
	if _, err := r.git(ctx, spec...); err != nil {
		return "", false, err
	}
	if len(drop) > 0 { // recorded by an earlier commit, when smaller
		if _, err := r.git(ctx, append([]string{"rm", "--cached", "--quiet", "--ignore-unmatch", "--"}, drop...)...); err != nil {
			return "", false, err
		}
		message += fmt.Sprintf("\n\nNot recorded (over %d MiB): %s", r.maxFile()>>20, strings.Join(r.skipped, ", "))
	}
	if last != "" {
		if _, err := r.git(ctx, "diff", "--cached", "--quiet", last, "--"); err == nil {
			return last, false, nil
		}
	}
	// Commit straight away: when something changed (the usual case, since
	// callers commit after changes) that is three git processes in all.
	// git commit refuses an index equal to HEAD; only then look closer.
	if _, err := r.git(ctx, "commit", "--quiet", "--no-verify", "-m", message); err != nil {
		head, _ := r.git(ctx, "rev-parse", "--verify", "--quiet", "HEAD")
		if head != "" {
			if _, derr := r.git(ctx, "diff", "--cached", "--quiet", "HEAD"); derr == nil {
				return head, false, nil // nothing changed
			}
			return "", false, err
		}
		// The first commit, of an empty workspace.
		if _, err := r.git(ctx, "commit", "--quiet", "--allow-empty", "--no-verify", "-m", message); err != nil {
			return "", false, err
		}
	}
	id, err = r.git(ctx, "rev-parse", "HEAD")
	return id, true, err
}

// Skipped lists the files the last Commit left out for their size, each
// with its size ("model.pt (960.0 MiB)").
func (r *Repo) Skipped() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.skipped...)
}

func (r *Repo) maxFile() int64 {
	if r.MaxFile > 0 {
		return r.MaxFile
	}
	return DefaultMaxFile
}

type sizedFile struct {
	path string // slash-separated, relative to the work tree
	size int64
}

// bigFiles lists the regular files of the work tree over maxFile.
func (r *Repo) bigFiles() []sizedFile {
	var big []sizedFile
	limit := r.maxFile()
	filepath.WalkDir(r.workTree, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if fi, err := d.Info(); err == nil && fi.Size() > limit {
			rel, _ := filepath.Rel(r.workTree, p)
			big = append(big, sizedFile{filepath.ToSlash(rel), fi.Size()})
		}
		return nil
	})
	return big
}

// Restore makes the workspace exactly commit id: changed files are put back,
// files added since are removed.
func (r *Repo) Restore(ctx context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, err := r.git(ctx, "read-tree", "--reset", "-u", id); err != nil {
		return err
	}
	if _, err := r.git(ctx, "clean", "-fdxq"); err != nil {
		return err
	}
	_, err := r.git(ctx, "update-ref", "HEAD", id)
	return err
}

// Diff returns the unified diff between two commits ("" for the first
// commit means the empty tree is not used: from must be a commit).
func (r *Repo) Diff(ctx context.Context, from, to string, paths ...string) (string, error) {
	args := append([]string{"diff", "--no-color", "--stat", "--patch", from, to, "--"}, paths...)
	return r.git(ctx, args...)
}

// Change is a file that differs between two commits.
type Change struct {
	Path string
	// Status is git's letter: A added, M modified, D deleted, T type
	// changed.
	Status string
	// Size is the file's size in bytes in the later commit; -1 when it was
	// deleted.
	Size int64
}

// Changes lists the files that differ between two commits, with their
// sizes in to.
func (r *Repo) Changes(ctx context.Context, from, to string) ([]Change, error) {
	out, err := r.git(ctx, "diff", "--no-renames", "--name-status", "-z", from, to)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int64{}
	tree, err := r.git(ctx, "ls-tree", "-r", "-l", "-z", to)
	if err != nil {
		return nil, err
	}
	for _, e := range strings.Split(tree, "\x00") {
		meta, path, ok := strings.Cut(e, "\t")
		if f := strings.Fields(meta); ok && len(f) == 4 {
			if n, err := strconv.ParseInt(f[3], 10, 64); err == nil {
				sizes[path] = n
			}
		}
	}
	var changes []Change
	f := strings.Split(strings.Trim(out, "\x00"), "\x00")
	for i := 0; i+1 < len(f); i += 2 {
		c := Change{Status: f[i], Path: f[i+1], Size: -1}
		if n, ok := sizes[c.Path]; ok {
			c.Size = n
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// Files lists the files of commit id.
func (r *Repo) Files(ctx context.Context, id string) ([]string, error) {
	out, err := r.git(ctx, "ls-tree", "-r", "--name-only", id)
	if err != nil || out == "" {
		return nil, err
	}
	return strings.Split(out, "\n"), nil
}

// Export writes the files of commit id into dir (a fresh workspace for a
// tree-search node or a validation re-run).
func (r *Repo) Export(ctx context.Context, id, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	cmd := exec.CommandContext(ctx, "git", "--git-dir", r.gitDir, "--work-tree", dir, "checkout", "--force", id, "--", ".")
	cmd.Env = append(gitEnv(), "GIT_INDEX_FILE="+filepath.Join(dir, ".mlrc-export-index"))
	out, err := cmd.CombinedOutput()
	os.Remove(filepath.Join(dir, ".mlrc-export-index"))
	if err != nil {
		return fmt.Errorf("snapshot: export %s: %v: %s", id, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// gitEnv isolates git from the user's configuration and names the author.
func gitEnv() []string {
	return append(os.Environ(),
		"GIT_AUTHOR_NAME=mlrc", "GIT_AUTHOR_EMAIL=mlrc@localhost",
		"GIT_COMMITTER_NAME=mlrc", "GIT_COMMITTER_EMAIL=mlrc@localhost",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
}
