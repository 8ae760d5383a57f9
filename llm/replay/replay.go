// Package replay is a model that answers from a recorded run: each request is
// matched by its hash to a recorded call, so a run can be re-executed with no
// model at all and the same answers in the same order.
package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/mlrc/mlrc/llm"
)

// Model answers from recorded calls.
type Model struct {
	mu     sync.Mutex
	byHash map[string][]llm.Call
	total  int
	served int
}

// New returns a model answering from calls, taken in order per request hash.
func New(calls []llm.Call) *Model {
	m := &Model{byHash: make(map[string][]llm.Call), total: len(calls)}
	for _, c := range calls {
		m.byHash[c.RequestHash] = append(m.byHash[c.RequestHash], c)
	}
	return m
}

// Unused says how many recorded calls have not been replayed.
func (m *Model) Unused() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total - m.served
}

// ErrDiverged means a request has no recorded answer: the re-execution asked
// something the recorded run never asked.
var ErrDiverged = errors.New("replay: no recorded answer for this request")

// Complete answers req with the next recorded response for its hash.
func (m *Model) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	_, resp, err := m.answer(ctx, req)
	return resp, err
}

// answer is Complete that also returns the recorded call it answered with.
func (m *Model) answer(ctx context.Context, req *llm.Request) (llm.Call, *llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return llm.Call{}, nil, err
	}
	h := llm.RequestHash(req)
	m.mu.Lock()
	queue := m.byHash[h]
	if len(queue) == 0 {
		served := m.served
		m.mu.Unlock()
		return llm.Call{}, nil, fmt.Errorf("%w (request %.12s, after %d replayed calls): the run diverged from its recording", ErrDiverged, h, served)
	}
	c := queue[0]
	m.byHash[h] = queue[1:]
	m.served++
	m.mu.Unlock()

	if c.Response == nil {
		return c, nil, fmt.Errorf("replay: recorded call %d failed: %s", c.Seq, c.Error)
	}
	var resp llm.Response
	if err := json.Unmarshal(c.Response, &resp); err != nil {
		return c, nil, fmt.Errorf("replay: recorded call %d: decode response: %w", c.Seq, err)
	}
	if req.Stream != nil {
		if t := resp.Text(); t != "" {
			req.Stream(llm.Delta{Text: t})
		}
		for i, tc := range resp.ToolCalls() {
			req.Stream(llm.Delta{ToolIndex: i, ToolID: tc.ID, ToolName: tc.Name})
			req.Stream(llm.Delta{ToolIndex: i, ToolArgs: string(tc.Arguments)})
		}
	}
	return c, &resp, nil
}
