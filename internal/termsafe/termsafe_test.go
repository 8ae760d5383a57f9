package termsafe

import (
	"bytes"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "step 3: accuracy 0.91\n\tok", "step 3: accuracy 0.91\n\tok"},
		{"unicode", "Genauigkeit — 0,91 ✓ 精度", "Genauigkeit — 0,91 ✓ 精度"},
		{"clear screen", "a\x1b[2J\x1b[Hb", "ab"},
		{"colour", "\x1b[1;31mred\x1b[0m", "red"},
		{"private CSI", "\x1b[?1049hx", "x"},
		{"set title BEL", "\x1b]0;pwned\x07after", "after"},
		{"set title ST", "\x1b]2;pwned\x1b\\after", "after"},
		{"OSC 8 link", "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"DCS", "\x1bPq#0;2;0;0;0\x1b\\ok", "ok"},
		{"APC", "\x1b_hidden\x1b\\ok", "ok"},
		{"reset", "a\x1bcb", "ab"},
		{"charset", "a\x1b(0b", "ab"},
		{"bare CR", "safe text\rEVIL", "safe textEVIL"},
		{"CRLF", "line\r\nnext", "line\nnext"},
		{"backspace", "abc\b\b\bxyz", `abc\x08\x08\x08xyz`},
		{"bell and NUL", "a\x07b\x00c", `a\x07b\x00c`},
		{"DEL", "a\x7fb", `a\x7fb`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"C1 OSC", "a\u009d0;t\u009cb", `a\u009d0;t\u009cb`},
		{"raw 0x9b byte", "a\x9b2Jb", "a\uFFFD2Jb"},
		{"invalid UTF-8", "a\xff\xfeb", "a\uFFFD\uFFFDb"},
		{"bidi override", "file\u202Etxt.exe", `file\u202etxt.exe`},
		{"bidi isolate", "a\u2066b\u2069", `a\u2066b\u2069`},
		{"trailing ESC", "text\x1b", "text"},
		{"unterminated OSC ends at newline", "\x1b]0;title\nnext line", "\nnext line"},
		{"ESC then control", "a\x1b\x07b", `a\x07b`},
		{"ESC inside OSC starts anew", "\x1b]0;t\x1b[2Jx", "x"},
		{"broken CSI keeps the rest", "\x1b[12\nrest", "\nrest"},
	}
	for _, tt := range tests {
		if got := String(tt.in); got != tt.want {
			t.Errorf("%s: String(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

// An unterminated sequence hides at most a bounded stretch of what follows.
func TestUnterminatedIsBounded(t *testing.T) {
	in := "\x1b]0;" + strings.Repeat("a", 2000) + "VISIBLE"
	if got := String(in); !strings.Contains(got, "VISIBLE") {
		t.Errorf("an unterminated OSC swallowed the rest: %q", got)
	}
	in = "\x1b[" + strings.Repeat("1;", 100) + "VISIBLE"
	if got := String(in); !strings.Contains(got, "ISIBLE") {
		t.Errorf("an overlong CSI swallowed the rest: %q", got)
	}
}

// Output must never hold ESC or another control byte, whatever the input.
func TestNoControlSurvives(t *testing.T) {
	var in []byte
	for i := range 4096 {
		in = append(in, byte(i*7919%256))
	}
	out := String(string(in))
	for i, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f || r >= 0x80 && r <= 0x9f {
			t.Fatalf("control %U at %d survived", r, i)
		}
	}
}

// A Writer gives the same text however the input is split between writes.
func TestWriterSplits(t *testing.T) {
	in := "ok \x1b]0;title\x07 é精\x1b[31mred\x1b[0m\r\n\u202Eend\x9b"
	want := String(in)
	for cut := range len(in) + 1 {
		var b bytes.Buffer
		w := NewWriter(&b)
		for _, part := range []string{in[:cut], in[cut:]} {
			if n, err := w.Write([]byte(part)); err != nil || n != len(part) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		if got := b.String(); got != want {
			t.Errorf("split at %d: %q, want %q", cut, got, want)
		}
	}
	// One byte at a time.
	var b bytes.Buffer
	w := NewWriter(&b)
	for i := range len(in) {
		w.Write([]byte{in[i]})
	}
	if b.String() != want {
		t.Errorf("byte by byte: %q, want %q", b.String(), want)
	}
}

func TestNewWriterDoesNotWrapTwice(t *testing.T) {
	w := NewWriter(&bytes.Buffer{})
	if NewWriter(w) != w {
		t.Error("NewWriter wrapped a Writer again")
	}
}
