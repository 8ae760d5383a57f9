package llm

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy says how often and how patiently to retry a failed call.
type RetryPolicy struct {
	// Attempts is the total number of tries, at least 1.
	Attempts int
	// BaseDelay is the first backoff; each later one doubles, up to MaxDelay,
	// and the delay actually slept is drawn uniformly from [d/2, d].
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// Timeout bounds each attempt; 0 means no per-attempt limit.
	Timeout time.Duration
	// Sleep waits d or until ctx is done; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnRetry, if set, hears of each retry before its wait.
	OnRetry func(attempt int, delay time.Duration, err error)
}

// DefaultRetryPolicy is used when a config says nothing.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 5, BaseDelay: time.Second, MaxDelay: time.Minute, Timeout: 5 * time.Minute}
}

// maxRetryAfter caps how long a server may ask us to wait.
const maxRetryAfter = 5 * time.Minute

// Retry wraps p so that retryable failures (429, 5xx, timeouts, dropped
// connections) are tried again with exponential backoff and jitter,
// honouring the server's Retry-After. After the last try the error returned
// is the last one, with its attempt count.
func Retry(p Provider, pol RetryPolicy) Provider {
	if pol.Attempts < 1 {
		pol.Attempts = 1
	}
	if pol.BaseDelay <= 0 {
		pol.BaseDelay = time.Second
	}
	if pol.MaxDelay < pol.BaseDelay {
		pol.MaxDelay = pol.BaseDelay
	}
	if pol.Sleep == nil {
		pol.Sleep = sleep
	}
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		var lastErr error
		attempt := 1
		for ; ; attempt++ {
			if attempt > 1 && req.Stream != nil {
				req.Stream(Delta{Restart: true})
			}
			resp, err := tryOnce(ctx, p, req, pol.Timeout)
			if err == nil {
				return resp, nil
			}
			lastErr = err
			if ctx.Err() != nil || !IsRetryable(err) || attempt >= pol.Attempts {
				break
			}
			delay := backoff(pol, attempt, err)
			if pol.OnRetry != nil {
				pol.OnRetry(attempt, delay, err)
			}
			if err := pol.Sleep(ctx, delay); err != nil {
				break
			}
		}
		var apiErr *APIError
		if errors.As(lastErr, &apiErr) {
			apiErr.Attempts = attempt
		}
		return nil, lastErr
	})
}

func tryOnce(ctx context.Context, p Provider, req *Request, timeout time.Duration) (*Response, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return p.Complete(ctx, req)
}

func backoff(pol RetryPolicy, attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, maxRetryAfter)
	}
	d := pol.BaseDelay << (attempt - 1)
	if d > pol.MaxDelay || d <= 0 {
		d = pol.MaxDelay
	}
	half := d / 2
	return half + rand.N(d-half+1)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
