//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// tryLock takes a flock on f without waiting, exclusive or shared, and
// reports whether another open file holds a conflicting one. A shared lock
// taken only to probe is released at once.
func tryLock(f *os.File, exclusive bool) (held bool, err error) {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err = syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	switch {
	case errors.Is(err, syscall.EWOULDBLOCK):
		return true, nil
	case err != nil:
		return false, err
	}
	if !exclusive {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	}
	return false, nil
}
