package online

import (
	"context"
	"errors"
	"testing"

	"github.com/mlrc/mlrc/lit"
)

type countingSource struct {
	calls int
	err   error
}

func (c *countingSource) Search(context.Context, string, int) ([]lit.Hit, error) {
	c.calls++
	return nil, c.err
}

func TestBreaker(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"unreachable opens", &Error{Service: "s", Err: context.DeadlineExceeded, Temporary: true}, 1},
		{"an answer with a status stays closed", &Error{Service: "s", Status: 429}, 3},
		{"success stays closed", nil, 3},
	}
	for _, tt := range tests {
		src := &countingSource{err: tt.err}
		b := Breaker(src)
		var last error
		for range 3 {
			_, last = b.Search(context.Background(), "q", 5)
		}
		if src.calls != tt.wantCalls {
			t.Errorf("%s: %d calls, want %d", tt.name, src.calls, tt.wantCalls)
		}
		if tt.wantCalls == 1 && !errors.Is(last, ErrOffline) {
			t.Errorf("%s: last error %v, want ErrOffline", tt.name, last)
		}
	}
}
