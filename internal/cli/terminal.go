package cli

import (
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/mlrc/mlrc/internal/live"
)

// terminal says what w is for the live display: a terminal gets a status
// line, and colour unless NO_COLOR is set (or TERM is dumb); anything else
// (a file, a pipe: CI, nohup) gets plain lines.
func terminal(w io.Writer, getenv func(string) string) live.Options {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	f, ok := w.(*os.File)
	if !ok {
		return live.Options{}
	}
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return live.Options{}
	}
	return live.Options{
		TTY:   true,
		Color: getenv("NO_COLOR") == "" && getenv("TERM") != "dumb",
		Width: func() int {
			if ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
				return int(ws.Col)
			}
			n, _ := strconv.Atoi(getenv("COLUMNS"))
			return n
		},
	}
}
