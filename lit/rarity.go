package lit

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// byRarity returns the terms that occur in the index, rarest first; terms
// in more than a fifth of the works count as equally common and keep their
// order in the query.
func (ix *Index) byRarity(ctx context.Context, terms []string) ([]string, error) {
	df := make(map[string]int, len(terms))
	var found []string
	for _, t := range terms {
		n, err := ix.stats.docFreq(ctx, ix, t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			df[t] = n
			found = append(found, t)
		}
	}
	slices.SortStableFunc(found, func(a, b string) int { return df[a] - df[b] })
	return found, nil
}

// termStats caches how many works contain a term, until the index
// changes. Counting a common term is the costly part of relaxing a query.
type termStats struct {
	mu    sync.Mutex
	total int // works in the index; 0: not counted yet
	df    map[string]int
}

func (s *termStats) invalidate() {
	s.mu.Lock()
	s.total, s.df = 0, nil
	s.mu.Unlock()
}

// docFreq returns the number of works that contain term, counted up to a
// fifth of the index (at least 1,000).
func (s *termStats) docFreq(ctx context.Context, ix *Index, term string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n, ok := s.df[term]; ok {
		return n, nil
	}
	if s.total == 0 {
		n, err := ix.Count(ctx)
		if err != nil {
			return 0, err
		}
		s.total = max(n, 1)
	}
	var n int
	// The subquery stops counting at the cap.
	err := ix.db.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM works_fts WHERE works_fts MATCH ? LIMIT ?)",
		matchExpr([]string{term}, "AND"), max(s.total/5, 1000)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("search %q: %w", term, err)
	}
	if s.df == nil {
		s.df = map[string]int{}
	}
	if len(s.df) > 10000 {
		clear(s.df)
	}
	s.df[term] = n
	return n, nil
}
