package validate

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/mlrc/mlrc/task"
)

// HashProtected returns the SHA-256 (hex) of every file under the
// protected paths of workspace, by slash-separated workspace-relative path;
// a symbolic link is recorded as "symlink:" and its target. Protected paths
// that do not exist are left out. Take it right after task.Setup (or on the
// exported "prototype" snapshot) for Config.ProtectedHashes.
func HashProtected(workspace string, protected []string) (map[string]string, error) {
	out := map[string]string{}
	for _, p := range protected {
		root := filepath.Join(workspace, filepath.FromSlash(p))
		if _, err := os.Lstat(root); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := walkFiles(root, func(file string, d fs.DirEntry) error {
			rel, err := filepath.Rel(workspace, file)
			if err != nil {
				return err
			}
			h, err := hashEntry(file, d)
			if err != nil {
				return err
			}
			out[filepath.ToSlash(rel)] = h
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("hash protected %s: %w", p, err)
		}
	}
	return out, nil
}

// walkFiles calls fn for every regular file and symbolic link under root
// (root itself when it is one), leaving out what snapshots leave out:
// Python caches and version control.
func walkFiles(root string, fn func(file string, d fs.DirEntry) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		switch {
		case d.IsDir() && (name == "__pycache__" || name == ".git" || name == ".ipynb_checkpoints"):
			return filepath.SkipDir
		case d.IsDir(), strings.HasSuffix(name, ".pyc"), name == ".mlrc-export-index":
			return nil
		case d.Type().IsRegular() || d.Type()&fs.ModeSymlink != 0:
			return fn(p, d)
		}
		return nil
	})
}

func hashEntry(p string, d fs.DirEntry) (string, error) {
	if d.Type()&fs.ModeSymlink != 0 {
		link, err := os.Readlink(p)
		return "symlink:" + link, err
	}
	return hashFile(p)
}

func hashFile(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// isProtected reports whether the slash-separated workspace-relative path
// rel is, or is inside, one of the protected paths.
func isProtected(rel string, protected []string) bool {
	for _, p := range protected {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// workspaceRef matches a workspace file named in an evaluate command.
var workspaceRef = regexp.MustCompile(`\{workspace\}/([^\s'"$;|&<>(){}]+)`)

// evaluatorInputs lists the workspace files the evaluate command names
// ({workspace}/predictions.csv): what an experiment must write. A stale
// copy in the agent's workspace must not be scored in place of the
// re-run's own.
func evaluatorInputs(evaluate string, protected []string) []string {
	var out []string
	for _, m := range workspaceRef.FindAllStringSubmatch(evaluate, -1) {
		rel := path.Clean(m[1])
		if rel == "." || rel == ".." || strings.HasPrefix(rel, "../") || isProtected(rel, protected) {
			continue
		}
		out = append(out, rel)
	}
	return out
}

// overlay makes workspace, fresh from task.Setup, hold an arm's code from
// src: outside the protected paths, files src lacks are removed and every
// file of src is copied over (symbolic links as links); the protected paths
// keep what the task made. Then the evaluator's inputs are removed, so
// that only the re-run can write them.
func overlay(workspace, src string, protected, inputs []string) error {
	rel := func(root, p string) string {
		r, _ := filepath.Rel(root, p)
		return filepath.ToSlash(r)
	}
	// Files the arm does not have.
	var stale []string
	err := walkFiles(workspace, func(p string, d fs.DirEntry) error {
		r := rel(workspace, p)
		if isProtected(r, protected) {
			return nil
		}
		if _, err := os.Lstat(filepath.Join(src, filepath.FromSlash(r))); errors.Is(err, fs.ErrNotExist) {
			stale = append(stale, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range stale {
		if err := os.Remove(p); err != nil {
			return err
		}
	}
	// The arm's files.
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		r := rel(src, p)
		if r == "." {
			return nil
		}
		name := d.Name()
		if isProtected(r, protected) || d.IsDir() && (name == "__pycache__" || name == ".git" || name == ".ipynb_checkpoints") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".pyc") || name == ".mlrc-export-index" {
			return nil
		}
		dst := filepath.Join(workspace, filepath.FromSlash(r))
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, statErr := os.Lstat(dst)
		switch {
		case d.IsDir():
			if statErr == nil && !st.IsDir() {
				if err := os.Remove(dst); err != nil {
					return err
				}
			}
			return os.MkdirAll(dst, info.Mode().Perm()|0o700)
		case statErr == nil:
			if err := os.RemoveAll(dst); err != nil {
				return err
			}
		}
		switch {
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, dst)
		case info.Mode().IsRegular():
			return task.CopyFile(dst, p, info.Mode().Perm()|0o600)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	for _, in := range inputs {
		if err := os.RemoveAll(filepath.Join(workspace, filepath.FromSlash(in))); err != nil {
			return err
		}
	}
	return nil
}

// heldOut is the content of the held-out files, to recognise copies. Its
// methods may be called from several goroutines.
type heldOut struct {
	mu     sync.RWMutex
	byHash map[string]string // sha256 → the file, for messages
	sizes  map[int64]bool
}

// addDir records every non-empty regular file under dir.
func (h *heldOut) addDir(dir string) error {
	byHash, sizes := map[string]string{}, map[int64]bool{}
	err := walkFiles(dir, func(p string, d fs.DirEntry) error {
		info, err := d.Info()
		if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
			return err
		}
		sum, err := hashFile(p)
		if err != nil {
			return err
		}
		if _, ok := byHash[sum]; !ok {
			byHash[sum] = filepath.Join(filepath.Base(dir), filepath.Base(p))
		}
		sizes[info.Size()] = true
		return nil
	})
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byHash == nil {
		h.byHash, h.sizes = map[string]string{}, map[int64]bool{}
	}
	for k, v := range byHash {
		if _, ok := h.byHash[k]; !ok {
			h.byHash[k] = v
		}
	}
	for k := range sizes {
		h.sizes[k] = true
	}
	return nil
}

// has returns the held-out file with the size and hash of a file, and
// whether one is held out; sum is called only when the size matches.
func (h *heldOut) has(size int64, sum func() (string, error)) (string, bool, error) {
	h.mu.RLock()
	sized := h.sizes[size]
	h.mu.RUnlock()
	if !sized {
		return "", false, nil
	}
	s, err := sum()
	if err != nil {
		return "", false, err
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	f, ok := h.byHash[s]
	return f, ok, nil
}

// leaks lists what in dir gives an evaluator the held-out data instead of
// an experiment's work: files that are byte-for-byte copies of held-out
// files and, when off is not empty, symbolic links that resolve into one
// of the off-limits directories (the private directory, the task, its
// data), which the evaluator can read.
func (h *heldOut) leaks(dir string, off []string) ([]string, error) {
	var out []string
	err := walkFiles(dir, func(p string, d fs.DirEntry) error {
		r, _ := filepath.Rel(dir, p)
		r = filepath.ToSlash(r)
		if d.Type()&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				return nil // dangling: the evaluator cannot read through it either
			}
			for _, o := range off {
				if within(target, o) {
					out = append(out, fmt.Sprintf("%s links to %s", r, target))
					return nil
				}
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f, ok, err := h.has(info.Size(), func() (string, error) { return hashFile(p) })
		if ok {
			out = append(out, fmt.Sprintf("%s is a copy of the held-out %s", r, f))
		}
		return err
	})
	sort.Strings(out)
	return out, err
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
