//go:build !unix

package store

import (
	"errors"
	"os"
)

// tryLock has no flock here: Lock always succeeds, and Holder cannot tell
// (a run recorded as running keeps that status).
func tryLock(_ *os.File, exclusive bool) (bool, error) {
	if exclusive {
		return false, nil
	}
	return false, errors.ErrUnsupported
}
