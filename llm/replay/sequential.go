package replay

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/mlrc/mlrc/llm"
)

// Sequential answers with recorded calls in the order they were made,
// whatever the request. Re-executing an agent run needs this: its requests
// carry observations (durations, a run's output) that differ slightly from
// the recording, so hashes would not match, but the agent asks the same
// questions in the same order. Drift counts requests whose hash differs.
type Sequential struct {
	mu    sync.Mutex
	calls []llm.Call
	next  int
	drift int
}

// NewSequential returns a model answering with calls in order.
func NewSequential(calls []llm.Call) *Sequential {
	return &Sequential{calls: calls}
}

// Drift says how many answered requests differed from their recording.
func (s *Sequential) Drift() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.drift
}

// Remaining says how many recorded calls are left.
func (s *Sequential) Remaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls) - s.next
}

// Complete answers req with the next recorded response.
func (s *Sequential) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.next >= len(s.calls) {
		n := len(s.calls)
		s.mu.Unlock()
		return nil, fmt.Errorf("%w: all %d recorded calls are used", ErrDiverged, n)
	}
	c := s.calls[s.next]
	s.next++
	if c.RequestHash != llm.RequestHash(req) {
		s.drift++
	}
	s.mu.Unlock()
	if c.Response == nil {
		return nil, fmt.Errorf("replay: recorded call %d failed: %s", c.Seq, c.Error)
	}
	var resp llm.Response
	if err := json.Unmarshal(c.Response, &resp); err != nil {
		return nil, fmt.Errorf("replay: recorded call %d: decode response: %w", c.Seq, err)
	}
	if req.Stream != nil && resp.Text() != "" {
		req.Stream(llm.Delta{Text: resp.Text()})
	}
	return &resp, nil
}
