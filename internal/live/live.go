// Package live shows a run's progress on the terminal: plain lines for
// what is done (a step, a warning) and, on a terminal, a status line that
// redraws while work happens: the phase, the step, the time, what the run
// waits for (the model, an experiment with its memory) and the last line
// the experiment printed. Without a terminal nothing is redrawn and there
// is no colour.
package live

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/research"
)

// Options say what the output is.
type Options struct {
	// TTY: the output is a terminal, so the status line is drawn.
	TTY bool
	// Color: escape sequences for colour may be used (a terminal, and
	// NO_COLOR not set).
	Color bool
	// Width is the terminal's width in columns; nil or 0: 100.
	Width func() int
	// Every is how often the status line redraws; 0: 250 ms.
	Every time.Duration
}

// Display is the terminal of one command: an io.Writer for the command's
// plain lines (cleaned text: it goes below termsafe) and the sink of a
// run's events.
type Display struct {
	mu   sync.Mutex
	w    io.Writer
	opts Options

	drawn     bool      // a status line is on the screen
	drawnAt   time.Time // when it was drawn
	paused    int       // a gate asks the person: no status line
	partial   bool      // the last plain write did not end a line
	stop      chan struct{}
	started   time.Time
	phase     string
	phaseAt   time.Time
	step      int
	modelAt   time.Time // waiting for the model since; zero: not waiting
	waiting   int       // model calls in flight
	cmd       *command
	runs      int // experiment runs ("run" commands) so far
	tokens    int64
	cost      research.Cost
	costNoted bool
}

// command is the sandboxed command running now.
type command struct {
	n, run int // the run's command number; the experiment's number (0: not an experiment)
	name   string
	at     time.Time
	memory int64
	last   string
}

// New returns a display writing to w, the terminal (or file) itself.
func New(w io.Writer, opts Options) *Display {
	if opts.Every <= 0 {
		opts.Every = 250 * time.Millisecond
	}
	return &Display{w: w, opts: opts, started: time.Now()}
}

func (d *Display) width() int {
	if d.opts.Width != nil {
		if n := d.opts.Width(); n > 0 {
			return n
		}
	}
	return 100
}

// Write writes plain output: the status line is cleared first and drawn
// again after a complete line.
func (d *Display) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.clear()
	n, err := d.w.Write(p)
	if len(p) > 0 {
		d.partial = p[len(p)-1] != '\n'
	}
	d.draw()
	return n, err
}

// Start begins following a run: on a terminal, the status line redraws
// every Options.Every until Stop.
func (d *Display) Start() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		return
	}
	// A new run (mlrc bench runs several): its own clock and counts.
	d.started, d.phase, d.step, d.cmd, d.runs, d.waiting = time.Now(), "", 0, nil, 0, 0
	if !d.opts.TTY {
		return
	}
	d.stop = make(chan struct{})
	go func(stop chan struct{}) {
		t := time.NewTicker(d.opts.Every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d.mu.Lock()
				d.draw()
				d.mu.Unlock()
			}
		}
	}(d.stop)
}

// Stop ends the redrawing and clears the status line.
func (d *Display) Stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	d.clear()
}

// Line prints one plain line (cleaned, cut to the width on a terminal).
func (d *Display) Line(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.line(s)
}

func (d *Display) line(s string) {
	d.clear()
	if d.partial {
		io.WriteString(d.w, "\n")
		d.partial = false
	}
	s = termsafe.String(s)
	if d.opts.TTY {
		s = clip(s, d.width()-1)
	}
	io.WriteString(d.w, s+"\n")
	d.draw()
}

// clear removes the status line from the screen.
func (d *Display) clear() {
	if d.drawn {
		io.WriteString(d.w, "\r\x1b[K")
		d.drawn = false
	}
}

// draw puts the status line on the screen, on a terminal, when no gate
// asks and the last plain output ended its line.
func (d *Display) draw() {
	if !d.opts.TTY || d.paused > 0 || d.partial || d.stop == nil || d.phase == "" {
		return
	}
	s := clip(d.status(time.Now()), d.width()-1)
	if d.opts.Color {
		s = "\x1b[2m" + s + "\x1b[0m"
	}
	io.WriteString(d.w, "\r\x1b[K"+s)
	d.drawn, d.drawnAt = true, time.Now()
}

// status is the status line's text.
func (d *Display) status(now time.Time) string {
	parts := []string{d.phase}
	if d.step > 0 {
		parts[0] += fmt.Sprintf(" · step %d", d.step)
	}
	parts[0] += " · " + Duration(now.Sub(d.started))
	switch {
	case d.cmd != nil:
		c := d.cmd
		what := c.name
		if c.run > 0 {
			what = fmt.Sprintf("experiment #%d", c.run)
		}
		s := fmt.Sprintf("%s: %s", what, Duration(now.Sub(c.at)))
		if c.memory > 0 {
			s += ", " + Size(c.memory)
		}
		parts = append(parts, s)
		if c.last != "" {
			parts = append(parts, c.last)
		}
	case d.waiting > 0:
		parts = append(parts, "model: "+Duration(now.Sub(d.modelAt)))
	}
	return strings.Join(parts, " │ ")
}

// Event takes in one of the run's events: the status changes, and what
// is done is printed as a line.
func (d *Display) Event(e research.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	switch e := e.(type) {
	case research.PhaseStarted:
		d.phase, d.phaseAt, d.step = e.Phase, now, 0
	case research.StepStarted:
		d.step = e.Step
	case research.StepEnded:
		if e.Phase == "experiment" && e.Name == "agent" {
			d.line(d.stepLine(e, now))
		}
	case research.ModelWaiting:
		if d.waiting == 0 {
			d.modelAt = now
		}
		d.waiting++
	case research.ModelAnswered:
		d.waiting = max(0, d.waiting-1)
		d.tokens += e.Tokens
	case research.CommandStarted:
		c := &command{n: e.N, name: e.Name, at: now}
		if e.Name == "run" {
			d.runs++
			c.run = d.runs
		}
		d.cmd = c
	case research.CommandProgress:
		if d.cmd != nil && d.cmd.n == e.N {
			d.cmd.memory = e.Memory
		}
	case research.CommandOutput:
		if d.cmd != nil && d.cmd.n == e.N {
			d.cmd.last = termsafe.String(e.Line)
		}
	case research.CommandEnded:
		if d.cmd != nil && d.cmd.n == e.N {
			d.cmd = nil
		}
	case research.Cost:
		d.cost = e
	case research.Warning:
		d.line("  warning: " + research.ClipLine(e.Message, 400))
	case research.GateOpened:
		d.clear()
		d.paused++
	case research.GateAnswered:
		d.paused = max(0, d.paused-1)
	default:
		// Output lines and progress come often: the ticker shows them.
		if d.drawn && now.Sub(d.drawnAt) < d.opts.Every {
			return
		}
	}
	d.draw()
}

// stepLine is an experiment step, cut to the terminal's width: the action
// is what gives way. The cost note (no price known) is printed once.
func (d *Display) stepLine(e research.StepEnded, now time.Time) string {
	metric, best := "-", "-"
	if e.Metric != nil {
		metric = fmt.Sprintf("%.6g", *e.Metric)
	}
	if e.Best != nil {
		best = fmt.Sprintf("%.6g", *e.Best)
	}
	cost := fmt.Sprintf("$%.4f", d.cost.USD)
	if d.cost.Unknown > 0 && d.cost.USD == 0 {
		cost = "cost ?"
		if !d.costNoted {
			d.costNoted = true
			d.clear()
			io.WriteString(d.w, "(cost ?: no price for this model; add one under prices: in mlrc.yaml)\n")
		}
	}
	head := fmt.Sprintf("step %3d │ ", e.Step)
	tail := fmt.Sprintf(" │ metric %s · best %s │ %d tok · %s · %s", metric, best, d.cost.Tokens, cost, Duration(now.Sub(d.started)))
	room := 60
	if d.opts.TTY {
		room = min(60, d.width()-1-len([]rune(head))-len([]rune(tail)))
	}
	if room < 10 {
		room = 10
	}
	return head + fmt.Sprintf("%-*s", room, research.ClipLine(e.Action, room)) + tail
}

// clip cuts s to n runes.
func clip(s string, n int) string {
	r := []rune(s)
	if n < 1 || len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// Duration is d for a person: "12 s", "1m12s", "1h02m".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// Size is n bytes for a person: "3.1 GiB", "512 MiB".
func Size(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%d MiB", n>>20)
}
