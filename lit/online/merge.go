package online

import (
	"context"
	"slices"
	"sync"

	"github.com/mlrc/mlrc/lit"
)

// Merge returns a Source that asks all sources at once for k hits each and
// merges their answers. A work found by several sources (the same arXiv id,
// DOI or normalized title) becomes one, keeping the fields of the best
// ranked copy and filling its gaps from the others. Hits are ranked by
// reciprocal-rank fusion, the sum over sources of 1/(60+rank), which is
// their Score. A failing source is left out; only if all fail is the search
// an error, a *SourcesError.
func Merge(sources ...lit.Source) lit.Source { return merge(sources) }

// rrfK damps the weight of the top ranks in reciprocal-rank fusion; 60 is
// the customary value.
const rrfK = 60

type merge []lit.Source

func (m merge) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	if len(m) == 0 {
		return nil, errNoSources
	}
	answers := make([][]lit.Hit, len(m))
	errs := make([]error, len(m))
	var wg sync.WaitGroup
	for i, src := range m {
		wg.Go(func() { answers[i], errs[i] = src.Search(ctx, query, k) })
	}
	wg.Wait()
	var failed []error
	for _, err := range errs {
		if err != nil {
			failed = append(failed, err)
		}
	}
	if len(failed) == len(m) {
		return nil, &SourcesError{Errs: failed}
	}
	return fuse(answers, k), nil
}

// fuse merges ranked answers into at most k hits.
func fuse(answers [][]lit.Hit, k int) []lit.Hit {
	var merged []*lit.Hit
	byKey := make(map[string]*lit.Hit)
	for _, hits := range answers {
		for i, h := range hits {
			rank := h.Rank
			if rank <= 0 {
				rank = i + 1
			}
			keys := identities(h.Work)
			var into *lit.Hit
			for _, key := range keys {
				if into = byKey[key]; into != nil {
					break
				}
			}
			if into == nil {
				into = &lit.Hit{Work: h.Work}
				merged = append(merged, into)
			} else {
				fillGaps(&into.Work, h.Work)
			}
			into.Score += 1 / float64(rrfK+rank)
			for _, key := range keys {
				if byKey[key] == nil {
					byKey[key] = into
				}
			}
		}
	}
	slices.SortStableFunc(merged, func(a, b *lit.Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if k > 0 && len(merged) > k {
		merged = merged[:k]
	}
	out := make([]lit.Hit, len(merged))
	for i, h := range merged {
		out[i] = *h
		out[i].Rank = i + 1
	}
	return out
}

// fillGaps copies into w the fields it lacks from other, a copy of the same
// work from another source.
func fillGaps(w *lit.Work, other lit.Work) {
	if w.Abstract == "" {
		w.Abstract = other.Abstract
	}
	if w.Year == 0 {
		w.Year = other.Year
	}
	if len(w.Authors) == 0 {
		w.Authors = other.Authors
	}
	if len(w.Categories) == 0 {
		w.Categories = other.Categories
	}
	if w.URL == "" {
		w.URL = other.URL
	}
}
