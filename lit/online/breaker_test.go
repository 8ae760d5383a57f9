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

func TestQuiet(t *testing.T) {
	down := &Error{Service: "s", Err: context.DeadlineExceeded, Temporary: true}
	tests := []struct {
		name        string
		src         lit.Source
		wantErr     bool
		wantNotices int
	}{
		{"all unreachable: no error, one notice", Merge(Breaker(&countingSource{err: down}), Breaker(&countingSource{err: down})), false, 1},
		{"an error status passes through", Merge(&countingSource{err: &Error{Service: "s", Status: 500}}), true, 0},
		{"success", &countingSource{}, false, 0},
	}
	for _, tt := range tests {
		notices := 0
		q := Quiet(tt.src, func(error) { notices++ })
		for range 4 {
			_, err := q.Search(context.Background(), "q", 5)
			if (err != nil) != tt.wantErr {
				t.Errorf("%s: err = %v, want error %v", tt.name, err, tt.wantErr)
			}
		}
		if notices != tt.wantNotices {
			t.Errorf("%s: %d notices, want %d", tt.name, notices, tt.wantNotices)
		}
	}
}
