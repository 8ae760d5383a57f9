package llm

import (
	_ "embed"
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Price is what a model charges, in US dollars per million tokens.
type Price struct {
	Input      float64 `yaml:"input" json:"input"`
	Output     float64 `yaml:"output" json:"output"`
	CacheRead  float64 `yaml:"cache_read,omitempty" json:"cache_read,omitempty"`
	CacheWrite float64 `yaml:"cache_write,omitempty" json:"cache_write,omitempty"`
}

// Cost is the price of one call or of many.
type Cost struct {
	USD float64 `json:"usd"`
	// Unknown counts calls to models with no price in the table; their cost
	// is taken as 0 and reports must say so.
	Unknown int `json:"unknown,omitempty"`
}

// Add returns c plus d.
func (c Cost) Add(d Cost) Cost { return Cost{USD: c.USD + d.USD, Unknown: c.Unknown + d.Unknown} }

// String formats the cost, saying when part of it is unknown.
func (c Cost) String() string {
	s := fmt.Sprintf("$%.4f", c.USD)
	if c.Unknown > 0 {
		s += fmt.Sprintf(" (+ %d call(s) at unknown price)", c.Unknown)
	}
	return s
}

//go:embed prices.yaml
var defaultPrices []byte

// Prices maps "provider/model" patterns (path.Match globs, e.g. "ollama/*")
// to prices. Exact names win over patterns; longer patterns over shorter.
type Prices map[string]Price

// DefaultPrices returns the table shipped with mlrc (llm/prices.yaml).
func DefaultPrices() Prices {
	var p Prices
	if err := yaml.Unmarshal(defaultPrices, &p); err != nil {
		panic("llm: prices.yaml: " + err.Error())
	}
	return p
}

// With returns a copy of p with the entries of over added or replacing.
func (p Prices) With(over Prices) Prices {
	out := make(Prices, len(p)+len(over))
	for k, v := range p {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// Lookup finds the price of provider/model.
func (p Prices) Lookup(provider, model string) (Price, bool) {
	name := provider + "/" + model
	if pr, ok := p[name]; ok {
		return pr, true
	}
	var patterns []string
	for k := range p {
		if strings.ContainsAny(k, "*?[") {
			patterns = append(patterns, k)
		}
	}
	sort.Slice(patterns, func(i, j int) bool {
		if len(patterns[i]) != len(patterns[j]) {
			return len(patterns[i]) > len(patterns[j])
		}
		return patterns[i] < patterns[j]
	})
	for _, pat := range patterns {
		if matchPrice(pat, name) {
			return p[pat], true
		}
	}
	return Price{}, false
}

// Cost prices usage for provider/model.
func (p Prices) Cost(provider, model string, u Usage) Cost {
	pr, ok := p.Lookup(provider, model)
	if !ok {
		return Cost{Unknown: 1}
	}
	usd := float64(u.InputTokens)*pr.Input + float64(u.OutputTokens)*pr.Output +
		float64(u.CacheReadTokens)*orPrice(pr.CacheRead, pr.Input) +
		float64(u.CacheWriteTokens)*orPrice(pr.CacheWrite, pr.Input)
	return Cost{USD: usd / 1e6}
}

func orPrice(v, fallback float64) float64 {
	if v > 0 {
		return v
	}
	return fallback
}

// matchPrice matches name against a glob; a trailing "/*" covers every model
// of a provider, even names that themselves hold a slash.
func matchPrice(pattern, name string) bool {
	if ok, _ := path.Match(pattern, name); ok {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "/*"); ok && !strings.ContainsAny(prefix, "*?[") {
		return strings.HasPrefix(name, prefix+"/")
	}
	return false
}
