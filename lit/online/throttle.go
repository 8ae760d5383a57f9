package online

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Throttle spaces requests to one service at least an interval apart,
// start to start, for services that ask for it (arXiv: one request every
// three seconds). Callers take turns in the order they ask. The zero value
// is ready; a Throttle must not be copied after first use. It is safe for
// concurrent use.
type Throttle struct {
	mu   sync.Mutex
	next time.Time // the earliest start of the next request
}

// Wait blocks until a request may start, at least interval after the start
// of the one before. If ctx would end before the turn comes, Wait returns at
// once with an error and gives the turn up.
func (t *Throttle) Wait(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		return ctx.Err()
	}
	t.mu.Lock()
	now := time.Now()
	slot := now
	if t.next.After(now) {
		slot = t.next
	}
	if dl, ok := ctx.Deadline(); ok && slot.After(dl) {
		t.mu.Unlock()
		return fmt.Errorf("the next request slot is %v away, past the deadline: %w",
			slot.Sub(now).Round(time.Millisecond), context.DeadlineExceeded)
	}
	t.next = slot.Add(interval)
	t.mu.Unlock()
	return sleep(ctx, slot.Sub(now))
}

// sleep waits d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
