package online

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/mlrc/mlrc/lit"
)

// Breaker wraps a source so that once it has failed for want of a network
// (a timeout, a refused or unresolvable connection), later searches fail at
// once instead of waiting out their timeouts again: an offline run pays for
// the discovery a single time.
func Breaker(src lit.Source) lit.Source { return &breaker{src: src} }

type breaker struct {
	src lit.Source

	mu   sync.Mutex
	open error
}

// ErrOffline is returned by a Breaker that has seen its source unreachable.
var ErrOffline = errors.New("skipped: the service was unreachable earlier in this run")

func (b *breaker) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	b.mu.Lock()
	open := b.open
	b.mu.Unlock()
	if open != nil {
		return nil, fmt.Errorf("%w (%v)", ErrOffline, open)
	}
	hits, err := b.src.Search(ctx, query, k)
	if err != nil && unreachable(err) && ctx.Err() == nil {
		b.mu.Lock()
		b.open = err
		b.mu.Unlock()
	}
	return hits, err
}

// Unreachable reports whether err says that the service (or, for a merged
// search, every service) could not be reached at all: no network, a refused
// connection, a timeout, or a breaker that saw one of these earlier. An
// answer with an error status (429, 500) is not unreachable.
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrOffline) {
		return true
	}
	var se *SourcesError
	if errors.As(err, &se) {
		for _, x := range se.Errs {
			if !Unreachable(x) {
				return false
			}
		}
		return len(se.Errs) > 0
	}
	return unreachable(err)
}

// unreachable reports whether err says the service could not be reached at
// all, as opposed to answering with an error.
func unreachable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Status == 0
	}
	var se *SourcesError
	if errors.As(err, &se) {
		for _, x := range se.Errs {
			if !unreachable(x) {
				return false
			}
		}
		return len(se.Errs) > 0
	}
	return errors.Is(err, context.DeadlineExceeded)
}
