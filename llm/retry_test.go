package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// failing returns a provider that fails with errs in order, then succeeds.
func failing(errs ...error) (Provider, *int) {
	calls := 0
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		calls++
		if calls <= len(errs) {
			return nil, errs[calls-1]
		}
		return &Response{Message: AssistantText("ok")}, nil
	}), &calls
}

func TestRetry(t *testing.T) {
	rateLimited := &APIError{Provider: "openai", Model: "m", Status: 429, Message: "slow down", RetryAfter: 2 * time.Second}
	tests := []struct {
		name      string
		errs      []error
		attempts  int
		wantCalls int
		wantErr   bool
		wantWaits []time.Duration // exact waits, when known
	}{
		{"success first", nil, 3, 1, false, nil},
		{"429 twice then ok honours Retry-After", []error{rateLimited, rateLimited}, 5, 3, false, []time.Duration{2 * time.Second, 2 * time.Second}},
		{"500 then ok", []error{&APIError{Status: 500}}, 3, 2, false, nil},
		{"401 is final", []error{&APIError{Status: 401}}, 5, 1, true, nil},
		{"400 is final", []error{&APIError{Status: 400}}, 5, 1, true, nil},
		{"dropped connection retried", []error{io.ErrUnexpectedEOF}, 3, 2, false, nil},
		{"cut stream retried", []error{&APIError{Temporary: true, Message: "stream cut"}}, 3, 2, false, nil},
		{"gives up after attempts", []error{rateLimited, rateLimited, rateLimited}, 3, 3, true, nil},
		{"unknown error is final", []error{errors.New("boom")}, 3, 1, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, calls := failing(tt.errs...)
			var waits []time.Duration
			pol := RetryPolicy{Attempts: tt.attempts, BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second,
				Sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}
			_, err := Retry(p, pol).Complete(context.Background(), &Request{})
			if got, want := *calls, tt.wantCalls; got != want {
				t.Errorf("calls = %d, want %d", got, want)
			}
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantWaits != nil && fmt.Sprint(waits) != fmt.Sprint(tt.wantWaits) {
				t.Errorf("waits = %v, want %v", waits, tt.wantWaits)
			}
			for _, w := range waits {
				if w <= 0 || w > 5*time.Minute {
					t.Errorf("wait %v out of range", w)
				}
			}
		})
	}
}

func TestRetryErrorNamesAttempts(t *testing.T) {
	e := &APIError{Provider: "anthropic", Model: "claude-x", Status: 503, Message: "overloaded"}
	p, _ := failing(e, e, e)
	pol := RetryPolicy{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
	_, err := Retry(p, pol).Complete(context.Background(), &Request{})
	got := err.Error()
	want := "anthropic model claude-x: HTTP 503 Service Unavailable: overloaded (after 3 attempts)"
	if got != want {
		t.Fatalf("error = %q, want %q", got, want)
	}
}

func TestRetryBackoffGrowsWithJitter(t *testing.T) {
	pol := RetryPolicy{BaseDelay: time.Second, MaxDelay: 8 * time.Second}
	for attempt, max := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 9: 8 * time.Second} {
		for range 50 {
			d := backoff(pol, attempt, errors.New("x"))
			if d < max/2 || d > max {
				t.Fatalf("attempt %d: delay %v outside [%v, %v]", attempt, d, max/2, max)
			}
		}
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p, calls := failing(&APIError{Status: 500}, &APIError{Status: 500})
	pol := RetryPolicy{Attempts: 5, Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	_, err := Retry(p, pol).Complete(ctx, &Request{})
	if err == nil || *calls != 1 {
		t.Fatalf("err = %v, calls = %d; want an error after 1 call", err, *calls)
	}
}

func TestRetryPerAttemptTimeout(t *testing.T) {
	calls := 0
	slow := ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		calls++
		if calls == 1 {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return &Response{Message: AssistantText("ok")}, nil
	})
	pol := RetryPolicy{Attempts: 2, Timeout: 50 * time.Millisecond, Sleep: func(context.Context, time.Duration) error { return nil }}
	resp, err := Retry(slow, pol).Complete(context.Background(), &Request{})
	if err != nil || resp.Text() != "ok" || calls != 2 {
		t.Fatalf("resp=%v err=%v calls=%d; want ok after a timed-out first attempt", resp, err, calls)
	}
}

func TestRetryStreamRestart(t *testing.T) {
	var deltas []Delta
	p, _ := failing(&APIError{Temporary: true})
	pol := RetryPolicy{Attempts: 2, Sleep: func(context.Context, time.Duration) error { return nil }}
	_, err := Retry(p, pol).Complete(context.Background(), &Request{Stream: func(d Delta) { deltas = append(deltas, d) }})
	if err != nil || len(deltas) != 1 || !deltas[0].Restart {
		t.Fatalf("err=%v deltas=%+v; want one Restart delta", err, deltas)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		header http.Header
		want   time.Duration
	}{
		{http.Header{"Retry-After": {"1"}}, time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{"Retry-After": {" 1.5 "}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After": {"0"}}, 0},
		{http.Header{"Retry-After": {"-3"}}, 0},
		{http.Header{"Retry-After": {"1e12"}}, MaxRetryAfter},
		{http.Header{"Retry-After": {now.Add(-time.Minute).Format(http.TimeFormat)}}, 0},
		{http.Header{}, 0},
	}
	for _, tt := range tests {
		if got := ParseRetryAfter(tt.header, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%v) = %v, want %v", tt.header, got, tt.want)
		}
	}
}
