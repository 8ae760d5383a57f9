// Package termsafe makes untrusted text safe to print on a terminal. Text
// from models, experiments and evaluators may hold escape sequences that
// clear the screen, set the window title, plant hyperlinks (OSC 8), move the
// cursor or rewrite a line already printed (a bare carriage return,
// backspaces). A Writer removes every escape sequence whole and shows every
// other control character as a visible escape such as \x07, so that what the
// terminal shows is what the text says. Newlines and tabs pass unchanged.
//
// Only what reaches a terminal is cleaned: logs, reports and the store keep
// the original text.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"
)

// Bounds on a sequence being removed: past them the sequence is taken to be
// broken and the text after it is printed again, so that an unterminated
// sequence cannot hide what follows it.
const (
	maxCSI    = 64
	maxString = 512
)

type state uint8

const (
	ground   state = iota
	esc            // after ESC
	escInter       // after ESC and intermediate bytes
	csi            // inside a control sequence: ESC [ …
	str            // inside a string: OSC, DCS, SOS, PM, APC
	strEsc         // after ESC inside a string (ST is ESC \)
)

// Writer cleans what is written to it and passes it on. It keeps state
// between writes, so a sequence or a UTF-8 character split over two writes
// (as in a streamed model answer) is handled as if written at once. It is
// safe for concurrent use.
type Writer struct {
	mu    sync.Mutex
	w     io.Writer
	state state
	n     int     // bytes of the sequence being removed
	held  [4]byte // the start of a UTF-8 character split over writes
	nheld int
	buf   []byte
}

// NewWriter returns a Writer that writes clean text to w.
func NewWriter(w io.Writer) *Writer {
	if tw, ok := w.(*Writer); ok {
		return tw
	}
	return &Writer{w: w}
}

// Write cleans p and writes the result; it reports len(p) on success.
func (t *Writer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = t.buf[:0]
	data := p
	if t.nheld > 0 {
		// The start of a character held over from the last write.
		data = append(append([]byte(nil), t.held[:t.nheld]...), p...)
		t.nheld = 0
	}
	t.clean(data)
	if len(t.buf) > 0 {
		if _, err := t.w.Write(t.buf); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (t *Writer) clean(p []byte) {
	for i := 0; i < len(p); {
		c := p[i]
		if c < utf8.RuneSelf {
			t.rune(rune(c))
			i++
			continue
		}
		if !utf8.FullRune(p[i:]) {
			t.nheld = copy(t.held[:], p[i:])
			return
		}
		r, size := utf8.DecodeRune(p[i:])
		t.rune(r) // an invalid byte is utf8.RuneError, shown as U+FFFD
		i += size
	}
}

// rune feeds one character through the state machine.
func (t *Writer) rune(r rune) {
	switch t.state {
	case esc:
		switch {
		case r == '[':
			t.state, t.n = csi, 0
		case r == ']' || r == 'P' || r == 'X' || r == '^' || r == '_':
			t.state, t.n = str, 0
		case r >= 0x20 && r <= 0x2f:
			t.state, t.n = escInter, 0
		case r >= 0x30 && r <= 0x7e:
			t.state = ground
		default:
			t.state = ground
			t.rune(r)
		}
		return
	case escInter:
		switch {
		case r >= 0x20 && r <= 0x2f && t.n < maxCSI:
			t.n++
		case r >= 0x30 && r <= 0x7e:
			t.state = ground
		default:
			t.state = ground
			t.rune(r)
		}
		return
	case csi:
		switch {
		case r >= 0x20 && r <= 0x3f && t.n < maxCSI:
			t.n++
		case r >= 0x40 && r <= 0x7e:
			t.state = ground
		default:
			t.state = ground
			t.rune(r)
		}
		return
	case str:
		switch {
		case r == 0x07 || r == 0x9c:
			t.state = ground
		case r == 0x1b:
			t.state = strEsc
		case r == '\n' || t.n >= maxString:
			t.state = ground
			t.rune(r)
		default:
			t.n++
		}
		return
	case strEsc:
		if r == '\\' {
			t.state = ground
			return
		}
		t.state = esc
		t.rune(r)
		return
	}
	switch {
	case r == '\n' || r == '\t':
		t.buf = append(t.buf, byte(r))
	case r == '\r':
		// Dropped: a bare carriage return would let text overwrite the
		// line before it; CR LF becomes LF.
	case r == 0x1b:
		t.state = esc
	case r < 0x20 || r == 0x7f:
		t.buf = fmt.Appendf(t.buf, `\x%02x`, r)
	case r >= 0x80 && r <= 0x9f, invisible(r):
		t.buf = fmt.Appendf(t.buf, `\u%04x`, r)
	default:
		t.buf = utf8.AppendRune(t.buf, r)
	}
}

// invisible reports the formatting characters that change how the text
// around them is shown: the bidirectional overrides and isolates that can
// make a line read differently from what it holds.
func invisible(r rune) bool {
	switch {
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// String returns s cleaned as a Writer would print it, as a whole: a
// sequence left open at its end is dropped, a broken character is U+FFFD.
func String(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	t := NewWriter(&b)
	io.WriteString(t, s)
	if t.nheld > 0 {
		b.WriteRune(utf8.RuneError)
	}
	return b.String()
}
