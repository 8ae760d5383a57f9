package meminfo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(p, []byte("MemTotal:       24576000 kB\nMemFree:  100 kB\nMemAvailable:   oops kB\n"), 0o644)
	tests := []struct {
		key  string
		want int64
	}{
		{"MemTotal:", 24576000 << 10},
		{"MemFree:", 100 << 10},
		{"MemAvailable:", 0}, // malformed
		{"SwapTotal:", 0},    // missing
	}
	for _, tt := range tests {
		if got := read(p, tt.key); got != tt.want {
			t.Errorf("read(%s) = %d, want %d", tt.key, got, tt.want)
		}
	}
	if got := read(filepath.Join(t.TempDir(), "none"), "MemTotal:"); got != 0 {
		t.Errorf("read of a missing file = %d, want 0", got)
	}
	if _, err := os.Stat("/proc/meminfo"); err == nil && Total() <= 0 {
		t.Errorf("Total() = %d on a machine with /proc/meminfo", Total())
	}
}
