package sandbox

import (
	"strings"
	"testing"
	"time"
)

func TestCapture(t *testing.T) {
	tests := []struct {
		name   string
		limit  int64
		writes []string
		want   Output
	}{
		{"empty", 10, nil, Output{}},
		{"fits", 10, []string{"abc", "defghij"}, Output{Text: "abcdefghij", Total: 10}},
		{"head and tail", 10, []string{"abcdefghijklmnop"},
			Output{Text: "abcde\n[… 6 bytes omitted …]\nlmnop", Total: 16, Truncated: true}},
		{"many small writes", 4, strings.Split("0123456789", ""),
			Output{Text: "01\n[… 6 bytes omitted …]\n89", Total: 10, Truncated: true}},
		{"big write after head", 4, []string{"0", "123456789"},
			Output{Text: "01\n[… 6 bytes omitted …]\n89", Total: 10, Truncated: true}},
		{"runes cut at the seams", 6, []string{"ééééé"}, // 10 bytes, 2 each
			Output{Text: "é\n[… 6 bytes omitted …]\né", Total: 10, Truncated: true}},
		{"runes kept whole", 8, []string{"ééééé"},
			Output{Text: "éé\n[… 2 bytes omitted …]\néé", Total: 10, Truncated: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCapture(tt.limit)
			for _, w := range tt.writes {
				c.Write([]byte(w))
			}
			if got := c.Output(); got != tt.want {
				t.Errorf("Output() = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCaptureBounded(t *testing.T) {
	c := newCapture(1 << 10)
	block := []byte(strings.Repeat("x", 1000))
	for range 100_000 {
		c.Write(block)
	}
	if cap(c.tail) > 4<<10 || len(c.head) != 512 {
		t.Errorf("capture grew: head %d, tail cap %d", len(c.head), cap(c.tail))
	}
	if got, want := c.Output().Total, int64(100_000_000); got != want {
		t.Errorf("Total = %d, want %d", got, want)
	}
}

func TestFormat(t *testing.T) {
	tests := []struct{ got, want string }{
		{formatSize(4 << 30), "4 GiB"},
		{formatSize(512 << 20), "512 MiB"},
		{formatSize(1 << 20), "1 MiB"},
		{formatSize(3 << 29), "1.5 GiB"},
		{formatSize(100), "100 B"},
		{formatAmount(1 << 30), "1.0 GiB"},
		{formatAmount(1<<30 + 11), "1.0 GiB"},
		{formatAmount(1536), "1.5 KiB"},
		{formatAmount(12), "12 B"},
		{formatSeconds(600 * time.Second), "600 s"},
		{formatSeconds(1500 * time.Millisecond), "1.5 s"},
		{outputNote(1<<20, Output{Total: 1 << 30, Truncated: true}, Output{Total: 5}),
			"output truncated at 1 MiB (stdout: 1.0 GiB written)"},
		{outputNote(1<<20, Output{Total: 3 << 20, Truncated: true}, Output{Total: 2 << 20, Truncated: true}),
			"output truncated at 1 MiB (stdout: 3.0 MiB written, stderr: 2.0 MiB written)"},
		{outputNote(1<<20, Output{}, Output{}), ""},
		{leftoverNote(7, []string{"a", "b", "c", "d", "e", "f"}),
			"background processes were left running and have been killed (7: a, b, c, d, e, …)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
