// Package secret keeps API keys out of everything mlrc writes: it knows the
// secret values of this process and masks them in text and log records.
package secret

import (
	"context"
	"log/slog"
	"sort"
	"strings"
)

// MinLen is the shortest value treated as a secret; shorter ones ("x", a
// placeholder key for a local server) would mask ordinary text.
const MinLen = 8

// Mask replaces a secret.
const Mask = "[REDACTED]"

// Redactor masks a fixed set of secret values.
type Redactor struct {
	values []string
}

// New returns a redactor for values; empty and short values are ignored.
func New(values ...string) *Redactor {
	r := &Redactor{}
	for _, v := range values {
		v = strings.TrimSpace(v)
		if len(v) >= MinLen {
			r.values = append(r.values, v)
		}
	}
	// Longest first, so a secret containing another is masked whole.
	sort.Slice(r.values, func(i, j int) bool { return len(r.values[i]) > len(r.values[j]) })
	return r
}

// FromEnv returns a redactor for the values of the named variables.
func FromEnv(getenv func(string) string, names ...string) *Redactor {
	var vals []string
	for _, n := range names {
		vals = append(vals, getenv(n))
	}
	return New(vals...)
}

// String masks every secret in s.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// Bytes masks every secret in b.
func (r *Redactor) Bytes(b []byte) []byte {
	if r == nil || len(r.values) == 0 {
		return b
	}
	return []byte(r.String(string(b)))
}

// Handler wraps h so that messages and string attributes are masked.
func (r *Redactor) Handler(h slog.Handler) slog.Handler {
	return &handler{next: h, r: r}
}

type handler struct {
	next slog.Handler
	r    *Redactor
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *handler) Handle(ctx context.Context, rec slog.Record) error {
	out := slog.NewRecord(rec.Time, rec.Level, h.r.String(rec.Message), rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	masked := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		masked[i] = h.attr(a)
	}
	return &handler{next: h.next.WithAttrs(masked), r: h.r}
}

func (h *handler) WithGroup(name string) slog.Handler {
	return &handler{next: h.next.WithGroup(name), r: h.r}
}

func (h *handler) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.r.String(v.String()))
	case slog.KindGroup:
		g := v.Group()
		out := make([]any, len(g))
		for i, x := range g {
			out[i] = h.attr(x)
		}
		return slog.Group(a.Key, out...)
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			return slog.String(a.Key, h.r.String(err.Error()))
		}
		return slog.String(a.Key, h.r.String(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: v}
}
