// Package sandbox runs untrusted experiment code: no network, a read-only
// system, the workspace as the only writable place (plus a private /tmp),
// protected files read-only, nothing of the user's home, the run store, the
// held-out labels or other runs, limits on memory, CPU time, file size and
// processes, a wall-clock timeout that kills the whole process group, bounded
// output capture and a scrubbed environment.
//
// The strong implementation uses bubblewrap (Debian's bwrap). Without it a
// weaker fallback built from Go (namespaces, rlimits) is used, and Result
// says so: callers must show Isolation to the user, never hide it. New
// picks one.
//
// Both start the command under a small /bin/sh shim that is pid 1 of a new
// pid namespace and dies with mlrc: killing it kills the whole run, and it
// outlives the command so that processes left in the background can be
// found, reported and killed. Memory and process counts are limited by a
// per-run cgroup (v2 where mlrc's group may delegate the controllers, else
// v1, when mlrc may create one), else by RLIMIT_AS and RLIMIT_NPROC; file
// size and CPU time by rlimits; the disk by watching the writable mounts.
// Result.Isolation says which were used, and Inspect what a host offers.
//
// When mlrc is root, the shim and bwrap run as an unprivileged host uid
// (DefaultUID), so that nothing an experiment does or leaves has root's
// rights; a seccomp filter denies the system calls experiments have no use
// for. Result.Phases says where the time of a run went.
package sandbox

import (
	"context"
	"io"
	"time"
)

// Runner runs one command in a sandbox. Infrastructure failures (bwrap could
// not start) are errors; everything the command itself does — a non-zero
// exit, a timeout, running out of memory — is in the Result.
type Runner interface {
	Run(ctx context.Context, spec Spec) (*Result, error)
}

// Mount makes a host path visible inside the sandbox, at the same path
// unless Target is set. Only Writable mounts can be written.
type Mount struct {
	Source   string
	Target   string
	Writable bool
}

// Limits bound one run. Zero means the default below.
type Limits struct {
	Wall     time.Duration // whole run, then the process group is killed
	Memory   int64         // bytes
	CPUTime  time.Duration // CPU time per process; zero: none beyond Wall
	FileSize int64         // largest file the command may write, bytes
	Procs    int           // processes and threads
	Output   int64         // bytes kept per stream (head and tail)
	// Disk bounds what the writable mounts hold while the command runs
	// (checked a few times a second; the run is stopped when it is
	// exceeded) and the size of the private /tmp.
	Disk int64
	// CPUs is the share of CPU time, in cores, by cgroup (cpu.max or
	// cfs_quota); zero: no limit beyond the wall clock.
	CPUs float64
	// GPUs is how many GPUs the run asks for. The local sandbox gives it
	// the devices named by Spec.GPUDevices; batch executors ask their
	// scheduler for this many (Slurm --gres, Kubernetes nvidia.com/gpu).
	GPUs int
}

// Defaults for Limits.
const (
	DefaultWall     = 10 * time.Minute
	DefaultMemory   = 4 << 30
	DefaultFileSize = 1 << 30
	DefaultProcs    = 256
	DefaultOutput   = 1 << 20
	DefaultDisk     = 10 << 30
)

// Spec says what to run and what it may see.
type Spec struct {
	// Command is the argv; use {"/bin/sh", "-c", line} for a shell line.
	Command []string
	// Dir is the working directory inside the sandbox.
	Dir string
	// Mounts are what the command may see beyond the read-only system.
	Mounts []Mount
	// ReadOnly lists paths inside writable mounts that must stay read-only
	// (a task's protected files).
	ReadOnly []string
	// Env is the whole environment; nothing is inherited from mlrc's own
	// (so no API keys). PATH, HOME=/tmp, OMP_NUM_THREADS=1 and the like are
	// set when missing.
	Env    map[string]string
	Limits Limits
	// GPUDevices are the NVIDIA devices (indexes as nvidia-smi numbers
	// them, e.g. "0") the run may use: bound into the sandbox with the
	// driver's libraries and named by CUDA_VISIBLE_DEVICES. Empty: none.
	GPUDevices []string `json:",omitempty"`
	// Name says what the command is ("prepare", "run", "evaluate",
	// "exec"), for logs and progress; the runner does not use it.
	Name string
	// Stdout and Stderr, when set, also receive the command's output as it
	// is written (a log file, a live view), besides the bounded capture in
	// the Result. They are written from one goroutine each and must not
	// block for long.
	Stdout, Stderr io.Writer `json:"-"`
	// Started, when set, is called with the pid of the run's first process
	// (the shim, outside the sandbox) once the command runs: its process
	// tree is the run's, to watch its memory.
	Started func(pid int) `json:"-"`
}

// Output is one captured stream: its head and tail when it was longer than
// the limit, with the number of bytes left out between them.
type Output struct {
	Text      string // head + marker + tail when truncated
	Total     int64  // bytes the command wrote
	Truncated bool
}

// Result is what happened.
type Result struct {
	ExitCode int    // -1 when killed by a signal
	Signal   string // e.g. "killed", when killed
	Stdout   Output
	Stderr   Output
	Duration time.Duration
	TimedOut bool // killed at the wall-clock limit
	OOM      bool // ran out of memory
	// DiskExceeded: stopped because the writable mounts grew past
	// Limits.Disk.
	DiskExceeded bool
	// Notes are the limits hit, as sentences for the agent: "killed after
	// 600 s (the time limit)", "out of memory (limit 4 GiB)", "output
	// truncated at 1 MiB (stdout: 1.0 GiB written)", "background processes
	// were left running and have been killed".
	Notes []string
	// Isolation names the sandbox used: "bwrap: …", or "fallback: …" with
	// what the fallback cannot enforce, and how the limits were enforced.
	Isolation string
	// Phases is where the call's time went: preparing, starting, the
	// command, cleaning up. For measuring the sandbox's own cost.
	Phases []Phase
	// Placement is where the run ran; set by the executor.
	Placement Placement
}

// OK reports whether the command exited 0 within its limits.
func (r *Result) OK() bool { return r.ExitCode == 0 && !r.TimedOut && !r.OOM && !r.DiskExceeded }
