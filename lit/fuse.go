package lit

import "slices"

// Fuse merges ranked lists of hits (one list per query and source) into
// one list of at most n works, each once. Every list's first keep hits are
// guaranteed a place before anything else (round by round: every list's
// first hit, then every list's second, ...), so one query's good hits are
// never crowded out by works that many off-topic queries share; within a
// round and after the guaranteed rounds, works are ordered by reciprocal
// rank fusion over all the lists. A work is known by its source and id.
func Fuse(lists [][]Hit, keep, n int) []Hit {
	type acc struct {
		hit   Hit
		score float64
		first int // the first round that reached it
	}
	key := func(h Hit) string { return h.Work.Source + ":" + h.Work.ID }
	byKey := map[string]*acc{}
	var order []*acc
	for _, l := range lists {
		for i, h := range l {
			a, ok := byKey[key(h)]
			if !ok {
				a = &acc{hit: h, first: i + 1}
				byKey[key(h)] = a
				order = append(order, a)
			}
			a.score += 1 / float64(rrfK+i+1)
			a.first = min(a.first, i+1)
		}
	}
	guaranteed := func(a *acc) bool { return a.first <= keep }
	slices.SortStableFunc(order, func(a, b *acc) int {
		ga, gb := guaranteed(a), guaranteed(b)
		switch {
		case ga && gb && a.first != b.first:
			return a.first - b.first
		case ga != gb:
			if ga {
				return -1
			}
			return 1
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	var out []Hit
	for _, a := range order[:min(n, len(order))] {
		h := a.hit
		h.Score, h.Rank = a.score, len(out)+1
		out = append(out, h)
	}
	return out
}
