package task

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Hash is a SHA-256 over the task's files: task.yaml, the workspace
// template and everything else in the task directory (evaluator,
// prepare script), by relative path and content, Python caches left out.
// It names a task version in reports and manifests; external data is not
// included.
func (t *Task) Hash() (string, error) {
	h := sha256.New()
	if err := hashTree(h, t.Dir, ""); err != nil {
		return "", fmt.Errorf("hash task %s: %w", t.Name, err)
	}
	if !within(t.Workspace, t.Dir) {
		if err := hashTree(h, t.Workspace, "workspace:"); err != nil {
			return "", fmt.Errorf("hash task %s: %w", t.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashTree writes every file under root into h, in lexical order, as its
// prefixed relative path, its kind and its content.
func hashTree(h io.Writer, root, prefix string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if skipFile(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "link\x00%s%s\x00%s\x00", prefix, filepath.ToSlash(rel), link)
			return nil
		case d.Type().IsRegular():
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "file\x00%s%s\x00%d\x00", prefix, filepath.ToSlash(rel), st.Size())
			_, err = io.Copy(h, f)
			return err
		}
		return nil
	})
}
