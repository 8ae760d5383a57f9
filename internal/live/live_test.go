package live

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/research"
)

func ptr(f float64) *float64 { return &f }

// Without a terminal: plain lines only, nothing redrawn, no colour, and the
// note on an unknown price once however many steps.
func TestPlainWithoutTerminal(t *testing.T) {
	var out bytes.Buffer
	d := New(&out, Options{Color: true}) // colour is for terminals only
	d.Start()
	d.Event(research.PhaseStarted{Phase: "experiment", Index: 2, Of: 4})
	d.Event(research.CommandStarted{N: 1, Name: "run"})
	d.Event(research.CommandOutput{N: 1, Stream: "stdout", Line: "epoch 1 loss 0.3"})
	d.Event(research.Cost{Tokens: 120, Unknown: 1})
	for i := 1; i <= 3; i++ {
		d.Event(research.StepEnded{Phase: "experiment", Step: i, Name: "agent", Action: "run_experiment #1 → ok", Metric: ptr(0.9), Best: ptr(0.9)})
	}
	d.Event(research.Warning{Phase: "idea", Message: "an answer was repaired"})
	d.Stop()
	s := out.String()
	if strings.ContainsAny(s, "\r\x1b") {
		t.Errorf("redraws or colour without a terminal:\n%q", s)
	}
	if n := strings.Count(s, "no price for this model"); n != 1 {
		t.Errorf("the cost note appears %d times, want once:\n%s", n, s)
	}
	if n := strings.Count(s, "step "); n != 3 || !strings.Contains(s, "metric 0.9 · best 0.9 │ 120 tok · cost ?") {
		t.Errorf("want 3 step lines with the metric and the tokens:\n%s", s)
	}
	if !strings.Contains(s, "  warning: an answer was repaired\n") {
		t.Errorf("no warning line:\n%s", s)
	}
}

// On a terminal: the status line says the phase, the step, what runs and
// for how long, its memory and its last line; it is cleared before plain
// output; a gate stops it; every line fits the width; colour unless told.
func TestStatusLineOnTerminal(t *testing.T) {
	for _, colour := range []bool{true, false} {
		var out bytes.Buffer
		d := New(&out, Options{TTY: true, Color: colour, Width: func() int { return 70 }, Every: time.Hour})
		d.Start()
		d.Event(research.PhaseStarted{Phase: "experiment", Index: 2, Of: 4})
		d.Event(research.StepStarted{Phase: "experiment", Step: 2, Name: "agent"})
		d.Event(research.ModelWaiting{Phase: "experiment"})
		if s := out.String(); !strings.Contains(s, "experiment · step 2 · 0 s │ model: 0 s") {
			t.Errorf("waiting for the model: %q", s)
		}
		d.Event(research.ModelAnswered{Phase: "experiment", Tokens: 10})
		d.Event(research.CommandStarted{N: 4, Name: "run"})
		d.Event(research.CommandProgress{N: 4, Seconds: 1, Memory: 3 << 30})
		d.Event(research.CommandOutput{N: 4, Stream: "stderr", Line: "epoch 3/10 \x1b]0;title\x07loss 0.25 and a long tail that cannot fit in seventy columns at all"})
		out.Reset()
		d.draw()
		s := out.String()
		if !strings.HasPrefix(s, "\r\x1b[K") || !strings.Contains(s, "experiment #1: 0 s, 3.0 GiB │ epoch 3/10") || strings.Contains(s, "\x07") {
			t.Errorf("status while an experiment runs: %q", s)
		}
		if got := strings.Contains(s, "\x1b[2m"); got != colour {
			t.Errorf("colour %v, want %v: %q", got, colour, s)
		}
		plain := strings.NewReplacer("\r\x1b[K", "", "\x1b[2m", "", "\x1b[0m", "").Replace(s)
		if n := len([]rune(plain)); n > 69 {
			t.Errorf("a status line of %d columns on 70: %q", n, plain)
		}
		out.Reset()
		d.Event(research.StepEnded{Phase: "experiment", Step: 2, Name: "agent", Status: "done",
			Action: "edit_file train.py: swap the logistic regression for an RBF-kernel SVM with scaling", Metric: ptr(0.97), Best: ptr(0.97)})
		lines := strings.Split(strings.NewReplacer("\r\x1b[K", "\n", "\x1b[2m", "", "\x1b[0m", "").Replace(out.String()), "\n")
		var step string
		for _, l := range lines {
			if strings.HasPrefix(l, "step ") {
				step = l
			}
		}
		if step == "" || len([]rune(step)) > 69 || !strings.Contains(step, "metric 0.97") {
			t.Errorf("step line %q (%d columns on 70)", step, len([]rune(step)))
		}
		out.Reset()
		d.Event(research.GateOpened{Gate: "checkpoint", Text: "go on?"})
		d.Write([]byte("go on? [Enter] "))
		d.draw()
		if s := out.String(); strings.Contains(s, "experiment ·") {
			t.Errorf("the status line is drawn while a gate asks: %q", s)
		}
		d.Event(research.GateAnswered{Gate: "checkpoint"})
		d.Stop()
	}
}

func TestDurationAndSize(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{{12 * time.Second, "12 s"}, {72 * time.Second, "1m12s"}, {3725 * time.Second, "1h02m"}} {
		if got := Duration(tt.d); got != tt.want {
			t.Errorf("Duration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if got, want := Size(3328599654), "3.1 GiB"; got != want {
		t.Errorf("Size = %q, want %q", got, want)
	}
}
