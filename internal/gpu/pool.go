package gpu

import (
	"context"
	"fmt"
	"sync"
)

// Pool hands GPUs out to concurrent runs: each Acquire takes n free
// devices, waiting while fewer are free, and gives them back with the
// release it returns. One lock, one condition: nothing else.
type Pool struct {
	mu    sync.Mutex
	free  []string // indexes, in order
	total int
	wake  chan struct{}
}

// NewPool is a pool of the devices with these indexes.
func NewPool(indexes []string) *Pool {
	return &Pool{free: append([]string(nil), indexes...), total: len(indexes), wake: make(chan struct{})}
}

// Size is how many GPUs the pool has.
func (p *Pool) Size() int { return p.total }

// Acquire takes n GPUs, waiting until they are free or ctx ends.
func (p *Pool) Acquire(ctx context.Context, n int) ([]string, func(), error) {
	if n > p.total {
		return nil, nil, fmt.Errorf("gpu: a run asks for %d GPUs, the machine has %d", n, p.total)
	}
	for {
		p.mu.Lock()
		if len(p.free) >= n {
			got := append([]string(nil), p.free[:n]...)
			p.free = p.free[n:]
			p.mu.Unlock()
			var once sync.Once
			return got, func() { once.Do(func() { p.release(got) }) }, nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
}

func (p *Pool) release(got []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free = append(p.free, got...)
	close(p.wake)
	p.wake = make(chan struct{})
}
