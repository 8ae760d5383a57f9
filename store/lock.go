package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StatusInterrupted is the status shown for a run recorded as running whose
// process is gone: no process holds its lock. It is never stored; a resume
// sets the run running again.
const StatusInterrupted = "interrupted"

// LockFile is the name of the lock file in a run's directory. The process
// that works on a run holds an exclusive flock on it and writes its pid into
// it; the kernel releases the lock when the process ends, however it ends.
const LockFile = ".lock"

// InUseError says that another process is working on a run.
type InUseError struct {
	Run string
	PID int // 0 when the holder's pid could not be read
}

func (e *InUseError) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("run %s is in use by process %d", e.Run, e.PID)
	}
	return fmt.Sprintf("run %s is in use by another process", e.Run)
}

// lockWait is how long Lock retries a lock that is held: long enough to
// ride out a probe by Holder, which holds it for a moment, and short enough
// to fail at once for a person.
const lockWait = 300 * time.Millisecond

// Lock makes this process the one writer of the run: it takes the run's
// lock, held until Unlock or the end of the process. A run that another
// process holds gives an *InUseError naming that process. CreateRun locks
// the run it creates; a handle from Store.Run must Lock before it writes.
// Locking a handle that holds the lock does nothing.
func (r *Run) Lock() error {
	r.lockMu.Lock()
	defer r.lockMu.Unlock()
	if r.lock != nil {
		return nil
	}
	f, err := lockDir(r.Dir, r.ID)
	if err != nil {
		return err
	}
	r.lock = f
	return nil
}

// Unlock releases the run's lock, if this handle holds it.
func (r *Run) Unlock() error {
	r.lockMu.Lock()
	defer r.lockMu.Unlock()
	if r.lock == nil {
		return nil
	}
	err := r.lock.Close() // closing the file releases the flock
	r.lock = nil
	return err
}

// lockDir takes the lock of the run directory dir and writes this process's
// pid into the lock file.
func lockDir(dir, id string) (*os.File, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("run %s: lock: %w", id, err)
	}
	deadline := time.Now().Add(lockWait)
	for {
		held, err := tryLock(f, true)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("run %s: lock %s: %w", id, path, err)
		}
		if !held {
			break
		}
		if time.Now().After(deadline) {
			pid := readPID(path)
			f.Close()
			return nil, &InUseError{Run: id, PID: pid}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	// The pid is for messages; the flock is the lock. A failure to write
	// it leaves the lock held.
	return f, nil
}

// Holder reports whether a process holds the lock of the run directory dir,
// and its pid (0 when it could not be read). It takes no lock that lasts:
// a probe holds a shared lock for a moment.
func Holder(dir string) (pid int, held bool, err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, false, nil // never locked
	}
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	held, err = tryLock(f, false)
	if err != nil || !held {
		return 0, false, err
	}
	return readPID(path), true, nil
}

func readPID(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid < 0 {
		return 0
	}
	return pid
}

// live sets the status of a run recorded as running that no process holds
// to interrupted, and the pid of the holder of one that a process holds.
func (info *RunInfo) live() {
	if info.Status != StatusRunning {
		return
	}
	pid, held, err := Holder(info.Dir)
	switch {
	case err != nil:
		// Unknown: leave the recorded status.
	case held:
		info.PID = pid
	default:
		info.Status = StatusInterrupted
	}
}
