package mcpserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// launcher runs the mlrc command as child processes.
type launcher struct {
	command []string // the executable and the global flags
	env     []string
	dir     string // the runs directory: console logs go to <dir>/mcp-logs
}

// child is an mlrc run started in the background.
type child struct {
	runID string
	log   string        // the child's console output
	done  chan struct{} // closed when the child has exited
}

// startTimeout bounds the wait for a child to name its run.
const startTimeout = 2 * time.Minute

// maxOutput bounds the console output a command run to its end returns.
const maxOutput = 64 << 10

// start runs `mlrc args...` in a session of its own, so that it goes on
// when the server exits and a signal to the server's terminal does not
// reach it, with its output in a log file. It returns once the child has
// printed its run's id ("run ID · …").
func (l *launcher) start(ctx context.Context, args []string) (*child, error) {
	logs := filepath.Join(l.dir, "mcp-logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(logs, time.Now().UTC().Format("20060102-150405")+"-*.log")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := l.cmd(context.Background(), args)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start mlrc: %w", err)
	}
	c := &child{log: f.Name(), done: make(chan struct{})}
	go func() {
		cmd.Wait() // reaps the child; its outcome is in the run store
		close(c.done)
	}()
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if id := runLine(c.log); id != "" {
			c.runID = id
			return c, nil
		}
		select {
		case <-c.done:
			if id := runLine(c.log); id != "" {
				c.runID = id
				return c, nil
			}
			return nil, fmt.Errorf("mlrc %s ended before it started a run: %s", args[0], tail(c.log))
		case <-deadline.C:
			cmd.Process.Kill()
			return nil, fmt.Errorf("mlrc %s named no run within %s: %s", args[0], startTimeout, tail(c.log))
		case <-ctx.Done():
			cmd.Process.Kill()
			return nil, ctx.Err()
		case <-tick.C:
		}
	}
}

// run runs `mlrc args...` to its end and returns its output (bounded) and
// exit code. Cancelling ctx kills it.
func (l *launcher) run(ctx context.Context, args ...string) (string, int, error) {
	cmd := l.cmd(ctx, args)
	var out capped
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0, nil
	case errors.As(err, &ee) && ctx.Err() == nil:
		return out.String(), ee.ExitCode(), nil
	case ctx.Err() != nil:
		return out.String(), -1, fmt.Errorf("mlrc %s did not end in time (%v): %s", args[0], ctx.Err(), lastLines(out.String(), 5))
	default:
		return out.String(), -1, fmt.Errorf("run mlrc %s: %w", args[0], err)
	}
}

func (l *launcher) cmd(ctx context.Context, args []string) *exec.Cmd {
	all := append(append([]string{}, l.command[1:]...), args...)
	cmd := exec.CommandContext(ctx, l.command[0], all...)
	if l.env != nil {
		cmd.Env = l.env
	}
	return cmd
}

// runLineRe matches the line mlrc prints when it has created a run: "run
// ID · …" or "research run ID · …".
var runLineRe = regexp.MustCompile(`^(?:[a-z]+ )?run (\S+) ·`)

// runLine finds the run's id in a console log.
func runLine(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if m := runLineRe.FindStringSubmatch(sc.Text()); m != nil {
			return m[1]
		}
	}
	return ""
}

// tail is the end of a log, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no output)"
	}
	return lastLines(string(b), 5)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	if t := strings.TrimSpace(strings.Join(lines, "\n")); t != "" {
		return t
	}
	return "(no output)"
}

// capped keeps the first maxOutput bytes written to it.
type capped struct {
	buf bytes.Buffer
	cut bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.buf.Len(); room < len(p) {
		c.buf.Write(p[:max(room, 0)])
		c.cut = true
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *capped) String() string {
	if c.cut {
		return c.buf.String() + "\n… (output cut)"
	}
	return c.buf.String()
}
