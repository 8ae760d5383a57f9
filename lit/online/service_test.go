package online

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	p := Policy{BaseDelay: 100 * time.Millisecond, MaxWait: time.Second}.withDefaults()
	for attempt, max := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 5: time.Second} {
		for range 50 {
			if d := backoff(p, attempt, 0); d < max/2 || d > max {
				t.Fatalf("backoff after attempt %d = %v, want within [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
	if got, want := backoff(p, 1, 3*time.Second), 3*time.Second; got != want {
		t.Errorf("backoff with Retry-After %v = %v, want it honoured", want, got)
	}
}

// testServer serves handle, counting requests.
func testServer(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(n.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestGetRetryAfterDate(t *testing.T) {
	t.Parallel()
	srv, n := testServer(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			// HTTP dates have whole seconds: this is 1 to 2 s away.
			w.Header().Set("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte("ok"))
	})
	s := &Service{Name: "svc", Policy: Policy{BaseDelay: time.Millisecond}}
	start := time.Now()
	body, err := s.Get(context.Background(), srv.URL)
	if err != nil || string(body) != "ok" {
		t.Fatalf("Get = %q, %v; want ok", body, err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("succeeded after %v, before the Retry-After date", elapsed)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
}

// A wait longer than the budget, or past the deadline, is not waited: the
// error comes at once so that a fallback can answer instead.
func TestGetWaitTooLong(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		want   string
	}{
		{"wait budget", Policy{MaxWait: time.Second}, "wait budget"},
		{"deadline", Policy{Deadline: time.Second, MaxWait: 2 * time.Minute}, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, n := testServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", "60")
				w.WriteHeader(http.StatusTooManyRequests)
				w.Write([]byte(`slow down`))
			})
			s := &Service{Name: "svc", Policy: tt.policy}
			start := time.Now()
			_, err := s.Get(context.Background(), srv.URL)
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusTooManyRequests || e.RetryAfter != time.Minute {
				t.Fatalf("error %v, want a 429 *Error with its Retry-After", err)
			}
			for _, want := range []string{"svc", "429", "slow down", tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if got := n.Load(); got != 1 {
				t.Errorf("%d requests, want 1", got)
			}
			if elapsed := time.Since(start); elapsed > 500*time.Millisecond {
				t.Errorf("failed after %v, want at once", elapsed)
			}
		})
	}
}

// A dropped connection is retried, and its error does not show the URL,
// which may carry an API key.
func TestGetTransportErrorHidesURL(t *testing.T) {
	srv, n := testServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close()
	})
	s := &Service{Name: "svc", Policy: Policy{BaseDelay: time.Millisecond}}
	_, err := s.Get(context.Background(), srv.URL+"/works?api_key=topsecret")
	var e *Error
	if !errors.As(err, &e) || !e.Temporary {
		t.Fatalf("error %v, want a temporary *Error", err)
	}
	if strings.Contains(err.Error(), "topsecret") || strings.Contains(err.Error(), srv.URL) {
		t.Errorf("error %q shows the URL", err)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func TestGetSendsHeadersAndReadsMessages(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		message func([]byte) string
		want    string
	}{
		{"service message", `{"detail": "no such field"}`, func([]byte) string { return "no such field" }, "svc: HTTP 400 Bad Request: no such field; fix it"},
		{"first line", "bad query\nmore detail", nil, "svc: HTTP 400 Bad Request: bad query; fix it"},
		{"html page", "<html><body>Bad</body></html>", nil, "svc: HTTP 400 Bad Request; fix it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := testServer(t, func(_ int, w http.ResponseWriter, r *http.Request) {
				if got := r.Header.Get("X-Api-Key"); got != "k" {
					t.Errorf("x-api-key %q, want k", got)
				}
				w.WriteHeader(http.StatusBadRequest)
				w.Write([]byte(tt.body))
			})
			s := &Service{
				Name:         "svc",
				Header:       http.Header{"X-Api-Key": {"k"}},
				ErrorMessage: tt.message,
				Hint:         func(int) string { return "fix it" },
			}
			_, err := s.Get(context.Background(), srv.URL)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// A caller who cancels during the wait before a retry gets its
// cancellation at once.
func TestGetCancelDuringBackoff(t *testing.T) {
	srv, n := testServer(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	s := &Service{Name: "svc", Policy: Policy{BaseDelay: 5 * time.Second}}
	start := time.Now()
	_, err := s.Get(ctx, srv.URL)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("returned after %v, want soon after the cancel", elapsed)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
