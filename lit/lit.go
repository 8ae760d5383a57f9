// Package lit is mlrc's literature: works (papers) with their provenance, a
// local index searched with BM25 (SQLite FTS5) and optionally embeddings,
// and the Source interface that online services (Semantic Scholar,
// OpenAlex, arXiv) implement.
//
// The local Index is one SQLite file: the works, an FTS5 index over their
// titles and abstracts (porter stemming), and vectors per embedding model.
// AddJSONL and AddFile fill it (the shared arXiv corpus of 75,337 works in
// about ten seconds); Search ranks by BM25 from free text that can never be
// FTS5 syntax; SearchHybrid fuses BM25 with cosine similarity. Bench and
// BenchQueries measure search latency.
package lit

import "context"

// Work is one paper, wherever it came from. ID and Source together say
// where: an arXiv id from the local index, a Semantic Scholar paper id, an
// OpenAlex work id. They travel with the work into every idea that uses it.
type Work struct {
	ID         string   `json:"id"`
	Source     string   `json:"source"` // "index", "semanticscholar", "openalex", "arxiv"
	Title      string   `json:"title"`
	Abstract   string   `json:"abstract,omitempty"`
	Year       int      `json:"year,omitempty"`
	Authors    []string `json:"authors,omitempty"`
	Categories []string `json:"categories,omitempty"`
	URL        string   `json:"url,omitempty"`
}

// Hit is a work found by a search, with its score (higher is better; scores
// are comparable only within one search) and its rank (1-based).
type Hit struct {
	Work  Work    `json:"work"`
	Score float64 `json:"score"`
	Rank  int     `json:"rank"`
}

// Source finds works for a query. The local index and every online service
// implement it.
type Source interface {
	Search(ctx context.Context, query string, k int) ([]Hit, error)
}
