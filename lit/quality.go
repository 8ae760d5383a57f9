package lit

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// arxivLabels are the labelled queries over the shared arXiv corpus (see
// labels/README.md for how they were made).
//
//go:embed labels/arxiv-ml.json
var arxivLabels []byte

// LabelledQuery is a query with the works judged relevant to it. Gap is
// the same need written as a sentence, the way the idea phase used to
// search (a research gap); Pattern, Dropped and Added record how the
// labels were made.
type LabelledQuery struct {
	Query    string   `json:"query"`
	Gap      string   `json:"gap,omitempty"`
	Pattern  string   `json:"title_pattern,omitempty"`
	Dropped  []string `json:"dropped,omitempty"`
	Added    []string `json:"added,omitempty"`
	Relevant []string `json:"relevant"`
}

// Labels are labelled queries over one corpus.
type Labels struct {
	Corpus  string          `json:"corpus"`
	Queries []LabelledQuery `json:"queries"`
}

// ArxivLabels returns the built-in labels over the shared arXiv corpus.
func ArxivLabels() *Labels {
	l, err := parseLabels(arxivLabels)
	if err != nil {
		panic(fmt.Sprintf("lit: built-in labels: %v", err)) // embedded at build time: a bug
	}
	return l
}

// ReadLabels reads labelled queries from a JSON file of the built-in
// labels' shape: {"queries": [{"query", "relevant": [ids]}]}.
func ReadLabels(path string) (*Labels, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	l, err := parseLabels(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}

func parseLabels(b []byte) (*Labels, error) {
	var l Labels
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("not a labels file: %w", err)
	}
	if len(l.Queries) == 0 {
		return nil, errors.New(`no queries: want {"queries": [{"query": "...", "relevant": ["id", ...]}]}`)
	}
	for i, q := range l.Queries {
		if strings.TrimSpace(q.Query) == "" || len(q.Relevant) == 0 {
			return nil, fmt.Errorf("query %d: want a query and at least one relevant id", i+1)
		}
	}
	return &l, nil
}

// Searcher is one way of searching: the index's BM25, the hybrid search,
// or a query builder in front of either.
type Searcher func(ctx context.Context, query string, k int) ([]Hit, error)

// QueryScore is how well one labelled query was answered.
type QueryScore struct {
	Query string
	// Relevant is the number of relevant works the index holds.
	Relevant int
	// Found is the number of relevant works among the top K.
	Found int
	// Precision is Found/K; RR the reciprocal rank of the first relevant
	// hit in the top K (0 when none).
	Precision, RR float64
}

// Quality is the retrieval quality of one Searcher over labelled queries:
// precision at K and mean reciprocal rank, per query and on average.
// Queries none of whose relevant works are indexed are left out and
// counted in Skipped.
type Quality struct {
	K       int
	Queries []QueryScore
	Skipped int
	// MeanPrecision is the mean precision at K, MRR the mean reciprocal
	// rank, over the scored queries.
	MeanPrecision, MRR float64
}

// Evaluate searches every labelled query with search (the query text from
// text, so a caller can search the gap sentences instead) and scores the
// top k against the labels, counting only relevant works that ix holds.
func Evaluate(ctx context.Context, ix *Index, labels *Labels, k int, text func(LabelledQuery) string, search Searcher) (Quality, error) {
	if k <= 0 {
		k = DefaultK
	}
	q := Quality{K: k}
	for _, lq := range labels.Queries {
		held, err := ix.holds(ctx, lq.Relevant)
		if err != nil {
			return q, err
		}
		if len(held) == 0 {
			q.Skipped++
			continue
		}
		hits, err := search(ctx, text(lq), k)
		if err != nil {
			return q, fmt.Errorf("search %q: %w", text(lq), err)
		}
		s := QueryScore{Query: lq.Query, Relevant: len(held)}
		for i, h := range hits[:min(k, len(hits))] {
			if held[h.Work.ID] {
				s.Found++
				if s.RR == 0 {
					s.RR = 1 / float64(i+1)
				}
			}
		}
		s.Precision = float64(s.Found) / float64(k)
		q.Queries = append(q.Queries, s)
		q.MeanPrecision += s.Precision
		q.MRR += s.RR
	}
	if n := len(q.Queries); n > 0 {
		q.MeanPrecision /= float64(n)
		q.MRR /= float64(n)
	}
	return q, nil
}

// QueryText is a labelled query's short phrase.
func QueryText(q LabelledQuery) string { return q.Query }

// GapText is a labelled query written as a research gap, cut to its first
// eight content words: how the idea phase built its queries before it
// searched with short phrases.
func GapText(q LabelledQuery) string {
	terms := queryTerms(q.Gap)
	return strings.Join(terms[:min(8, len(terms))], " ")
}

// holds returns which of ids are in the index.
func (ix *Index) holds(ctx context.Context, ids []string) (map[string]bool, error) {
	held := map[string]bool{}
	for _, id := range ids {
		var n int
		if err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM works WHERE id = ?", id).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			held[id] = true
		}
	}
	return held, nil
}

// Vectors returns how many works have vectors from model.
func (ix *Index) Vectors(ctx context.Context, model string) (int, error) {
	var n int
	err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM embeddings WHERE model = ?", model).Scan(&n)
	return n, err
}
