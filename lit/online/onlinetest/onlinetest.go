// Package onlinetest is the contract every online literature source keeps,
// checked against fake servers speaking the service's own format: results
// are parsed and ranked, 429 and 5xx are retried (honouring Retry-After),
// client errors fail at once naming the service and status, a server that
// never answers costs no more than the timeout and Fallback moves past it,
// and the cache saves repeated requests until its entries expire.
package onlinetest

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// Harness describes one service to the contract.
type Harness struct {
	// Service is the source's name, expected in Work.Source and in errors.
	Service string
	// New returns a client of the service at baseURL with policy p and
	// cache c (nil: none) keeping entries for ttl. It must not space
	// requests more than a few milliseconds apart.
	New func(baseURL string, p online.Policy, c online.Cache, ttl time.Duration) lit.Source
	// OK answers any search with at least one work, in the service's format.
	OK http.HandlerFunc
	// Fail writes an error answer with status and message in the service's
	// format.
	Fail func(w http.ResponseWriter, status int, message string)
}

// slack is how much longer than its timeout a search may take to give up:
// the time to notice, close the connection and return.
const slack = 700 * time.Millisecond

// fast retries quickly; tests that need more set it.
var fast = online.Policy{BaseDelay: 10 * time.Millisecond}

// Run checks the contract, its cases in parallel.
func Run(t *testing.T, h Harness) {
	t.Run("results", func(t *testing.T) { t.Parallel(); h.results(t) })
	t.Run("429 with Retry-After", func(t *testing.T) { t.Parallel(); h.retryAfter(t) })
	t.Run("5xx retried", func(t *testing.T) { t.Parallel(); h.serverErrors(t) })
	t.Run("5xx until attempts run out", func(t *testing.T) { t.Parallel(); h.attemptsRunOut(t) })
	t.Run("client errors fail fast", func(t *testing.T) { t.Parallel(); h.clientErrors(t) })
	t.Run("silent server times out", func(t *testing.T) { t.Parallel(); h.silent(t) })
	t.Run("search deadline", func(t *testing.T) { t.Parallel(); h.deadline(t) })
	t.Run("caller cancels", func(t *testing.T) { t.Parallel(); h.cancel(t) })
	t.Run("fallback past a silent server", func(t *testing.T) { t.Parallel(); h.fallback(t) })
	t.Run("cache", func(t *testing.T) { t.Parallel(); h.cache(t) })
	t.Run("cache expiry", func(t *testing.T) { t.Parallel(); h.cacheExpiry(t) })
}

// server serves handle, counting requests.
func server(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(n.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// silentServer never answers until the test ends or the client hangs up.
func silentServer(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	release := make(chan struct{})
	srv, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	return srv, n
}

func (h Harness) search(t *testing.T, src lit.Source) ([]lit.Hit, error) {
	t.Helper()
	return src.Search(context.Background(), "low-rank adaptation of large language models", 5)
}

// checkHits checks what every successful search returns.
func (h Harness) checkHits(t *testing.T, hits []lit.Hit) {
	t.Helper()
	if len(hits) == 0 {
		t.Fatal("no hits, want at least one")
	}
	for i, hit := range hits {
		if hit.Rank != i+1 {
			t.Errorf("hit %d: rank %d, want %d", i, hit.Rank, i+1)
		}
		if hit.Work.Source != h.Service {
			t.Errorf("hit %d: source %q, want %q", i, hit.Work.Source, h.Service)
		}
		if hit.Work.ID == "" || hit.Work.Title == "" {
			t.Errorf("hit %d: id %q, title %q; want both", i, hit.Work.ID, hit.Work.Title)
		}
		if i > 0 && hit.Score > hits[i-1].Score {
			t.Errorf("hit %d scores %v, more than hit %d's %v", i, hit.Score, i-1, hits[i-1].Score)
		}
	}
}

// checkError checks that err is an *online.Error naming the service and,
// when status is not 0, the status.
func (h Harness) checkError(t *testing.T, err error, status int, wants ...string) *online.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error, want one")
	}
	var e *online.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q (%T) is not an *online.Error", err, err)
	}
	if e.Service != h.Service || e.Status != status {
		t.Errorf("error service %q, status %d; want %q, %d", e.Service, e.Status, h.Service, status)
	}
	wants = append(wants, h.Service)
	if status != 0 {
		wants = append(wants, strconv.Itoa(status))
	}
	for _, want := range wants {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	return e
}

func (h Harness) results(t *testing.T) {
	srv, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) { h.OK(w, r) })
	hits, err := h.search(t, h.New(srv.URL, fast, nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	h.checkHits(t, hits)
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func (h Harness) retryAfter(t *testing.T) {
	srv, n := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			w.Header().Set("Retry-After", "1")
			h.Fail(w, http.StatusTooManyRequests, "Too Many Requests")
			return
		}
		h.OK(w, r)
	})
	start := time.Now()
	hits, err := h.search(t, h.New(srv.URL, fast, nil, 0))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	h.checkHits(t, hits)
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	if elapsed < time.Second {
		t.Errorf("succeeded after %v; Retry-After asked for 1 s", elapsed)
	}
}

func (h Harness) serverErrors(t *testing.T) {
	srv, n := server(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 2 {
			h.Fail(w, http.StatusInternalServerError, "Internal Server Error")
			return
		}
		h.OK(w, r)
	})
	hits, err := h.search(t, h.New(srv.URL, fast, nil, 0))
	if err != nil {
		t.Fatal(err)
	}
	h.checkHits(t, hits)
	if got := n.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func (h Harness) attemptsRunOut(t *testing.T) {
	srv, n := server(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		h.Fail(w, http.StatusBadGateway, "upstream overloaded")
	})
	_, err := h.search(t, h.New(srv.URL, fast, nil, 0))
	e := h.checkError(t, err, http.StatusBadGateway, "upstream overloaded", "after 3 attempts")
	if e != nil && e.Attempts != 3 {
		t.Errorf("error says %d attempts, want 3", e.Attempts)
	}
	if got := n.Load(); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
}

func (h Harness) clientErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			msg := "refused with " + strconv.Itoa(status)
			srv, n := server(t, func(_ int, w http.ResponseWriter, _ *http.Request) { h.Fail(w, status, msg) })
			start := time.Now()
			_, err := h.search(t, h.New(srv.URL, fast, nil, 0))
			h.checkError(t, err, status, msg)
			if got := n.Load(); got != 1 {
				t.Errorf("%d requests, want 1 (no retry)", got)
			}
			if elapsed := time.Since(start); elapsed > slack {
				t.Errorf("failed after %v, want at once", elapsed)
			}
		})
	}
}

func (h Harness) silent(t *testing.T) {
	srv, n := silentServer(t)
	timeout := 300 * time.Millisecond
	start := time.Now()
	_, err := h.search(t, h.New(srv.URL, online.Policy{Timeout: timeout, Attempts: 1}, nil, 0))
	elapsed := time.Since(start)
	h.checkError(t, err, 0, "300ms")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q is not context.DeadlineExceeded", err)
	}
	if elapsed < timeout || elapsed > timeout+slack {
		t.Errorf("gave up after %v, want about %v", elapsed, timeout)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}

func (h Harness) deadline(t *testing.T) {
	srv, n := silentServer(t)
	p := online.Policy{Timeout: 300 * time.Millisecond, Deadline: 450 * time.Millisecond, BaseDelay: 10 * time.Millisecond}
	start := time.Now()
	_, err := h.search(t, h.New(srv.URL, p, nil, 0))
	elapsed := time.Since(start)
	h.checkError(t, err, 0, "deadline")
	if elapsed > p.Deadline+slack {
		t.Errorf("gave up after %v, want about the %v deadline", elapsed, p.Deadline)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests, want 2 (one timed out, one cut by the deadline)", got)
	}
}

func (h Harness) cancel(t *testing.T) {
	srv, _ := silentServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := h.New(srv.URL, fast, nil, 0).Search(ctx, "anything", 5)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if elapsed := time.Since(start); elapsed > 100*time.Millisecond+slack {
		t.Errorf("returned %v after the start, want soon after the cancel", elapsed)
	}
}

func (h Harness) fallback(t *testing.T) {
	silent, _ := silentServer(t)
	ok, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) { h.OK(w, r) })
	timeout := 300 * time.Millisecond
	src := online.Fallback(
		h.New(silent.URL, online.Policy{Timeout: timeout, Attempts: 1}, nil, 0),
		h.New(ok.URL, fast, nil, 0),
	)
	start := time.Now()
	hits, err := h.search(t, src)
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed > timeout+slack {
		t.Errorf("fallback answered after %v, want about %v", elapsed, timeout)
	}
	h.checkHits(t, hits)
	if got := n.Load(); got != 1 {
		t.Errorf("second source got %d requests, want 1", got)
	}
}

func (h Harness) cache(t *testing.T) {
	srv, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) { h.OK(w, r) })
	src := h.New(srv.URL, fast, &online.MemoryCache{}, time.Hour)
	ctx := context.Background()
	first, err := src.Search(ctx, "Low-rank adaptation", 5)
	if err != nil {
		t.Fatal(err)
	}
	h.checkHits(t, first)
	// The same search, up to case and spaces.
	second, err := src.Search(ctx, "  low-rank   ADAPTATION ", 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 1 {
		t.Errorf("%d requests for two identical searches, want 1", got)
	}
	if len(second) != len(first) || second[0].Work.Title != first[0].Work.Title || second[0].Work.ID != first[0].Work.ID {
		t.Errorf("cached answer %+v differs from the first %+v", second, first)
	}
	if _, err := src.Search(ctx, "Low-rank adaptation", 3); err != nil {
		t.Fatal(err)
	}
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests after a search with another k, want 2", got)
	}
}

func (h Harness) cacheExpiry(t *testing.T) {
	srv, n := server(t, func(_ int, w http.ResponseWriter, r *http.Request) { h.OK(w, r) })
	ttl := 50 * time.Millisecond
	src := h.New(srv.URL, fast, &online.MemoryCache{}, ttl)
	if _, err := h.search(t, src); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl)
	hits, err := h.search(t, src)
	if err != nil {
		t.Fatal(err)
	}
	h.checkHits(t, hits)
	if got := n.Load(); got != 2 {
		t.Errorf("%d requests, want 2: the expired entry is fetched again", got)
	}
}
