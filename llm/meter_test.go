package llm

import (
	"context"
	"errors"
	"math"
	"testing"
)

func fixed(u Usage) Provider {
	return ProviderFunc(func(ctx context.Context, req *Request) (*Response, error) {
		return &Response{Message: AssistantText("ok"), Usage: u}, nil
	})
}

func TestPrices(t *testing.T) {
	p := DefaultPrices()
	tests := []struct {
		provider, model string
		known           bool
		usd             float64 // for 1M input + 1M output tokens
	}{
		{"openai", "gpt-4o-mini", true, 0.75},
		{"anthropic", "claude-sonnet-4-5", true, 18},
		{"ollama", "qwen2.5-coder:7b", true, 0},
		{"scripted", "testdata/a/b.yaml", true, 0},
		{"openrouter", "deepseek/deepseek-chat", true, 1.15},
		{"openai", "no-such-model", false, 0},
	}
	for _, tt := range tests {
		c := p.Cost(tt.provider, tt.model, Usage{InputTokens: 1e6, OutputTokens: 1e6})
		if got := c.Unknown == 0; got != tt.known {
			t.Errorf("%s/%s known = %v, want %v", tt.provider, tt.model, got, tt.known)
		}
		if math.Abs(c.USD-tt.usd) > 1e-9 {
			t.Errorf("%s/%s cost = %v, want %v", tt.provider, tt.model, c.USD, tt.usd)
		}
	}
	over := p.With(Prices{"openai/no-such-model": {Input: 1, Output: 2}})
	if c := over.Cost("openai", "no-such-model", Usage{InputTokens: 1e6, OutputTokens: 1e6}); c.USD != 3 || c.Unknown != 0 {
		t.Errorf("override cost = %+v, want $3 known", c)
	}
	if _, ok := p.Lookup("openai", "no-such-model"); ok {
		t.Error("With modified the original table")
	}
}

func TestMeterBudgets(t *testing.T) {
	prices := Prices{"x/m": {Input: 1e6, Output: 0}} // $1 per input token
	tests := []struct {
		name      string
		budget    Budget
		usage     Usage
		wantCalls int
		which     string
	}{
		{"tokens", Budget{Tokens: 25}, Usage{InputTokens: 10}, 3, "tokens"},
		{"dollars", Budget{Dollars: 15}, Usage{InputTokens: 10}, 2, "dollars"},
		{"unlimited", Budget{}, Usage{InputTokens: 10}, 5, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMeter(prices, tt.budget)
			p := m.Wrap(fixed(tt.usage), "x")
			calls := 0
			var err error
			for range 5 {
				if _, err = p.Complete(context.Background(), &Request{Model: "m"}); err != nil {
					break
				}
				calls++
			}
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			var be *BudgetError
			if tt.which == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if !errors.As(err, &be) || be.Which != tt.which {
				t.Fatalf("err = %v, want a %s BudgetError", err, tt.which)
			}
		})
	}
}

func TestMeterUnknownPrice(t *testing.T) {
	m := NewMeter(Prices{}, Budget{Dollars: 1})
	resp, err := m.Wrap(fixed(Usage{InputTokens: 5, OutputTokens: 5}), "openai").Complete(context.Background(), &Request{Model: "mystery"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Cost.Unknown != 1 || resp.Cost.USD != 0 {
		t.Errorf("cost = %+v, want unknown", resp.Cost)
	}
	u, c, n := m.Totals()
	if u.Total() != 10 || c.Unknown != 1 || n != 1 {
		t.Errorf("totals = %+v %+v %d", u, c, n)
	}
}
