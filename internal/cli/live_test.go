package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair of cols columns: the master to read
// what a program writes, the slave to give it as its terminal.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: 40}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { master.Close(); slave.Close() })
	return master, slave
}

// A scripted research run on a terminal shows a status line that redraws
// while work happens (the phase, the step, the experiment running with its
// time), in colour unless NO_COLOR; every line fits the terminal; nothing is
// redrawn when stdout is not a terminal (TestRehearsal checks that).
func TestLiveStatusInPTY(t *testing.T) {
	taskDir := digitsTask(t)
	for _, tt := range []struct {
		name    string
		noColor bool
	}{{"colour", false}, {"NO_COLOR", true}} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noColor && testing.Short() {
				t.Skip("short")
			}
			const cols = 90
			master, slave := openPTY(t, cols)
			cmd := exec.Command(os.Args[0], "research", "--runs-dir", t.TempDir(), "--rehearsal", rehearsalScript, "--offline",
				"--paper", "../../examples/papers/fashion-mnist.md", "--task", taskDir, "--auto", "--seeds", "0,1")
			cmd.Env = append(os.Environ(), "MLRC_TEST_AS_CLI=1", "HF_HUB_OFFLINE=1", "TERM=xterm")
			if tt.noColor {
				cmd.Env = append(cmd.Env, "NO_COLOR=1")
			}
			cmd.Stdout, cmd.Stderr = slave, slave
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			slave.Close()
			var out bytes.Buffer
			read := make(chan error, 1)
			go func() {
				_, err := io.Copy(&out, master)
				read <- err
			}()
			werr := cmd.Wait()
			select {
			case err := <-read:
				if err != nil && !errors.Is(err, syscall.EIO) {
					t.Logf("read the terminal: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the terminal was not closed")
			}
			text := out.String()
			if werr != nil {
				t.Fatalf("the run failed: %v\n%s", werr, text)
			}
			if got := strings.Count(text, "\r\x1b[K"); got < 5 {
				t.Errorf("the status line was redrawn %d times, want many:\n%q", got, text)
			}
			// What the status line said, redraw by redraw.
			var status []string
			for _, s := range strings.Split(text, "\r\x1b[K")[1:] {
				s, _, _ = strings.Cut(s, "\n")
				s = strings.TrimSuffix(strings.TrimPrefix(s, "\x1b[2m"), "\x1b[0m")
				if s != "" {
					status = append(status, s)
				}
			}
			all := strings.Join(status, "\n")
			for _, want := range []*regexp.Regexp{
				regexp.MustCompile(`(?m)^idea · step \d+ · \d+ s`),
				regexp.MustCompile(`(?m)^experiment · step \d+ · [^│]+ │ experiment #\d+: \d+ s`),
				regexp.MustCompile(`(?m)^validation · step 1 · `),
			} {
				if !want.MatchString(all) {
					t.Errorf("no status line matches %s; they were:\n%s", want, all)
				}
			}
			if colour := strings.Contains(text, "\x1b[2m"); colour == tt.noColor {
				t.Errorf("colour on: %v, want %v (NO_COLOR set: %v)", colour, !tt.noColor, tt.noColor)
			}
			plain := regexp.MustCompile(`\r\x1b\[K|\x1b\[[0-9;]*m`).ReplaceAllString(text, "\n")
			for _, line := range strings.Split(plain, "\n") {
				if n := len([]rune(strings.TrimRight(line, "\r"))); n > cols && strings.HasPrefix(line, "step ") {
					t.Errorf("a step line of %d columns on a terminal of %d:\n%s", n, cols, line)
				}
			}
			if !strings.Contains(plain, "verdict: SUCCESS") {
				t.Errorf("no verdict in the output:\n%s", plain)
			}
		})
	}
}
