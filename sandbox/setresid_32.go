//go:build linux && (386 || arm)

package sandbox

import "golang.org/x/sys/unix"

// The system calls that set a thread's real, effective and saved ids with
// 32-bit ids.
const (
	sysSetresuid = unix.SYS_SETRESUID32
	sysSetresgid = unix.SYS_SETRESGID32
)
