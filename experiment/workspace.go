package experiment

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Workspace is the directory the agent works in. Every path a tool takes is
// relative to it and must stay inside it: a path is resolved, symlinks
// included, before it is checked against the workspace's boundary and its
// protected paths, and every file is then reached through an os.Root, which
// cannot leave the directory whatever the links on the way. Only regular
// files and directories are opened, never blocking (a FIFO, a socket or a
// device planted by the agent's code is refused), and reads are bounded.
// Changes are journaled so that they can be undone.
//
// The agent's code runs between tool calls, never during one (the sandbox
// ends every process of a run before run_experiment returns), so a path
// checked by a tool stays as it was checked; a change in between is caught
// when the opened file turns out not to be the one checked.
type Workspace struct {
	root      string   // absolute, symlinks resolved
	given     string   // absolute, as given
	fsys      *os.Root // every file access goes through it
	protected []string // slash-separated, canonical and as given

	mu      sync.Mutex
	journal []change
	size    int // bytes held by the journal

	// changed is set when the tools changed the files (a write, an undo),
	// mayHaveChanged when something else may have (an experiment run, a
	// researcher at a checkpoint); both are cleared when a snapshot
	// records the files.
	changed, mayHaveChanged atomic.Bool
}

// change is one file as it was before an edit or a write.
type change struct {
	path    string // canonical, relative
	before  []byte
	existed bool
	tooBig  bool // the file was too large to keep: it cannot be restored
}

// Bounds on what the tools hold in memory, whatever the agent's files.
const (
	// maxWhole is the largest file edit_file reads whole and undo keeps.
	maxWhole = 8 << 20
	// maxJournal bounds the journal; the oldest changes are forgotten.
	maxJournal = 64 << 20
	// maxLinks is the most symlinks a path may go through.
	maxLinks = 40
)

// NewWorkspace returns the workspace rooted at dir; protected lists paths
// relative to it ("data/", "eval.py") that the agent may read but not change.
func NewWorkspace(dir string, protected []string) (*Workspace, error) {
	given, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(given)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	fsys, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	w := &Workspace{root: root, given: given, fsys: fsys}
	for _, p := range protected {
		p = path.Clean(filepath.ToSlash(p))
		w.protected = append(w.protected, p)
		// A protected path reached through a link in the template is
		// protected where it really is too.
		if c, err := w.canonical(p); err == nil && c != p {
			w.protected = append(w.protected, c)
		}
	}
	return w, nil
}

// Root returns the workspace's absolute path.
func (w *Workspace) Root() string { return w.root }

// Close releases the workspace's directory handle.
func (w *Workspace) Close() error { return w.fsys.Close() }

// errOutside is shown to the model when a path leaves the workspace.
var errOutside = errors.New("is outside the workspace; use a path relative to the workspace root, such as train.py or data/train.csv")

// resolve turns a path given by the model into its canonical form: relative
// to the workspace, slash-separated, every symlink followed ("." for the
// root); shown is the path as the model gave it, cleaned, for messages.
// Paths leading out of the workspace, by "..", as absolute paths or through
// symlinks, are refused.
func (w *Workspace) resolve(p string) (rel, shown string, err error) {
	shown, err = w.clean(p)
	if err != nil {
		return "", "", err
	}
	rel, err = w.canonical(shown)
	if err != nil {
		return "", "", fmt.Errorf("path %q %w", p, err)
	}
	return rel, shown, nil
}

// clean makes p relative to the workspace and slash-separated, lexically.
func (w *Workspace) clean(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" || p == "." || p == "/" {
		return ".", nil
	}
	if filepath.IsAbs(p) {
		r, ok := w.inside(p)
		if !ok {
			return "", fmt.Errorf("path %q %w", p, errOutside)
		}
		p = r
	}
	rel := path.Clean(filepath.ToSlash(p))
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("path %q %w", p, errOutside)
	}
	return rel, nil
}

// inside returns the workspace-relative form of the absolute path p.
func (w *Workspace) inside(p string) (string, bool) {
	for _, base := range []string{w.root, w.given} {
		if r, err := filepath.Rel(base, filepath.Clean(p)); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
			return filepath.ToSlash(r), true
		}
	}
	return "", false
}

// canonical follows every symlink of the clean relative path rel, one
// component at a time, without leaving the workspace. Components that do
// not exist (yet) are kept as they are.
func (w *Workspace) canonical(rel string) (string, error) {
	todo := strings.Split(rel, "/")
	var done []string
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(done) == 0 {
				if links > 0 {
					return "", fmt.Errorf("leads through a symlink to a place that %w", errOutside)
				}
				return "", errOutside
			}
			done = done[:len(done)-1]
			continue
		}
		next := path.Join(path.Join(done...), c)
		info, err := w.fsys.Lstat(next)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			done = append(done, c)
			continue
		case errors.Is(err, syscall.ENOTDIR):
			return "", fmt.Errorf("cannot be reached: %s is not a directory", path.Dir(next))
		case err != nil:
			return "", fmt.Errorf("cannot be reached: %v", cleanPathErr(err))
		case info.Mode()&fs.ModeSymlink == 0:
			done = append(done, c)
			continue
		}
		if links++; links > maxLinks {
			return "", fmt.Errorf("goes through more than %d symlinks", maxLinks)
		}
		target, err := w.fsys.Readlink(next)
		if err != nil {
			return "", fmt.Errorf("cannot be reached: %s is a symlink that cannot be read", next)
		}
		if filepath.IsAbs(target) {
			r, ok := w.inside(target)
			if !ok {
				return "", fmt.Errorf("leads through the symlink %s to %s, which %w", next, target, errOutside)
			}
			done = nil
			target = r
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// isProtected reports whether rel is, or lies under, a protected path.
func (w *Workspace) isProtected(rel string) bool {
	for _, p := range w.protected {
		if p == "." || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// writable resolves p and refuses a protected path.
func (w *Workspace) writable(p string) (rel, shown string, err error) {
	rel, shown, err = w.resolve(p)
	if err != nil {
		return "", "", err
	}
	if err := w.mayChange(rel, shown); err != nil {
		return "", "", err
	}
	return rel, shown, nil
}

func (w *Workspace) mayChange(rel, shown string) error {
	if !w.isProtected(rel) {
		return nil
	}
	name := shown
	if rel != shown {
		name = fmt.Sprintf("%s (which is %s, through a symlink)", shown, rel)
	}
	return fmt.Errorf("%s is protected: the task does not allow changing it (protected: %s); change other files instead", name, strings.Join(w.protected, ", "))
}

// errNotRegular says why a tool refuses a file that is not a regular file.
func errNotRegular(shown string, m fs.FileMode) error {
	if m.IsDir() {
		return fmt.Errorf("%s is a directory; use list_files", shown)
	}
	return fmt.Errorf("%s is %s: the tools read and write only regular files and directories", shown, kindOf(m))
}

// kindOf names what is not a regular file.
func kindOf(m fs.FileMode) string {
	kind := "not a regular file"
	switch {
	case m&fs.ModeNamedPipe != 0:
		kind = "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		kind = "a socket"
	case m&fs.ModeCharDevice != 0:
		kind = "a character device"
	case m&fs.ModeDevice != 0:
		kind = "a block device"
	case m&fs.ModeSymlink != 0:
		kind = "a symlink"
	case m.IsDir():
		kind = "a directory"
	}
	return kind
}

// open opens the regular file rel (canonical) for reading. It never blocks:
// anything else is refused before it is opened, and again by what the
// opened descriptor is, in case the path changed in between.
func (w *Workspace) open(rel, shown string) (*os.File, fs.FileInfo, error) {
	info, err := w.fsys.Lstat(rel)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open %s: %w", shown, cleanPathErr(err))
	}
	if !info.Mode().IsRegular() {
		return nil, nil, errNotRegular(shown, info.Mode())
	}
	f, err := w.fsys.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("cannot open %s: %w", shown, cleanPathErr(err))
	}
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("cannot open %s: %w", shown, cleanPathErr(err))
		}
		return nil, nil, errNotRegular(shown, info.Mode())
	}
	if err := w.isAt(f, rel); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("cannot open %s: %w", shown, err)
	}
	return f, info, nil
}

// isAt checks that the open file f is the workspace's rel, by the path the
// kernel knows it by: a directory swapped for a link between the check and
// the open shows here. Without /proc it trusts the check.
func (w *Workspace) isAt(f *os.File, rel string) error {
	sc, err := f.SyscallConn()
	if err != nil {
		return nil
	}
	var real string
	var rerr error
	sc.Control(func(fd uintptr) {
		real, rerr = os.Readlink("/proc/self/fd/" + strconv.Itoa(int(fd)))
	})
	if rerr != nil {
		return nil
	}
	if want := filepath.Join(w.root, filepath.FromSlash(rel)); real != want {
		return fmt.Errorf("%s changed while it was being opened", rel)
	}
	return nil
}

// readWhole returns the content of the regular file rel, up to maxWhole
// bytes; tooBig says the file is larger.
func (w *Workspace) readWhole(rel, shown string) (b []byte, tooBig bool, err error) {
	f, info, err := w.open(rel, shown)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	if info.Size() > maxWhole {
		return nil, true, nil
	}
	b, err = io.ReadAll(io.LimitReader(f, maxWhole+1))
	if err != nil {
		return nil, false, fmt.Errorf("cannot read %s: %w", shown, cleanPathErr(err))
	}
	if len(b) > maxWhole {
		return nil, true, nil
	}
	return b, false, nil
}

// write replaces the content of rel (canonical, checked writable),
// journaling what was there.
func (w *Workspace) write(rel, shown string, data []byte) error {
	w.changed.Store(true)
	c := change{path: rel}
	info, err := w.fsys.Lstat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("cannot write %s: %w", shown, cleanPathErr(err))
	case !info.Mode().IsRegular():
		return errNotRegular(shown, info.Mode())
	default:
		c.existed = true
		if c.before, c.tooBig, err = w.readWhole(rel, shown); err != nil {
			return err
		}
	}
	if err := w.replace(rel, shown, data, info); err != nil {
		return err
	}
	w.remember(c)
	return nil
}

// replace gives rel the content data by writing a new file beside it and
// renaming it into place: a symlink or a hard link at rel is replaced, never
// written through. The new file keeps the mode and owner of old (the file
// replaced, nil when none); a new file belongs to its directory's owner.
func (w *Workspace) replace(rel, shown string, data []byte, old fs.FileInfo) error {
	dir := path.Dir(rel)
	if err := w.fsys.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create the directory of %s: %w", shown, cleanPathErr(err))
	}
	if info, err := w.fsys.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a directory", shown, dir)
	}
	mode, owner := fs.FileMode(0o644), old
	if old != nil && old.Mode().IsRegular() {
		mode = old.Mode().Perm()
	} else {
		owner, _ = w.fsys.Stat(dir)
	}
	tmp := path.Join(dir, fmt.Sprintf(".mlrc-write-%d.tmp", time.Now().UnixNano()))
	f, err := w.fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, mode)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", shown, cleanPathErr(err))
	}
	err = w.isAt(f, tmp)
	if err == nil && w.isProtected(tmp) {
		err = fmt.Errorf("%s is protected", dir)
	}
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Chmod(mode) // the umask may have narrowed it
	}
	if err == nil && owner != nil && os.Geteuid() == 0 {
		if st, ok := owner.Sys().(*syscall.Stat_t); ok && st.Uid != 0 {
			err = f.Chown(int(st.Uid), int(st.Gid))
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.fsys.Rename(tmp, rel)
	}
	if err != nil {
		w.fsys.Remove(tmp)
		return fmt.Errorf("cannot write %s: %w", shown, cleanPathErr(err))
	}
	return nil
}

// remember journals c, forgetting the oldest changes beyond maxJournal.
func (w *Workspace) remember(c change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.journal = append(w.journal, c)
	w.size += len(c.before)
	for w.size > maxJournal && len(w.journal) > 1 {
		w.size -= len(w.journal[0].before)
		w.journal = w.journal[1:]
	}
}

// undo reverts the last journaled change and says which. The journaled
// path is resolved again, all but its last component: if the agent's code
// has since made it a symlink, the link itself is replaced, and a path that
// now leads out of the workspace or into a protected one is refused.
func (w *Workspace) undo() (string, error) {
	w.mu.Lock()
	if len(w.journal) == 0 {
		w.mu.Unlock()
		return "", errors.New("there is nothing to undo: no edit or write has been made since the run started (or all have been undone)")
	}
	c := w.journal[len(w.journal)-1]
	w.journal = w.journal[:len(w.journal)-1]
	w.size -= len(c.before)
	w.mu.Unlock()
	w.changed.Store(true)
	dir, err := w.canonical(path.Dir(c.path))
	if err != nil {
		return "", fmt.Errorf("cannot undo the last change to %s: its directory now %v; nothing was changed", c.path, err)
	}
	rel := path.Join(dir, path.Base(c.path))
	if err := w.mayChange(rel, c.path); err != nil {
		return "", fmt.Errorf("cannot undo the last change: %v", err)
	}
	info, err := w.fsys.Lstat(rel)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("cannot undo the last change to %s: %w", c.path, cleanPathErr(err))
	}
	if err == nil && info.IsDir() {
		return "", fmt.Errorf("cannot undo the last change to %s: it is now a directory; nothing was changed", c.path)
	}
	if !c.existed {
		if err := w.fsys.Remove(rel); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("cannot remove %s: %w", c.path, cleanPathErr(err))
		}
		return fmt.Sprintf("Removed %s, which the last write had created.", c.path), nil
	}
	if c.tooBig {
		return "", fmt.Errorf("cannot undo the last change to %s: the file was larger than %s before it, too large to keep; restore it with write_file or from the code that made it", c.path, humanBytes(maxWhole))
	}
	var old fs.FileInfo
	if err == nil && info.Mode().IsRegular() {
		old = info
	}
	if err := w.replace(rel, c.path, c.before, old); err != nil {
		return "", err
	}
	if err == nil && info.Mode()&fs.ModeSymlink != 0 {
		return fmt.Sprintf("Restored %s to its content before the last change (it had become a symlink, which the restored file replaces).", c.path), nil
	}
	return fmt.Sprintf("Restored %s to its content before the last change.", c.path), nil
}

// cleanPathErr keeps host paths out of messages to the model: a
// *fs.PathError is reduced to its cause.
func cleanPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}
