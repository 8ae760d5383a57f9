package perf

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/sandbox"
)

// Timed is a sandbox.Runner that adds up the time its commands spend in the
// sandbox, so that mlrc's own time is what is left of the wall time.
type Timed struct {
	Runner sandbox.Runner

	mu    sync.Mutex
	total time.Duration
	calls int
}

// Run runs spec and counts its time.
func (t *Timed) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	start := time.Now()
	res, err := t.Runner.Run(ctx, spec)
	d := time.Since(start)
	t.mu.Lock()
	t.total += d
	t.calls++
	t.mu.Unlock()
	return res, err
}

// Total is the time spent in the sandbox so far, and how many commands ran.
func (t *Timed) Total() (time.Duration, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.total, t.calls
}

// SandboxCost is what SandboxCost measured.
type SandboxCost struct {
	// Sandbox and Bwrap are the medians' ratios sandbox ÷ bare and bwrap
	// alone ÷ bare.
	Sandbox, Bwrap float64
	// Phases are the sandboxed runs' phases (sandbox.Result.Phases),
	// each the median over the runs, in order.
	Phases []sandbox.Phase
}

// MeasureSandbox measures `python -c pass` three ways, reps times each,
// interleaved: bare, under bwrap alone with mlrc's arguments, and in mlrc's
// sandbox.
func MeasureSandbox(ctx context.Context, runner sandbox.Runner, bw *sandbox.Bwrap, python string, reps int) (*SandboxCost, error) {
	cmd := []string{python, "-c", "pass"}
	argv, err := bw.Argv(sandbox.Spec{Command: cmd, Dir: "/tmp"})
	if err != nil {
		return nil, err
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	timeCmd := func(argv []string, fd5 bool) (float64, error) {
		c := exec.CommandContext(ctx, argv[0], argv[1:]...)
		c.Env = []string{"PATH=/usr/bin:/bin", "OMP_NUM_THREADS=1"}
		if fd5 {
			c.ExtraFiles = []*os.File{nil, nil, devNull}
		}
		start := time.Now()
		out, err := c.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%s: %v: %s", argv[0], err, out)
		}
		return time.Since(start).Seconds(), nil
	}
	var bare, alone, boxed []float64
	var names []string
	phases := map[string][]float64{}
	for range reps {
		b, err := timeCmd(cmd, false)
		if err != nil {
			return nil, err
		}
		a, err := timeCmd(argv, true)
		if err != nil {
			return nil, err
		}
		start := time.Now()
		res, err := runner.Run(ctx, sandbox.Spec{Command: cmd, Dir: "/tmp"})
		if err != nil {
			return nil, err
		}
		if !res.OK() {
			return nil, fmt.Errorf("python -c pass failed in the sandbox: exit %d: %s", res.ExitCode, res.Stderr.Text)
		}
		bare, alone, boxed = append(bare, b), append(alone, a), append(boxed, time.Since(start).Seconds())
		for _, p := range res.Phases {
			if _, ok := phases[p.Name]; !ok {
				names = append(names, p.Name)
			}
			phases[p.Name] = append(phases[p.Name], p.Took.Seconds())
		}
	}
	mb := median(bare)
	c := &SandboxCost{Sandbox: median(boxed) / mb, Bwrap: median(alone) / mb}
	for _, n := range names {
		c.Phases = append(c.Phases, sandbox.Phase{Name: n, Took: time.Duration(median(phases[n]) * float64(time.Second))})
	}
	return c, nil
}

// FirstPDF runs self (mlrc's own command line, e.g. {exe, "bench",
// "pdf-child"}) on pdf with a fresh HOME and no XDG_CACHE_HOME or
// MLRC_CACHE_DIR, as CI and containers do, and returns its wall time in
// seconds. The caller runs it once first so that the machine has used
// PDFium before.
func FirstPDF(ctx context.Context, self []string, pdf string) (float64, error) {
	pdf, err := filepath.Abs(pdf)
	if err != nil {
		return 0, err
	}
	home, err := os.MkdirTemp("", "mlrc-bench-home-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(home)
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "HOME", "XDG_CACHE_HOME", "MLRC_CACHE_DIR":
		default:
			env = append(env, kv)
		}
	}
	c := exec.CommandContext(ctx, self[0], append(self[1:], pdf)...)
	c.Env = append(env, "HOME="+home)
	c.Dir = home
	start := time.Now()
	if out, err := c.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("read %s in a fresh HOME: %v: %s", pdf, err, out)
	}
	return time.Since(start).Seconds(), nil
}

// Binary returns the size of the executable at path in MB (10^6 bytes) and
// whether it still carries a symbol table.
func Binary(path string) (mb float64, symbols bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false, err
	}
	f, err := elf.Open(path)
	if err != nil {
		return float64(fi.Size()) / 1e6, false, nil // not ELF: size only
	}
	defer f.Close()
	return float64(fi.Size()) / 1e6, f.Section(".symtab") != nil, nil
}

// Cores is what validation may use at once: the CPUs this process may run on.
func Cores() int { return runtime.GOMAXPROCS(0) }

// SharedPDF finds a PDF for the first-PDF figure: the first of dirs that
// holds one.
func SharedPDF(dirs ...string) (string, error) {
	for _, d := range dirs {
		m, _ := filepath.Glob(filepath.Join(d, "*.pdf"))
		if len(m) > 0 {
			return m[0], nil
		}
	}
	return "", errors.New("no PDF found: pass one with --pdf FILE")
}
