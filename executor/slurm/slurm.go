// Package slurm runs sandboxed commands as Slurm batch jobs. Each run is
// one job, submitted with sbatch and followed with scontrol: the task's time, memory, CPU and
// GPU limits become Slurm options, the partition, account and QoS come
// from the configuration. Inside the job mlrc runs again on the node
// (`mlrc sandbox-job DIR`, see Node) and starts the same bubblewrap sandbox
// it would start locally; the spec and the result travel as files in a
// job directory on a filesystem every node shares, and so do the
// workspace and everything else the run mounts (the held-out labels are
// in the spec only of evaluation jobs: a job sees what its spec mounts).
//
// Cancelling a run scancels its job. A job that Slurm ends before the
// sandbox could write its result (time limit, memory, preemption, node
// failure, scancel) gives a Result that says so, with the state and
// reason from scontrol or sacct.
package slurm

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mlrc/mlrc/sandbox"
)

// Config is the executor's settings (mlrc.yaml's slurm:).
type Config struct {
	// Partition, Account and QoS are passed to sbatch when set.
	Partition string `yaml:"partition"`
	Account   string `yaml:"account"`
	QoS       string `yaml:"qos"`
	// SharedDir is a directory every node sees at the same path; the job
	// directories go there. The run store (runs_dir) must be on a shared
	// filesystem too: every path a run mounts must lie under SharedDir
	// or one of SharedPaths.
	SharedDir string `yaml:"shared_dir"`
	// SharedPaths are more host paths the nodes see at the same path
	// (the task directories, their data, runs_dir).
	SharedPaths []string `yaml:"shared_paths"`
	// MLRC is the mlrc binary on the nodes; default: this binary's path.
	MLRC string `yaml:"mlrc"`
	// Sandbox is the sandbox the node runs ("bwrap", the default, or
	// "none").
	Sandbox string `yaml:"sandbox"`
	// TimeMargin is added to a run's own time limit for Slurm's --time
	// (the sandbox enforces the run's limit; Slurm's is the backstop);
	// default 2m. MemoryMargin is added to --mem for mlrc and bwrap on
	// the node; default 256 MiB.
	TimeMargin   time.Duration `yaml:"time_margin"`
	MemoryMargin int64         `yaml:"memory_margin"`
	// SbatchArgs are more sbatch options, e.g. ["--constraint=a100"].
	SbatchArgs []string `yaml:"sbatch_args"`
}

// Validate checks what can be checked without a cluster.
func (c Config) Validate() error {
	if c.SharedDir == "" {
		return errors.New("slurm.shared_dir is not set: name a directory every Slurm node sees at the same path (an NFS or Lustre mount); runs_dir must be on a shared filesystem too")
	}
	if !filepath.IsAbs(c.SharedDir) {
		return fmt.Errorf("slurm.shared_dir %s: must be an absolute path", c.SharedDir)
	}
	for _, p := range c.SharedPaths {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("slurm.shared_paths: %s must be an absolute path", p)
		}
	}
	switch c.Sandbox {
	case "", "bwrap", "none":
	default:
		return fmt.Errorf("slurm.sandbox %q: want bwrap or none", c.Sandbox)
	}
	return nil
}

// Executor submits each run as a Slurm job. Its zero value is not usable:
// make it with New.
type Executor struct {
	cfg Config
	// node is the command that starts mlrc on a node: the binary and,
	// for tests, nothing else; "sandbox-job" and the job directory are
	// appended.
	node []string
	// Log, when set, hears the job's output file as it grows (Slurm's
	// own messages, the node's progress).
	Log io.Writer
}

// New checks cfg and returns the executor. exe is the mlrc binary the
// nodes run when cfg.MLRC is empty.
func New(cfg Config, exe string) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MLRC != "" {
		exe = cfg.MLRC
	}
	if cfg.Sandbox == "" {
		cfg.Sandbox = "bwrap"
	}
	if cfg.TimeMargin <= 0 {
		cfg.TimeMargin = 2 * time.Minute
	}
	if cfg.MemoryMargin <= 0 {
		cfg.MemoryMargin = 256 << 20
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		return nil, errors.New("executor slurm: sbatch is not on PATH: run mlrc on a Slurm login node (or install slurm-client)")
	}
	return &Executor{cfg: cfg, node: []string{exe}}, nil
}

// jobFile is what a job reads: the spec, and the hide covers to make on
// the node (empty directories and files that were not on the shared
// filesystem).
type jobFile struct {
	Spec   sandbox.Spec `json:"spec"`
	Covers []cover      `json:"covers,omitempty"`
}

// cover is a mount of an empty directory or file, made on the node.
type cover struct {
	Mount int  `json:"mount"` // index into Spec.Mounts
	Dir   bool `json:"dir"`
}

// resultFile is what a job writes back.
type resultFile struct {
	Result *sandbox.Result `json:"result,omitempty"`
	// Error is an infrastructure failure on the node (the sandbox could
	// not start).
	Error string `json:"error,omitempty"`
	Host  string `json:"host"`
}

const (
	specName   = "job.json"
	resultName = "result.json"
	outName    = "slurm.out"
	scriptName = "job.sh"
)

// submitTries bounds the submissions of one job while the controller
// cannot be reached (restarting, failing over, busy): sbatch itself gives
// up at once.
const submitTries = 5

// submit runs sbatch and returns the job id. A controller that cannot be
// contacted is asked again, after 1, 2, 4 and 8 s; any other refusal is
// final.
func (e *Executor) submit(ctx context.Context, job string, args []string) (string, error) {
	for try := 1; ; try++ {
		cmd := exec.CommandContext(ctx, "sbatch", args...)
		cmd.Dir = job
		var stderr strings.Builder
		cmd.Stderr = &limitedWriter{w: &stderr, n: 64 << 10}
		out, err := cmd.Output()
		// sbatch --parsable prints the job id ("12" or "12;cluster").
		id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
		if err == nil && id != "" {
			return id, nil
		}
		if ctx.Err() != nil {
			if id != "" {
				e.cancel(id)
			}
			return "", fmt.Errorf("slurm: run cancelled while submitting: %w", ctx.Err())
		}
		msg := strings.TrimSpace(stderr.String())
		if try == submitTries || !strings.Contains(msg, "Unable to contact slurm controller") {
			return "", fmt.Errorf("slurm: sbatch failed: %v: %s", err, msg)
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("slurm: run cancelled while submitting: %w", ctx.Err())
		case <-time.After(time.Second << (try - 1)):
		}
	}
}

// Run submits spec as a job, waits for it and returns its result.
func (e *Executor) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	job, err := e.stage(spec)
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(job)
	args := append(e.sbatchArgs(spec.Limits, job), filepath.Join(job, scriptName))
	start := time.Now()
	id, err := e.submit(ctx, job, args)
	if err != nil {
		return nil, err
	}
	// Wait for the job: its result file appears (the node writes it last)
	// or Slurm says it has ended. Polling scontrol every second answers
	// sooner than sbatch --wait, whose checks grow to ten seconds apart.
	tail := &tailer{path: filepath.Join(job, outName), w: e.Log}
	result := filepath.Join(job, resultName)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			e.cancel(id)
			return nil, fmt.Errorf("slurm: run cancelled (job %s scancelled): %w", id, ctx.Err())
		case <-tick.C:
		}
		tail.poll()
		if exists(result) {
			break
		}
		if n%4 != 3 {
			continue
		}
		if st := e.state(ctx, id); st.State != "" && ended(st.State) {
			// The job is over; a shared filesystem may take a moment to
			// show its result here.
			for i := 0; i < 10 && !exists(result) && st.State == "COMPLETED"; i++ {
				time.Sleep(500 * time.Millisecond)
			}
			break
		}
	}
	tail.poll()
	return e.collect(ctx, id, job, spec, time.Since(start))
}

// ended reports whether a job in this state will not run again.
func ended(state string) bool {
	switch state {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD",
		"RESIZING", "SIGNALING", "STAGE_OUT", "SUSPENDED", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT":
		return false
	}
	return true
}

// cancel scancels the job.
func (e *Executor) cancel(id string) {
	c, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	exec.CommandContext(c, "scancel", id).Run()
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// collect reads the job's result, or asks Slurm why there is none.
func (e *Executor) collect(ctx context.Context, id, job string, spec sandbox.Spec, wall time.Duration) (*sandbox.Result, error) {
	place := sandbox.Placement{Executor: "slurm", Job: id, CPUs: spec.Limits.CPUs, Memory: spec.Limits.Memory}
	b, err := os.ReadFile(filepath.Join(job, resultName))
	if err == nil {
		var rf resultFile
		if err := json.Unmarshal(b, &rf); err != nil {
			return nil, fmt.Errorf("slurm: job %s: read its result: %w", id, err)
		}
		if rf.Error != "" {
			return nil, fmt.Errorf("slurm: job %s on %s: %s", id, rf.Host, rf.Error)
		}
		if rf.Result == nil {
			return nil, fmt.Errorf("slurm: job %s wrote no result", id)
		}
		place.Host = rf.Host
		place.GPUs = rf.Result.Placement.GPUs
		rf.Result.Placement = place
		return rf.Result, nil
	}
	st := e.state(ctx, id)
	place.Host = st.Node
	out, _ := os.ReadFile(filepath.Join(job, outName))
	res := endedBySlurm(st, id, wall, spec.Limits)
	res.Stderr = sandbox.Output{Text: string(out), Total: int64(len(out))}
	res.Placement = place
	return res, nil
}

// State is what Slurm says about a finished job.
type State struct {
	State  string // TIMEOUT, OUT_OF_MEMORY, PREEMPTED, CANCELLED, ...
	Reason string
	Node   string
	Exit   string // "0:15": exit code and signal
}

// endedBySlurm is the result of a job that wrote none: Slurm ended it.
func endedBySlurm(st State, id string, wall time.Duration, lim sandbox.Limits) *sandbox.Result {
	res := &sandbox.Result{ExitCode: -1, Signal: "killed", Duration: wall, Isolation: "slurm job " + id}
	why := st.State
	if st.Reason != "" && st.Reason != "None" {
		why += " (" + st.Reason + ")"
	}
	switch st.State {
	case "TIMEOUT", "DEADLINE":
		res.TimedOut = true
		res.Notes = append(res.Notes, fmt.Sprintf("Slurm stopped job %s at its time limit: %s", id, why))
	case "OUT_OF_MEMORY":
		res.OOM = true
		res.Notes = append(res.Notes, fmt.Sprintf("Slurm stopped job %s: out of memory (limit %d MiB with mlrc's margin): %s", id, lim.Memory>>20, why))
	case "PREEMPTED":
		res.Notes = append(res.Notes, fmt.Sprintf("Slurm preempted job %s: %s; the run did not finish, run it again", id, why))
	case "":
		res.Notes = append(res.Notes, fmt.Sprintf("Slurm job %s ended without a result and Slurm says nothing about it (scontrol and sacct found no record)", id))
	default:
		res.Notes = append(res.Notes, fmt.Sprintf("Slurm ended job %s before the run finished: %s", id, why))
	}
	return res
}

// state asks scontrol (recent jobs), then sacct (the accounting record).
func (e *Executor) state(ctx context.Context, id string) State {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "scontrol", "show", "job", "-o", id).Output(); err == nil {
		if st := ParseScontrol(string(out)); st.State != "" {
			return st
		}
	}
	out, err := exec.CommandContext(ctx, "sacct", "-j", id, "-n", "-P", "-X", "-o", "State,ExitCode,NodeList,Reason").Output()
	if err == nil {
		return ParseSacct(string(out))
	}
	return State{}
}

// ParseScontrol reads `scontrol show job -o` output.
func ParseScontrol(out string) State {
	var st State
	for _, f := range strings.Fields(out) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "JobState":
			st.State = v
		case "Reason":
			st.Reason = v
		case "NodeList":
			if v != "(null)" {
				st.Node = v
			}
		case "ExitCode":
			st.Exit = v
		}
	}
	return st
}

// ParseSacct reads `sacct -n -P -X -o State,ExitCode,NodeList,Reason`.
func ParseSacct(out string) State {
	line, _, _ := strings.Cut(strings.TrimSpace(out), "\n")
	f := strings.Split(line, "|")
	var st State
	if len(f) > 0 {
		st.State, _, _ = strings.Cut(f[0], " ") // "CANCELLED by 0"
	}
	if len(f) > 1 {
		st.Exit = f[1]
	}
	if len(f) > 2 && f[2] != "None assigned" {
		st.Node = f[2]
	}
	if len(f) > 3 {
		st.Reason = f[3]
	}
	return st
}

// SbatchArgs are the options a run with these limits is submitted with.
func (e *Executor) sbatchArgs(lim sandbox.Limits, job string) []string {
	wall := lim.Wall
	if wall <= 0 {
		wall = sandbox.DefaultWall
	}
	mem := lim.Memory
	if mem <= 0 {
		mem = sandbox.DefaultMemory
	}
	cpus := int(math.Ceil(lim.CPUs))
	if cpus < 1 {
		cpus = 1
	}
	minutes := int(math.Ceil((wall + e.cfg.TimeMargin).Minutes()))
	args := []string{
		"--parsable", "--export=NONE",
		"--job-name=mlrc-run",
		"--output=" + filepath.Join(job, outName),
		"--chdir=" + job,
		"--nodes=1", "--ntasks=1",
		"--time=" + strconv.Itoa(minutes),
		fmt.Sprintf("--mem=%dM", (mem+e.cfg.MemoryMargin+(1<<20)-1)>>20),
		"--cpus-per-task=" + strconv.Itoa(cpus),
	}
	if lim.GPUs > 0 {
		args = append(args, "--gres=gpu:"+strconv.Itoa(lim.GPUs))
	}
	for _, o := range []struct{ flag, v string }{{"--partition", e.cfg.Partition}, {"--account", e.cfg.Account}, {"--qos", e.cfg.QoS}} {
		if o.v != "" {
			args = append(args, o.flag+"="+o.v)
		}
	}
	return append(args, e.cfg.SbatchArgs...)
}

// stage makes the job directory: the job file and the script.
func (e *Executor) stage(spec sandbox.Spec) (string, error) {
	jf := jobFile{Spec: spec}
	jf.Spec.Mounts = append([]sandbox.Mount(nil), spec.Mounts...)
	for i, m := range jf.Spec.Mounts {
		if e.shared(m.Source) {
			continue
		}
		st, err := os.Stat(m.Source)
		if err != nil {
			return "", fmt.Errorf("slurm: mount %s: %w", m.Source, err)
		}
		if !m.Writable && emptyPath(m.Source, st) {
			if m.Target == "" {
				jf.Spec.Mounts[i].Target = m.Source
			}
			jf.Covers = append(jf.Covers, cover{Mount: i, Dir: st.IsDir()})
			continue
		}
		return "", fmt.Errorf("slurm: the run mounts %s, which is not on the shared filesystem: put it under slurm.shared_dir (%s) or add the filesystem it is on to slurm.shared_paths", m.Source, e.cfg.SharedDir)
	}
	root := filepath.Join(e.cfg.SharedDir, "mlrc-jobs")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return "", fmt.Errorf("slurm: %w", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	job := filepath.Join(root, time.Now().UTC().Format("20060102-150405")+"-"+hex.EncodeToString(rnd[:]))
	if err := os.Mkdir(job, 0o700); err != nil {
		return "", fmt.Errorf("slurm: %w", err)
	}
	b, err := json.Marshal(jf)
	if err != nil {
		os.RemoveAll(job)
		return "", err
	}
	script := "#!/bin/sh\n# mlrc: one sandboxed run; the spec is in " + specName + "\n" +
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nexport PATH\nexec"
	for _, a := range append(append([]string{}, e.node...), "sandbox-job", "--sandbox", e.cfg.Sandbox, job) {
		script += " " + shellQuote(a)
	}
	script += "\n"
	if err := os.WriteFile(filepath.Join(job, specName), b, 0o600); err != nil {
		os.RemoveAll(job)
		return "", fmt.Errorf("slurm: %w", err)
	}
	if err := os.WriteFile(filepath.Join(job, scriptName), []byte(script), 0o700); err != nil {
		os.RemoveAll(job)
		return "", fmt.Errorf("slurm: %w", err)
	}
	return job, nil
}

// shared reports whether the nodes see p at the same path.
func (e *Executor) shared(p string) bool {
	for _, d := range append([]string{e.cfg.SharedDir}, e.cfg.SharedPaths...) {
		rel, err := filepath.Rel(filepath.Clean(d), filepath.Clean(p))
		if err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

func emptyPath(p string, st os.FileInfo) bool {
	if st.IsDir() {
		entries, err := os.ReadDir(p)
		return err == nil && len(entries) == 0
	}
	return st.Mode().IsRegular() && st.Size() == 0
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// tailer copies what a growing file gains to w.
type tailer struct {
	path string
	w    io.Writer
	off  int64
}

func (t *tailer) poll() {
	if t.w == nil {
		return
	}
	f, err := os.Open(t.path)
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.Seek(t.off, io.SeekStart); err != nil {
		return
	}
	n, _ := io.Copy(t.w, io.LimitReader(f, 1<<20))
	t.off += n
}

type limitedWriter struct {
	w io.Writer
	n int64
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		q := p
		if int64(len(q)) > l.n {
			q = q[:l.n]
		}
		l.w.Write(q)
		l.n -= int64(len(q))
	}
	return len(p), nil
}
