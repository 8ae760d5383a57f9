package research

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/sandbox"
)

// LogPath is where the run in dir keeps the output of its n-th sandboxed
// command (name: "prepare", "run", "evaluate", "exec"), stream "stdout" or
// "stderr": logs/003-run.stdout. The report links these files.
func LogPath(dir string, n int, name, stream string) string {
	if name == "" {
		name = "command"
	}
	return filepath.Join(dir, "logs", fmt.Sprintf("%03d-%s.%s", n, name, stream))
}

// phaseNow is the phase the run is in, for events raised below the phases.
func (r *Run) phaseNow() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.phase
}

// watchModel raises ModelWaiting and ModelAnswered around each call of m.
type watchModel struct {
	r    *Run
	next llm.Provider
}

func (m watchModel) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	phase := m.r.phaseNow()
	m.r.emit(ctx, ModelWaiting{Phase: phase})
	start := time.Now()
	resp, err := m.next.Complete(ctx, req)
	e := ModelAnswered{Phase: phase, Seconds: time.Since(start).Seconds()}
	if err != nil {
		e.Error = m.r.opts.Redact(err.Error())
	} else if resp != nil {
		e.Tokens = resp.Usage.Total()
	}
	m.r.emit(ctx, e)
	return resp, err
}

// watchRunner raises the Command events around each sandboxed command and
// writes its output to the run's log files as it comes.
type watchRunner struct {
	r    *Run
	next sandbox.Runner
}

// nextCommand numbers the run's commands on from those whose logs are
// already in the run directory (a resumed run).
func (r *Run) nextCommand() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.commands == 0 {
		ents, _ := os.ReadDir(filepath.Join(r.Dir, "logs"))
		for _, e := range ents {
			if n, err := strconv.Atoi(strings.SplitN(e.Name(), "-", 2)[0]); err == nil && n > r.commands {
				r.commands = n
			}
		}
	}
	r.commands++
	return r.commands
}

func (w watchRunner) Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error) {
	r := w.r
	n, phase := r.nextCommand(), r.phaseNow()
	start := CommandStarted{Phase: phase, N: n, Name: spec.Name,
		Stdout: LogPath(r.Dir, n, spec.Name, "stdout"), Stderr: LogPath(r.Dir, n, spec.Name, "stderr")}
	var files []*os.File
	if err := os.MkdirAll(filepath.Dir(start.Stdout), 0o755); err == nil {
		for _, p := range []string{start.Stdout, start.Stderr} {
			if f, err := os.Create(p); err == nil {
				files = append(files, f)
			}
		}
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	out := &lines{emit: func(s string) { r.emit(ctx, CommandOutput{N: n, Stream: "stdout", Line: s}) }}
	errs := &lines{emit: func(s string) { r.emit(ctx, CommandOutput{N: n, Stream: "stderr", Line: s}) }}
	if len(files) == 2 {
		spec.Stdout, spec.Stderr = multi{files[0], out}, multi{files[1], errs}
	} else {
		spec.Stdout, spec.Stderr = out, errs
	}
	watch := &memWatch{}
	began := time.Now()
	spec.Started = watch.start
	r.emit(ctx, start)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.emit(ctx, CommandProgress{N: n, Seconds: time.Since(began).Seconds(), Memory: watch.sample()})
			}
		}
	}()
	res, err := w.next.Run(ctx, spec)
	close(done)
	out.flush()
	errs.flush()
	end := CommandEnded{Phase: phase, N: n, Name: spec.Name, ExitCode: -1, Seconds: time.Since(began).Seconds(),
		PeakMemory: watch.peakBytes(), Stdout: start.Stdout, Stderr: start.Stderr}
	if err != nil {
		end.Error = r.opts.Redact(err.Error())
	} else {
		end.ExitCode = res.ExitCode
	}
	r.emit(ctx, end)
	return res, err
}

// multi writes to each writer in turn, ignoring their errors.
type multi [2]interface{ Write([]byte) (int, error) }

func (m multi) Write(b []byte) (int, error) {
	for _, w := range m {
		w.Write(b)
	}
	return len(b), nil
}

// lines cuts a stream into lines (at \n or \r, as progress bars redraw)
// and hands each non-empty one on, clipped to 1000 bytes.
type lines struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

const maxLine = 1000

func (l *lines) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range b {
		if c == '\n' || c == '\r' {
			l.send()
			continue
		}
		if len(l.buf) < maxLine {
			l.buf = append(l.buf, c)
		}
	}
	return len(b), nil
}

func (l *lines) send() {
	if s := string(bytes.TrimSpace(l.buf)); s != "" {
		l.emit(s)
	}
	l.buf = l.buf[:0]
}

func (l *lines) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.send()
}

// memWatch measures the memory a command's processes hold: the resident
// set of the sandbox's first process and all its descendants, from /proc.
type memWatch struct {
	mu   sync.Mutex
	pid  int
	peak int64
}

func (m *memWatch) start(pid int) {
	m.mu.Lock()
	m.pid = pid
	m.mu.Unlock()
}

func (m *memWatch) sample() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.pid == 0 {
		return 0
	}
	n := treeRSS(m.pid, 0)
	m.peak = max(m.peak, n)
	return n
}

func (m *memWatch) peakBytes() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// treeRSS is the resident memory of pid and its descendants, in bytes.
func treeRSS(pid, depth int) int64 {
	if depth > 64 {
		return 0
	}
	var total int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/statm", pid)); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseInt(f[1], 10, 64)
			total += pages * int64(os.Getpagesize())
		}
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		if err != nil {
			continue
		}
		for _, c := range strings.Fields(string(b)) {
			if child, err := strconv.Atoi(c); err == nil {
				total += treeRSS(child, depth+1)
			}
		}
	}
	return total
}

// watchHuman raises GateOpened and GateAnswered around each question.
type watchHuman struct {
	r    *Run
	next experiment.Human
}

func (h watchHuman) Ask(ctx context.Context, q experiment.Question) (experiment.Answer, error) {
	h.r.emit(ctx, GateOpened{Gate: q.Gate, Text: q.Text})
	a, err := h.next.Ask(ctx, q)
	e := GateAnswered{Gate: q.Gate, Stop: a.Stop, Guidance: a.Guidance}
	if err != nil {
		e.Error = h.r.opts.Redact(err.Error())
	}
	h.r.emit(ctx, e)
	return a, err
}

// watchChooser raises GateOpened and GateAnswered around the idea gate.
type watchChooser struct {
	r    *Run
	next idea.Chooser
}

func (c watchChooser) Choose(ctx context.Context, res *idea.Result) (idea.Choice, error) {
	c.r.emit(ctx, GateOpened{Gate: "ideas", Text: fmt.Sprintf("pick one of %d ideas, edit it, or ask for new ones", len(res.Ideas))})
	ch, err := c.next.Choose(ctx, res)
	e := GateAnswered{Gate: "ideas", Guidance: ch.Feedback}
	if err != nil {
		e.Error = c.r.opts.Redact(err.Error())
	} else if !ch.Regenerate {
		e.Guidance = fmt.Sprintf("idea %d", ch.Pick+1)
	}
	c.r.emit(ctx, e)
	return ch, err
}
