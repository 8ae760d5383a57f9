package online

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlrc/mlrc/llm"
)

// Service is one literature service as its client sees it: how to reach it,
// how patiently, and where to keep its answers. A client builds one from its
// own fields for each search; the Throttle it points to must outlive it.
type Service struct {
	// Name names the service in errors, logs and cache keys.
	Name       string
	HTTPClient *http.Client // nil: http.DefaultClient
	Header     http.Header  // sent with every request
	Policy     Policy
	// Throttle spaces requests MinInterval apart; nil or a zero interval
	// means no spacing.
	Throttle    *Throttle
	MinInterval time.Duration
	Cache       Cache         // nil: no caching
	CacheTTL    time.Duration // default DefaultCacheTTL
	Logger      *slog.Logger  // nil: no logs
	// ErrorMessage extracts the service's message from the body of an
	// error answer; when it is nil or finds none, the body's first line is
	// used.
	ErrorMessage func(body []byte) string
	// Hint says what to do about a failed status; nil or "" for nothing.
	Hint func(status int) string
}

// maxBody caps the size of an answer.
const maxBody = 16 << 20

var (
	errDeadline       = errors.New("search deadline")
	errAttemptTimeout = errors.New("attempt timeout")
)

// Get fetches rawURL and returns the body of a 2xx answer. It makes up to
// Policy.Attempts requests, each within Policy.Timeout, all within
// Policy.Deadline, and retries 429, 408, 5xx, timeouts and transport
// failures after a backoff. Every failure is an *Error naming the service;
// the URL never appears in it, since it may carry an API key.
func (s *Service) Get(ctx context.Context, rawURL string) ([]byte, error) {
	p := s.Policy.withDefaults()
	ctx, cancel := context.WithTimeoutCause(ctx, p.Deadline, errDeadline)
	defer cancel()
	var waited time.Duration
	var last *Error // the previous attempt's failure
	for attempt := 1; ; attempt++ {
		if s.Throttle != nil {
			if err := s.Throttle.Wait(ctx, s.MinInterval); err != nil {
				if e := s.stopped(ctx, p, err); e != nil {
					e.Attempts = attempt - 1
					return nil, e
				}
				if last != nil { // the slot for a retry comes too late
					last.note("not retried: " + err.Error())
					return nil, last
				}
				return nil, &Error{Service: s.Name, Message: "rate limit: " + err.Error(), Err: err}
			}
		}
		body, e := s.try(ctx, p, rawURL)
		if e == nil {
			return body, nil
		}
		e.Attempts = attempt
		last = e
		if !e.Temporary || attempt >= p.Attempts || ctx.Err() != nil {
			return nil, e
		}
		wait := backoff(p, attempt, e.RetryAfter)
		if waited+wait > p.MaxWait {
			e.note(fmt.Sprintf("not retried: waiting %v more would pass the %v wait budget", round(wait), p.MaxWait))
			return nil, e
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			e.note(fmt.Sprintf("not retried: waiting %v would pass the search deadline", round(wait)))
			return nil, e
		}
		s.logger().Info("literature service: retrying", "attempt", attempt, "wait", wait, "err", e)
		if err := sleep(ctx, wait); err != nil {
			if st := s.stopped(ctx, p, err); st != nil {
				st.Attempts = attempt
				return nil, st
			}
			return nil, e
		}
		waited += wait
	}
}

// try makes one request.
func (s *Service) try(ctx context.Context, p Policy, rawURL string) ([]byte, *Error) {
	actx, cancel := context.WithTimeoutCause(ctx, p.Timeout, errAttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, &Error{Service: s.Name, Message: "malformed request URL", Err: errors.New("malformed request URL")}
	}
	for k, vs := range s.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	client := s.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, s.transportError(ctx, actx, p, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, s.transportError(ctx, actx, p, err)
	}
	if len(body) > maxBody {
		return nil, &Error{Service: s.Name, Status: resp.StatusCode, Message: fmt.Sprintf("answer larger than %d MiB", maxBody>>20)}
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{
			Service:    s.Name,
			Status:     resp.StatusCode,
			Message:    s.message(body),
			RetryAfter: llm.ParseRetryAfter(resp.Header, time.Now()),
			Temporary:  retryable(resp.StatusCode),
		}
		if s.Hint != nil {
			e.Hint = s.Hint(resp.StatusCode)
		}
		return nil, e
	}
	return body, nil
}

// transportError describes a request that got no complete answer.
func (s *Service) transportError(ctx, actx context.Context, p Policy, err error) *Error {
	if e := s.stopped(ctx, p, err); e != nil {
		return e
	}
	if context.Cause(actx) == errAttemptTimeout {
		return &Error{Service: s.Name, Message: fmt.Sprintf("no answer within %v", p.Timeout),
			Temporary: true, Err: context.DeadlineExceeded}
	}
	// A *url.Error quotes the URL, which may carry an API key.
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return &Error{Service: s.Name, Message: err.Error(), Temporary: true, Err: err}
}

// stopped describes the end of ctx, the search's: its deadline passed or
// the caller cancelled. It returns nil while ctx is live.
func (s *Service) stopped(ctx context.Context, p Policy, err error) *Error {
	switch cause := context.Cause(ctx); {
	case cause == nil:
		return nil
	case cause == errDeadline:
		return &Error{Service: s.Name, Message: fmt.Sprintf("no answer within the search deadline of %v", p.Deadline),
			Err: context.DeadlineExceeded}
	default:
		return &Error{Service: s.Name, Message: "search stopped: " + cause.Error(), Err: cause}
	}
}

// message is the service's message in an error body.
func (s *Service) message(body []byte) string {
	if s.ErrorMessage != nil {
		if m := s.ErrorMessage(body); m != "" {
			return m
		}
	}
	text := strings.TrimSpace(string(body))
	if strings.HasPrefix(text, "<") { // an HTML error page says no more than the status
		return ""
	}
	text, _, _ = strings.Cut(text, "\n")
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}

func (s *Service) logger() *slog.Logger {
	l := s.Logger
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return l.With("subsystem", "lit", "service", s.Name)
}

// backoff is the wait before the attempt after attempt: the larger of the
// server's Retry-After and an exponential backoff with jitter.
func backoff(p Policy, attempt int, retryAfter time.Duration) time.Duration {
	d := p.BaseDelay << (attempt - 1)
	if d <= 0 || d > p.MaxWait {
		d = p.MaxWait
	}
	half := d / 2
	d = half + rand.N(d-half+1)
	return max(d, retryAfter)
}

func round(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
