//go:build linux

package sandbox

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// DefaultUID is the host uid (and gid) experiments run as when mlrc runs
// as root: a number no account uses, so that the sandbox owns nothing but
// the run's own workspace. MLRC_SANDBOX_UID overrides it.
const DefaultUID = 2000000000

// identity is the host uid and gid a sandbox runs as.
type identity struct{ uid, gid int }

// sandboxIdentity is who experiments run as on the host. For root it is
// DefaultUID (or MLRC_SANDBOX_UID), never 0; for anyone else it is that
// user: bwrap maps the sandbox's nobody to the uid that starts it.
func sandboxIdentity() (identity, bool, error) {
	if os.Geteuid() != 0 {
		return identity{os.Getuid(), os.Getgid()}, false, nil
	}
	uid := DefaultUID
	if v := os.Getenv("MLRC_SANDBOX_UID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n >= 1<<32-1 {
			return identity{}, false, fmt.Errorf("sandbox: MLRC_SANDBOX_UID=%q: want a uid above 0 that no account uses", v)
		}
		uid = n
	}
	return identity{uid, uid}, true, nil
}

// chownTree gives root and everything below it to id, without following
// symlinks. Changing the owner also clears setuid and setgid bits. It runs
// only while no process of the sandbox is alive. What id owns already (what
// earlier runs made or were given) is left alone: a chown would change its
// ctime, and git would then read every file again to snapshot the
// workspace.
func chownTree(root string, id identity) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			return nil // vanished meanwhile
		}
		if fi, err := d.Info(); err == nil {
			if uid, gid := fileOwner(fi); uid == id.uid && gid == id.gid {
				return nil
			}
		}
		if err := os.Lchown(p, id.uid, id.gid); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("sandbox: give %s to the sandbox user %d: %w", p, id.uid, err)
		}
		return nil
	})
}

// clearSetID removes setuid and setgid bits from the regular files below
// root, so that nothing a run leaves can be run with its owner's rights.
// It returns how many files it changed.
func clearSetID(root string) int {
	n := 0
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid) != 0 {
			if os.Chmod(p, m.Perm()) == nil {
				n++
			}
		}
		return nil
	})
	return n
}

// readableBy reports whether id can read (and, for a directory, enter) p
// by its permission bits.
func readableBy(fi fs.FileInfo, id identity) bool {
	need := fs.FileMode(4)
	if fi.IsDir() {
		need = 5
	}
	perm := fi.Mode().Perm()
	uid, gid := fileOwner(fi)
	switch {
	case uid == id.uid:
		return (perm>>6)&need == need
	case gid == id.gid:
		return (perm>>3)&need == need
	}
	return perm&need == need
}

func fileOwner(fi fs.FileInfo) (uid, gid int) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid), int(st.Gid)
	}
	return -1, -1
}
