package secret

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestString(t *testing.T) {
	r := New("sk-abcdefghijkl", "short", "", "sk-abcdefghijkl-longer")
	tests := []struct{ in, want string }{
		{"key sk-abcdefghijkl here", "key [REDACTED] here"},
		{"key sk-abcdefghijkl-longer here", "key [REDACTED] here"},
		{"short words stay", "short words stay"},
	}
	for _, tt := range tests {
		if got := r.String(tt.in); got != tt.want {
			t.Errorf("String(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHandlerMasksMessagesAndAttrs(t *testing.T) {
	const key = "sk-live-0123456789"
	var buf bytes.Buffer
	log := slog.New(New(key).Handler(slog.NewJSONHandler(&buf, nil))).With("pre", "with "+key)
	log.Info("msg "+key, "s", key, "err", errors.New("echo "+key), slog.Group("g", "inner", key), "n", 3)
	out := buf.String()
	if strings.Contains(out, key) {
		t.Fatalf("key in log: %s", out)
	}
	if strings.Count(out, Mask) != 5 || !strings.Contains(out, `"n":3`) {
		t.Errorf("log = %s", out)
	}
}
