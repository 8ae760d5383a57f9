//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// stage makes a run's mounts reachable for bwrap when mlrc is root and
// the sandbox runs as an unprivileged uid. That uid could not reach a
// workspace below /root or a 0700 temporary directory, so mlrc binds every
// mount source into a fresh directory in the shim's private mount
// namespace, before the shim (already that uid) starts bwrap; bwrap binds
// the staged paths. A read-only source whose own directory the uid may not
// enter (a task directory made by mkdtemp) is staged entry by entry in a
// directory it may; what the entries allow is not changed. Nothing of it
// is visible outside the run's namespace.
type stage struct {
	dir   string
	binds []stageBind
}

type stageBind struct {
	src, dst string
	entries  bool // bind the entries of src, not src itself
}

// newStage plans the staging of mounts and returns the staged source of
// each, in order.
func newStage(mounts []Mount, id identity) (*stage, []string, error) {
	removeStaleStages()
	dir, err := os.MkdirTemp("", fmt.Sprintf("mlrc-stage-%d-", os.Getpid()))
	if err != nil {
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.Remove(dir)
		return nil, nil, fmt.Errorf("sandbox: %w", err)
	}
	st := &stage{dir: dir}
	srcs := make([]string, len(mounts))
	for i, m := range mounts {
		fi, err := os.Stat(m.Source)
		if err != nil {
			os.Remove(dir)
			return nil, nil, fmt.Errorf("sandbox: mount source: %w", err)
		}
		dst := filepath.Join(dir, strconv.Itoa(i))
		st.binds = append(st.binds, stageBind{src: m.Source, dst: dst,
			entries: !m.Writable && fi.IsDir() && !readableBy(fi, id)})
		srcs[i] = dst
	}
	return st, srcs, nil
}

// mount sets the stage up in the mount namespace of process pid, from a
// thread of its own that ends with it.
func (st *stage) mount(pid int) error {
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread has left mlrc's namespace, so it
		// must end with this goroutine.
		runtime.LockOSThread()
		errc <- st.mountIn(pid)
	}()
	return <-errc
}

func (st *stage) mountIn(pid int) error {
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return fmt.Errorf("unshare fs: %w", err)
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open mount namespace: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("enter mount namespace: %w", err)
	}
	// Nothing mounted here may propagate back to the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	if err := unix.Mount("mlrc-stage", st.dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755,size=1m"); err != nil {
		return fmt.Errorf("mount stage: %w", err)
	}
	for _, b := range st.binds {
		if !b.entries {
			if err := bindAt(b.src, b.dst); err != nil {
				return err
			}
			continue
		}
		if err := os.Mkdir(b.dst, 0o755); err != nil {
			return err
		}
		ents, err := os.ReadDir(b.src)
		if err != nil {
			return err
		}
		for _, e := range ents {
			src, dst := filepath.Join(b.src, e.Name()), filepath.Join(b.dst, e.Name())
			switch {
			case e.Type()&os.ModeSymlink != 0:
				// Kept a symlink: it resolves inside the sandbox.
				if t, err := os.Readlink(src); err == nil {
					os.Symlink(t, dst)
				}
			case e.IsDir() || e.Type().IsRegular():
				if err := bindAt(src, dst); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// bindAt creates dst like src (directory or file) and binds src on it.
func bindAt(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		err = os.Mkdir(dst, 0o755)
	} else {
		var f *os.File
		if f, err = os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644); err == nil {
			f.Close()
		}
	}
	if err != nil {
		return err
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	return nil
}

// removeStaleStages removes the (empty) stage directories of mlrc
// processes that died during a run.
func removeStaleStages() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "mlrc-stage-*-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.Split(filepath.Base(d), "-")[2])
		if err != nil || pid == os.Getpid() {
			continue
		}
		if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
			os.Remove(d) // only ever empty on the host
		}
	}
}

// remove deletes the stage's directory, which on the host stays empty.
func (st *stage) remove() {
	if st == nil {
		return
	}
	if err := os.Remove(st.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Not empty on the host would mean the mounts leaked: leave it.
		return
	}
}
