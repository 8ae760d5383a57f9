package idea

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/mlrc/mlrc/lit"
)

// stopwords are left out of similarity and queries.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an and are as at be by can do does for from has have how in into is it its of on or
		our that the their these this those to use used using via we what when which while with without more less than
		not no may will would should could between over under both each other such so than then also based new approach
		method methods model models paper propose proposed show shows study task tasks results result`) {
		stopwords[w] = true
	}
}

// contentWords returns the first n lower-cased content words of s.
func contentWords(s string, n int) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' }) {
		w = strings.Trim(w, "-")
		if len(w) < 3 || stopwords[w] {
			continue
		}
		out = append(out, w)
		if n > 0 && len(out) >= n {
			break
		}
	}
	return out
}

func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range contentWords(s, 0) {
		set[stem(w)] = true
	}
	return set
}

// stem is a crude suffix stripper, enough to match "networks" with
// "network" and "learning" with "learned".
func stem(w string) string {
	for _, suf := range []string{"ations", "ation", "ings", "ing", "ies", "ed", "es", "s"} {
		if len(w) > len(suf)+3 && strings.HasSuffix(w, suf) {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

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

// containment is the share of a's words found in b.
func containment(a, b map[string]bool) float64 {
	if len(a) == 0 {
		return 0
	}
	inter := 0
	for w := range a {
		if b[w] {
			inter++
		}
	}
	return float64(inter) / float64(len(a))
}

// novelty searches the index with the idea's title and hypothesis and
// measures how much of the idea's wording the closest works already hold.
func novelty(ctx context.Context, index lit.Source, idea Idea) (*Novelty, error) {
	if index == nil {
		return nil, nil
	}
	query := idea.Title + " " + idea.Hypothesis
	hits, err := index.Search(ctx, strings.Join(contentWords(query, 16), " "), 5)
	if err != nil {
		return nil, err
	}
	ideaWords := wordSet(idea.Title + " " + idea.Hypothesis + " " + idea.Method)
	n := &Novelty{Score: 1}
	for _, h := range hits {
		sim := containment(ideaWords, wordSet(h.Work.Title+" "+h.Work.Abstract))
		n.Closest = append(n.Closest, Closest{Work: lit.Work{ID: h.Work.ID, Source: h.Work.Source, Title: h.Work.Title, Year: h.Work.Year}, Similarity: round2(sim)})
	}
	sort.SliceStable(n.Closest, func(i, j int) bool { return n.Closest[i].Similarity > n.Closest[j].Similarity })
	if len(n.Closest) > 0 {
		n.Score = round2(1 - n.Closest[0].Similarity)
	}
	if len(n.Closest) > 3 {
		n.Closest = n.Closest[:3]
	}
	return n, nil
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
	if i.Novelty != nil {
		fmt.Fprintf(&b, ", novelty %.2f", i.Novelty.Score)
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
