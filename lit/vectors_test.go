package lit

import (
	"context"
	"math"
	"slices"
	"strings"
	"testing"
)

// conceptEmbedder is a deterministic Embedder: one dimension per concept,
// counting the words of the text that name it, so that synonyms BM25 cannot
// match land close together.
type conceptEmbedder struct {
	calls, texts int
}

var concepts = [][]string{
	{"car", "cars", "automobile", "automobiles", "vehicle", "vehicles"},
	{"cat", "cats", "feline", "felines", "kitten"},
	{"protein", "proteins", "enzyme", "enzymes"},
	{"music", "song", "songs", "melody"},
}

func (e *conceptEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	e.calls++
	e.texts += len(texts)
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, len(concepts)+1)
		v[len(concepts)] = 0.1 // no text is the zero vector
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return r < 'a' || r > 'z' }) {
			for d, c := range concepts {
				if slices.Contains(c, w) {
					v[d]++
				}
			}
		}
		out[i] = v
	}
	return out, nil
}

func TestSearchHybrid(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	_, err := ix.Add(ctx,
		Work{ID: "lexical", Title: "Automobile insurance pricing", Abstract: "Premiums from tables."},
		Work{ID: "semantic", Title: "Self-driving cars", Abstract: "Vehicles that steer themselves on roads."},
		Work{ID: "cats", Title: "Feline behaviour", Abstract: "Cats and kittens at play."},
		Work{ID: "music", Title: "Melody generation", Abstract: "Songs from a language model."},
		Work{ID: "proteins", Title: "Enzyme design", Abstract: "Proteins folded by a network."},
	)
	if err != nil {
		t.Fatal(err)
	}
	e := &conceptEmbedder{}

	if _, err := ix.SearchHybrid(ctx, "automobile", 3, e, "concepts"); err == nil || !strings.Contains(err.Error(), "run Embed first") {
		t.Fatalf("hybrid search before Embed: %v", err)
	}
	n, err := ix.Embed(ctx, e, "concepts", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 5; got != want {
		t.Fatalf("embedded %d, want %d", got, want)
	}
	if got, want := e.calls, 3; got != want {
		t.Fatalf("%d calls with batch 2 for 5 works, want %d", got, want)
	}
	if n, _ := ix.Embed(ctx, e, "concepts", 2); n != 0 {
		t.Fatalf("second Embed embedded %d, want 0", n)
	}

	lexical, err := ix.Search(ctx, "automobile", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(lexical); !slices.Equal(got, []string{"lexical"}) {
		t.Fatalf("BM25 alone: %v, want only [lexical]", got)
	}
	hits, err := ix.SearchHybrid(ctx, "automobile", 3, e, "concepts")
	if err != nil {
		t.Fatal(err)
	}
	got := ids(hits)
	if len(got) != 3 || got[0] != "lexical" || got[1] != "semantic" {
		t.Fatalf("hybrid: %v, want [lexical semantic …]: the work in both lists first, then the one only embeddings find", got)
	}
	// RRF: "lexical" is first in both lists, "semantic" second by cosine.
	if want := 2.0 / 61; math.Abs(hits[0].Score-want) > 1e-12 {
		t.Fatalf("fused score of the top hit %v, want %v", hits[0].Score, want)
	}
	if want := 1.0 / 62; math.Abs(hits[1].Score-want) > 1e-12 {
		t.Fatalf("fused score of the second hit %v, want %v", hits[1].Score, want)
	}
	if hits[1].Work.Title != "Self-driving cars" || hits[1].Rank != 2 {
		t.Fatalf("a hit found by embeddings alone carries its work: %+v", hits[1])
	}
}

func TestEmbedAfterReplace(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	ix.Add(ctx, Work{ID: "a", Title: "Cats"}, Work{ID: "b", Title: "Cars"})
	e := &conceptEmbedder{}
	if n, err := ix.Embed(ctx, e, "m", 10); err != nil || n != 2 {
		t.Fatalf("Embed: %d, %v", n, err)
	}
	// The same text again keeps its vector; a new text loses it.
	ix.Add(ctx, Work{ID: "a", Title: "Cats"}, Work{ID: "b", Title: "Songs"})
	if n, err := ix.Embed(ctx, e, "m", 10); err != nil || n != 1 {
		t.Fatalf("Embed after a change: %d, %v; want 1", n, err)
	}
	hits, err := ix.SearchHybrid(ctx, "melody", 1, e, "m")
	if err != nil || len(hits) != 1 || hits[0].Work.ID != "b" {
		t.Fatalf("hybrid after re-embedding: %+v, %v", hits, err)
	}
	// Another model has its own vectors.
	if n, _ := ix.Embed(ctx, e, "other", 10); n != 2 {
		t.Fatalf("Embed for another model: %d, want 2", n)
	}
}

func TestVectorEncoding(t *testing.T) {
	v := []float32{0, 1.5, -2.25, float32(math.Inf(1)), 3e-38}
	if got := decodeVector(encodeVector(v)); !slices.Equal(got, v) {
		t.Fatalf("round trip %v, want %v", got, v)
	}
}
