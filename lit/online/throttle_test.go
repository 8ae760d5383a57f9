package online

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestThrottleSpacesWaits(t *testing.T) {
	var th Throttle
	interval := 50 * time.Millisecond
	start := time.Now()
	for range 3 {
		if err := th.Wait(context.Background(), interval); err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 2*interval {
		t.Errorf("three waits took %v, want at least %v", elapsed, 2*interval)
	}
	start = time.Now()
	if err := th.Wait(context.Background(), 0); err != nil || time.Since(start) > 10*time.Millisecond {
		t.Errorf("a zero interval waited %v, %v; want no wait", time.Since(start), err)
	}
}

// A caller whose deadline comes before its turn fails at once and gives the
// turn up.
func TestThrottleDeadline(t *testing.T) {
	var th Throttle
	interval := 200 * time.Millisecond
	start := time.Now()
	if err := th.Wait(context.Background(), interval); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := th.Wait(ctx, interval)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want a deadline error", err)
	}
	if elapsed := time.Since(start); elapsed > 50*time.Millisecond {
		t.Errorf("the refused Wait took %v, want none", elapsed)
	}
	if err := th.Wait(context.Background(), interval); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < interval || elapsed > 2*interval-20*time.Millisecond {
		t.Errorf("next Wait returned after %v, want one interval (%v): the refused turn is free", elapsed, interval)
	}
}
