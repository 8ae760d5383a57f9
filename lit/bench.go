package lit

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// BenchQueries are typical literature queries of ML research, used to
// measure search latency.
var BenchQueries = []string{
	"semantic textual relatedness",
	"graph neural networks for molecules",
	"diffusion models image generation",
	"large language model reasoning chain of thought",
	"retrieval augmented generation",
	"contrastive self-supervised representation learning",
	"reinforcement learning from human feedback",
	"vision transformer image classification",
	"federated learning privacy",
	"adversarial robustness certified defense",
	"low-rank adaptation fine-tuning",
	"mixture of experts sparse routing",
	"neural architecture search",
	"time series forecasting transformer",
	"speech recognition low-resource languages",
	"knowledge distillation model compression",
	"out-of-distribution detection",
	"bayesian optimization hyperparameters",
	"causal inference observational data",
	"multi-agent reinforcement learning cooperation",
	"hallucination detection in LLMs",
	"protein structure prediction",
	"3D scene reconstruction neural radiance fields",
	"text-to-speech synthesis",
	"continual learning catastrophic forgetting",
	"quantization of large language models",
	"explainable AI feature attribution",
	"autonomous driving trajectory prediction",
	"recommender systems sequential recommendation",
	"machine translation evaluation metrics",
	"mathematical reasoning benchmark",
	"robot manipulation imitation learning",
}

// BenchResult is the latency of a set of searches.
type BenchResult struct {
	Searches                 int
	Mean, P50, P90, P99, Max time.Duration
	// Hits is the mean number of hits per search.
	Hits float64
	// Err is the first search error; the figures then cover the searches
	// before it.
	Err error
}

func (r BenchResult) String() string {
	s := fmt.Sprintf("%d searches: p50 %s, p90 %s, p99 %s, mean %s, max %s, %.1f hits/search",
		r.Searches, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Mean), ms(r.Max), r.Hits)
	if r.Err != nil {
		s += fmt.Sprintf(" (stopped: %v)", r.Err)
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond)) }

// Bench runs every query runs times (after one untimed warm-up pass) as a
// search for the top 10, and reports the latency of each search.
func Bench(ctx context.Context, ix *Index, queries []string, runs int) BenchResult {
	var res BenchResult
	for _, q := range queries {
		if _, err := ix.Search(ctx, q, DefaultK); err != nil {
			res.Err = err
			return res
		}
	}
	var lat []time.Duration
	hits := 0
	for range max(runs, 1) {
		for _, q := range queries {
			start := time.Now()
			h, err := ix.Search(ctx, q, DefaultK)
			d := time.Since(start)
			if err != nil {
				res.Err = err
				break
			}
			lat = append(lat, d)
			hits += len(h)
		}
		if res.Err != nil {
			break
		}
	}
	if len(lat) == 0 {
		return res
	}
	slices.Sort(lat)
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	res.Searches = len(lat)
	res.Mean = sum / time.Duration(len(lat))
	res.P50, res.P90, res.P99, res.Max = pct(0.50), pct(0.90), pct(0.99), lat[len(lat)-1]
	res.Hits = float64(hits) / float64(len(lat))
	return res
}
