package lit

import (
	"context"
	"fmt"
)

// DefaultK is the number of hits a search returns when k is not positive.
const DefaultK = 10

// Search finds the k works that best match a free-text query by BM25 over
// titles and abstracts, title terms weighing twice as much.
//
// Works that contain every term come first. When there are fewer than k of
// them, the query is relaxed step by step: with the terms ordered from
// rarest to most common (terms found nowhere dropped), the works that
// contain the j rarest terms and some other term come next, for j falling
// to 1, then those with the rarest term alone; then the rarest term is
// dropped and the rest searched the same way. Within a step, works are
// ranked by BM25 over all the terms. So the rarest, most telling words
// count most, and no step ranks the many works that share only a common
// word, which would be slow. Score is the negated BM25, so higher is
// better; it falls with rank within each step. It implements Source.
func (ix *Index) Search(ctx context.Context, query string, k int) ([]Hit, error) {
	if k <= 0 {
		k = DefaultK
	}
	terms := queryTerms(query)
	if len(terms) == 0 {
		return nil, nil
	}
	var hits []Hit
	seen := map[string]bool{}
	collect := func(expr string) error {
		more, err := ix.match(ctx, expr, k-len(hits), seen)
		for _, h := range more {
			seen[h.Work.ID] = true
			h.Rank = len(hits) + 1
			hits = append(hits, h)
		}
		return err
	}
	if err := collect(matchExpr(terms, "AND")); err != nil || len(hits) == k || len(terms) == 1 {
		return hits, err
	}
	found, err := ix.byRarity(ctx, terms)
	if err != nil {
		return nil, err
	}
	for _, expr := range relaxed(found, len(found) < len(terms)) {
		if err := collect(expr); err != nil || len(hits) == k {
			return hits, err
		}
	}
	return hits, nil
}

// relaxed returns the MATCH expressions that relax a query whose terms,
// ordered rarest first, all occur in the index; all says whether the
// expression of every term is still to be tried.
func relaxed(terms []string, all bool) []string {
	var exprs []string
	for ; len(terms) > 0; terms, all = terms[1:], true {
		if all && len(terms) > 1 {
			exprs = append(exprs, matchExpr(terms, "AND"))
		}
		for j := len(terms) - 2; j >= 1; j-- {
			exprs = append(exprs, matchExpr(terms[:j], "AND")+" AND ("+matchExpr(terms[j:], "OR")+")")
		}
		exprs = append(exprs, matchExpr(terms[:1], "AND"))
	}
	return exprs
}

// bm25Query ranks with bm25(2.0, 1.0): title, then abstract. The inner
// query touches only the full-text index; the works' text is read for the
// k best alone.
const bm25Query = `SELECT ` + workColumns + `, f.rank
FROM (SELECT rowid, rank FROM works_fts
      WHERE works_fts MATCH ? AND rank MATCH 'bm25(2.0, 1.0)'
      ORDER BY rank LIMIT ?) AS f
JOIN works AS w ON w.doc = f.rowid
ORDER BY f.rank`

// match runs one MATCH expression and returns up to k hits not in skip.
func (ix *Index) match(ctx context.Context, expr string, k int, skip map[string]bool) ([]Hit, error) {
	rows, err := ix.db.QueryContext(ctx, bm25Query, expr, k+len(skip))
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", expr, err)
	}
	defer rows.Close()
	var hits []Hit
	for rows.Next() {
		var bm25 float64
		w, err := scanWork(rows, &bm25)
		if err != nil {
			return nil, err
		}
		if skip[w.ID] || len(hits) == k {
			continue
		}
		hits = append(hits, Hit{Work: w, Score: -bm25, Rank: len(hits) + 1})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", expr, err)
	}
	return hits, nil
}
