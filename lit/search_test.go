package lit

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestSearchTitleOutranksAbstract(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	// Both works use "tokenizer" once, in texts of the same length; only
	// where differs.
	_, err := ix.Add(ctx,
		Work{ID: "abstract", Title: "Learning subword units", Abstract: "A tokenizer for many languages and scripts."},
		Work{ID: "title", Title: "Learning a tokenizer", Abstract: "Subword units for many languages and scripts."},
		Work{ID: "other", Title: "Image segmentation", Abstract: "Masks for many objects and scenes."},
	)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := ix.Search(ctx, "tokenizer", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(hits), []string{"title", "abstract"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("ranking %v, want %v", got, want)
	}
	if !(hits[0].Score > hits[1].Score) || hits[0].Rank != 1 || hits[1].Rank != 2 {
		t.Fatalf("scores/ranks: %+v", hits)
	}
}

func TestSearchRelaxesCommonTermsFirst(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	_, err := ix.Add(ctx,
		Work{ID: "all", Title: "Neural networks on molecule graphs"},
		Work{ID: "rare", Title: "Molecules as graphs", Abstract: "Message passing."},
		Work{ID: "common", Title: "Neural graph models", Abstract: "Graph, graph, graph; neural, neural."},
		Work{ID: "graph", Title: "Graph kernels"},
		Work{ID: "n1", Title: "Neural codecs"},
		Work{ID: "n2", Title: "Neural rendering"},
		Work{ID: "n3", Title: "Neural fields"},
		Work{ID: "none", Title: "Speech", Abstract: "Audio."},
	)
	if err != nil {
		t.Fatal(err)
	}
	// molecules (2 works) is rarer than graph (4), graph than neural (5).
	// "all" has every term; "rare" lacks neural, the commonest, and so
	// comes before "common", which lacks molecules, however often it says
	// graph and neural; then graph alone, then neural alone.
	for _, q := range []string{"graph neural molecules", "graph neural molecules xyzzy", "molecules, graph (neural)"} {
		hits, err := ix.Search(ctx, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := ids(hits)
		if want := []string{"all", "rare", "common", "graph"}; len(got) != 7 || !reflect.DeepEqual(got[:4], want) {
			t.Fatalf("%q: ranking %v, want %v then n1-n3", q, got, want)
		}
		for i, h := range hits {
			if h.Rank != i+1 {
				t.Fatalf("hit %d has rank %d", i, h.Rank)
			}
		}
	}
	// k bounds every step together.
	if hits, _ := ix.Search(ctx, "graph neural molecules", 2); len(hits) != 2 {
		t.Fatalf("k=2: %d hits", len(hits))
	}
}

func TestRelaxed(t *testing.T) {
	got := relaxed([]string{"a", "b", "c"}, false)
	want := []string{
		`"a" AND ("b" OR "c")`, `"a"`,
		`"b" AND "c"`, `"b"`,
		`"c"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("relaxed:\n got %q\nwant %q", got, want)
	}
	if got := relaxed([]string{"a", "b"}, true)[0]; got != `"a" AND "b"` {
		t.Fatalf("relaxed with all: first %q", got)
	}
}

func ids(hits []Hit) []string {
	var s []string
	for _, h := range hits {
		s = append(s, h.Work.ID)
	}
	return s
}

func TestQueryTerms(t *testing.T) {
	tests := []struct {
		query string
		want  []string
	}{
		{"semantic textual relatedness", []string{"semantic", "textual", "relatedness"}},
		{"Graph Neural Networks for Molecules", []string{"graph", "neural", "networks", "molecules"}},
		{`"exact phrase" here`, []string{"exact", "phrase", "here"}},
		{`title:transformers abstract:(vision OR language)`, []string{"title", "transformers", "abstract", "vision", "language"}},
		{"semi-supervised GPT-4o", []string{"semi supervised", "gpt 4o"}},
		{"NEAR(a b) NOT c AND d", []string{"near", "b", "not", "c", "d"}},
		{"naive_bayes encoder/decoder don't", []string{"naive bayes", "encoder decoder", "don t"}},
		{"end. next", []string{"end", "next"}},
		{"token* ^start +plus -minus", []string{"token", "start", "plus", "minus"}},
		{`a "" ''' ((( ))) ::: *`, []string{"a"}},
		{"the of and", []string{"the", "of", "and"}},
		{"naïve Bayes für Übersetzung 中文分词", []string{"naïve", "bayes", "für", "übersetzung", "中文分词"}},
		{"x x X", []string{"x"}},
		{"", nil},
		{"   \t\n", nil},
		{`"`, nil},
	}
	for _, tt := range tests {
		if got := queryTerms(tt.query); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("queryTerms(%q) = %q, want %q", tt.query, got, tt.want)
		}
	}
	long := strings.Repeat("w ", 100) + strings.Repeat("x", 10)
	for i := range 100 {
		long += fmt.Sprintf(" t%d", i)
	}
	if got := len(queryTerms(long)); got != maxTerms {
		t.Errorf("long query: %d terms, want %d", got, maxTerms)
	}
}

// TestSearchNeverSyntaxError runs hostile queries against a real FTS5
// table: none may fail.
func TestSearchNeverSyntaxError(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	if _, err := ix.Add(ctx,
		Work{ID: "w1", Title: "Naive Bayes for text", Abstract: "Near-duplicate detection with GPT-4o and C++ code."},
		Work{ID: "w2", Title: "Chinese word segmentation", Abstract: "中文分词 with Übersetzung."},
	); err != nil {
		t.Fatal(err)
	}
	queries := []string{
		`"`, `""`, `"unterminated`, `'single'`, `title:`, `:`, `title:naive`, `abstract:(bayes`,
		`(`, `)`, `()`, `((naive) OR (bayes))`, `-`, `--`, `-naive`, `near-duplicate`, `NEAR`,
		`NEAR(naive bayes, 2)`, `naive NEAR bayes`, `AND`, `OR`, `NOT`, `naive AND`, `OR bayes`,
		`NOT naive`, `*`, `naive*`, `*bayes`, `^naive`, `+`, `{title abstract}: naive`, `[naive]`,
		`naïve`, `NAÏVE`, `中文分词`, `Übersetzung`, `🙂 emoji`, "\x00", "tab\tnew\nline", `\"escaped\"`,
		`%`, `_`, `naive_bayes`, `c++`, `gpt-4o`, `1.5`, `2025`, `'; DROP TABLE works; --`,
		strings.Repeat("(", 1000), strings.Repeat(`"a" `, 500),
	}
	for _, q := range queries {
		if _, err := ix.Search(ctx, q, 5); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	if got := count(t, ix); got != 2 {
		t.Fatalf("count %d after hostile queries, want 2", got)
	}
	// The sanitised queries still find what they name.
	for q, want := range map[string]string{
		`title:naive`: "w1", `near-duplicate`: "w1", `"naïve"`: "w1", `NAIVE*`: "w1", `gpt-4o`: "w1",
		`中文分词`: "w2", `ubersetzung`: "w2",
	} {
		hits, err := ix.Search(ctx, q, 5)
		if err != nil || len(hits) == 0 || hits[0].Work.ID != want {
			t.Errorf("Search(%q) = %v, %v; want %s first", q, ids(hits), err, want)
		}
	}
}
