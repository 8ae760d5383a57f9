//go:build linux && !(386 || arm)

package sandbox

import "golang.org/x/sys/unix"

// The system calls that set a thread's real, effective and saved ids.
const (
	sysSetresuid = unix.SYS_SETRESUID
	sysSetresgid = unix.SYS_SETRESGID
)
