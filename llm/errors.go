package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// APIError is a failed call to a provider, in a form every adapter returns so
// that retries and messages work the same for all of them.
type APIError struct {
	Provider string // "openai", "anthropic", "ollama", …
	Model    string
	Status   int    // HTTP status; 0 when the call never got one
	Message  string // the provider's own message, or what went wrong
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Temporary marks transport failures worth another try: a dropped
	// connection, a stream cut in the middle, a timeout.
	Temporary bool
	Attempts  int // set by Retry on the error it finally returns
	Err       error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", e.Provider)
	if e.Model != "" {
		fmt.Fprintf(&b, " model %s", e.Model)
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if hint := e.hint(); hint != "" {
		fmt.Fprintf(&b, "; %s", hint)
	}
	return b.String()
}

func (e *APIError) hint() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "check the API key for this provider (see `mlrc doctor`)"
	case http.StatusNotFound:
		return "check the model name and the base URL"
	}
	return ""
}

func (e *APIError) Unwrap() error { return e.Err }

// Retryable reports whether another attempt may succeed.
func (e *APIError) Retryable() bool {
	if e.Temporary {
		return true
	}
	switch {
	case e.Status == http.StatusRequestTimeout, e.Status == http.StatusConflict,
		e.Status == http.StatusTooManyRequests, e.Status >= 500:
		return true
	}
	return false
}

// IsRetryable reports whether err is worth another attempt: a retryable
// APIError, or a transport failure (timeouts, resets, unexpected EOF).
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		return apiErr.Retryable()
	}
	var netErr net.Error
	switch {
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &netErr):
		return true
	}
	return false
}

// MaxRetryAfter bounds what ParseRetryAfter returns; callers decide
// whether to wait that long.
const MaxRetryAfter = 24 * time.Hour

// ParseRetryAfter reads a Retry-After header (seconds or an HTTP date). It
// also understands the millisecond form some providers send. Every HTTP
// client of mlrc (models, literature services) reads it here.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if ms := h.Get("Retry-After-Ms"); ms != "" {
		if v, err := strconv.ParseFloat(ms, 64); err == nil && v > 0 {
			return time.Duration(v * float64(time.Millisecond))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		switch {
		case secs <= 0:
			return 0
		case secs > MaxRetryAfter.Seconds():
			return MaxRetryAfter
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, MaxRetryAfter)
		}
	}
	return 0
}

// BudgetError says a run's budget is spent; the run should stop cleanly.
type BudgetError struct {
	Which string // "tokens" or "dollars"
	Limit float64
	Spent float64
}

func (e *BudgetError) Error() string {
	if e.Which == "dollars" {
		return fmt.Sprintf("budget exceeded: spent $%.4f of the $%.4f dollar budget; raise budget.dollars or --budget-dollars to go on", e.Spent, e.Limit)
	}
	return fmt.Sprintf("budget exceeded: used %.0f of the %.0f token budget; raise budget.tokens or --budget-tokens to go on", e.Spent, e.Limit)
}
