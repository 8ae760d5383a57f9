package llm

import (
	"context"
	"sync"
)

// Budget limits what a run may spend. A zero field means no limit.
type Budget struct {
	Tokens  int64   `yaml:"tokens" json:"tokens,omitempty"`
	Dollars float64 `yaml:"dollars" json:"dollars,omitempty"`
}

// Meter counts tokens and dollars across every call of a run and enforces
// its budget: once a limit is reached, further calls are refused with a
// *BudgetError naming it, so the run can stop cleanly.
type Meter struct {
	prices Prices
	budget Budget

	mu    sync.Mutex
	usage Usage
	cost  Cost
	calls int
}

// NewMeter returns a meter pricing calls from prices and enforcing budget.
func NewMeter(prices Prices, budget Budget) *Meter {
	return &Meter{prices: prices, budget: budget}
}

// Totals returns what has been spent so far and over how many calls.
func (m *Meter) Totals() (Usage, Cost, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage, m.cost, m.calls
}

// Restore starts the meter from totals already spent, when a run resumes.
func (m *Meter) Restore(u Usage, c Cost, calls int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.usage, m.cost, m.calls = u, c, calls
}

// Check returns a *BudgetError if a limit has been reached.
func (m *Meter) Check() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkLocked()
}

func (m *Meter) checkLocked() error {
	if t := m.budget.Tokens; t > 0 && m.usage.Total() >= t {
		return &BudgetError{Which: "tokens", Limit: float64(t), Spent: float64(m.usage.Total())}
	}
	if d := m.budget.Dollars; d > 0 && m.cost.USD >= d {
		return &BudgetError{Which: "dollars", Limit: d, Spent: m.cost.USD}
	}
	return nil
}

// Wrap returns p metered: each response gets its Cost filled in, and calls
// are refused once the budget is spent.
func (m *Meter) Wrap(p Provider, provider string) Provider {
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		if err := m.Check(); err != nil {
			return nil, err
		}
		resp, err := p.Complete(ctx, req)
		if err != nil {
			return nil, err
		}
		resp.Cost = m.prices.Cost(provider, req.Model, resp.Usage)
		m.mu.Lock()
		m.usage = m.usage.Add(resp.Usage)
		m.cost = m.cost.Add(resp.Cost)
		m.calls++
		m.mu.Unlock()
		return resp, nil
	})
}
