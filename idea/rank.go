package idea

import (
	"fmt"
	"sort"
	"strings"
)

// jaccard is the overlap of two word sets.
func jaccard(a, b map[string]bool) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

func round2(x float64) float64 { return float64(int(x*100+0.5)) / 100 }

// merge folds near-duplicate ideas (title and hypothesis overlapping by more
// than threshold) into the first of them, keeping what the others cite.
func merge(ideas []Idea, threshold float64) []Idea {
	var out []Idea
	var sets []map[string]bool
	for _, idea := range ideas {
		s := wordSet(idea.Title + " " + idea.Hypothesis)
		dup := -1
		for i, o := range sets {
			if jaccard(s, o) > threshold {
				dup = i
				break
			}
		}
		if dup < 0 {
			out = append(out, idea)
			sets = append(sets, s)
			continue
		}
		kept := &out[dup]
		kept.MergedFrom = append(kept.MergedFrom, idea.ID)
		for _, r := range idea.BuildsOn {
			if !cites(kept.BuildsOn, r) {
				kept.BuildsOn = append(kept.BuildsOn, r)
			}
		}
	}
	return out
}

func cites(refs []Ref, r Ref) bool {
	for _, x := range refs {
		if x.ID == r.ID && x.Source == r.Source {
			return true
		}
	}
	return false
}

// Score weighs a review: the mean of the criteria with feasibility counted
// twice (an idea that cannot be run is worth little here), innovativeness
// lowered when the novelty check found close prior work.
func Score(r *Review, n *Novelty) float64 {
	if r == nil {
		return 0
	}
	innov := float64(r.Innovativeness.Score)
	if n != nil && n.Score < 0.5 {
		innov = min(innov, 1+4*n.Score*2) // at most 1 when the idea is all prior work
	}
	sum := float64(r.Clarity.Score+r.Validity.Score+r.Rigor.Score+r.Generalizability.Score) + innov + 2*float64(r.Feasibility.Score)
	return round2(sum / 7)
}

func sortStable[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}

// describe is one idea as text for a person.
func describe(i Idea) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d. %s  (score %.2f", i.Rank, i.Title, i.Score)
	if i.Novelty != nil && i.Novelty.Decision != "" {
		fmt.Fprintf(&b, ", novelty: %s", i.Novelty.Decision)
	}
	b.WriteString(")\n")
	fmt.Fprintf(&b, "   hypothesis: %s\n", i.Hypothesis)
	if i.Review != nil {
		r := i.Review
		fmt.Fprintf(&b, "   clarity %d · validity %d · rigor %d · innovativeness %d · generalizability %d · feasibility %d\n",
			r.Clarity.Score, r.Validity.Score, r.Rigor.Score, r.Innovativeness.Score, r.Generalizability.Score, r.Feasibility.Score)
	}
	fmt.Fprintf(&b, "   %s\n", gainText(i))
	var refs []string
	for _, r := range i.BuildsOn {
		refs = append(refs, r.Source+":"+r.ID)
	}
	fmt.Fprintf(&b, "   builds on: %s\n", strings.Join(refs, ", "))
	return b.String()
}
