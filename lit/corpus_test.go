package lit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The shared corpus sits beside the repository (see
// ../../shared/corpus/PROVENANCE.md).
const (
	sampleCorpus = "../../shared/corpus/arxiv-ml-abstracts-2k.jsonl"
	fullCorpus   = "../../shared/corpus/arxiv-ml-abstracts.jsonl.gz"
	fullCount    = 75337
)

func needCorpus(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("corpus absent, skipping: %v (the shared corpus is expected at ../shared beside the repository)", err)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	full.cleanup()
	os.Exit(code)
}

// full is the index of the whole corpus, built once per test binary for
// the tests and benchmarks that want it.
var full sharedIndex

type sharedIndex struct {
	once  sync.Once
	dir   string
	ix    *Index
	build time.Duration
	err   error
}

func (s *sharedIndex) cleanup() {
	if s.ix != nil {
		s.ix.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}

func fullIndex(tb testing.TB) *Index {
	tb.Helper()
	needCorpus(tb, fullCorpus)
	full.once.Do(func() {
		ctx := context.Background()
		if full.dir, full.err = os.MkdirTemp("", "lit-full-"); full.err != nil {
			return
		}
		if full.ix, full.err = OpenIndex(ctx, filepath.Join(full.dir, "lit.db")); full.err != nil {
			return
		}
		start := time.Now()
		_, full.err = full.ix.AddFile(ctx, fullCorpus)
		full.build = time.Since(start)
	})
	if full.err != nil {
		tb.Fatal(full.err)
	}
	return full.ix
}

// relevant reports how many of words (lower case) the hit's title and
// abstract contain.
func relevant(h Hit, words ...string) int {
	text := strings.ToLower(h.Work.Title + " " + h.Work.Abstract)
	n := 0
	for _, w := range words {
		if strings.Contains(text, w) {
			n++
		}
	}
	return n
}

func TestSampleCorpus(t *testing.T) {
	needCorpus(t, sampleCorpus)
	ctx := context.Background()
	ix := openTest(t)
	n, err := ix.AddFile(ctx, sampleCorpus)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2000 || count(t, ix) != 2000 {
		t.Fatalf("added %d, count %d, want 2000", n, count(t, ix))
	}
	hits, err := ix.Search(ctx, "semantic textual relatedness", 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 5 {
		t.Fatalf("%d hits, want 5", len(hits))
	}
	// No work of the sample has all three words; each of the top five has
	// two of them, or "relatedness", the rarest.
	for _, h := range hits {
		if relevant(h, "semantic", "textual", "relatedness") < 2 && relevant(h, "relatedness") == 0 {
			t.Errorf("irrelevant hit %d: %s", h.Rank, h.Work.Title)
		}
	}
	for _, q := range BenchQueries {
		if hits, err := ix.Search(ctx, q, 10); err != nil || len(hits) == 0 {
			t.Errorf("Search(%q): %d hits, %v", q, len(hits), err)
		}
	}
}

func TestFullCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 75,337 works (about 15 s); skipped with -short")
	}
	ix := fullIndex(t)
	ctx := context.Background()
	if got := count(t, ix); got != fullCount {
		t.Fatalf("count %d, want %d", got, fullCount)
	}
	t.Logf("built the index of %d works in %s (%.0f works/s)", fullCount, full.build.Round(time.Millisecond), fullCount/full.build.Seconds())

	hits, err := ix.Search(ctx, "semantic textual relatedness", 5)
	if err != nil {
		t.Fatal(err)
	}
	// The one work that names the task in its title.
	if len(hits) == 0 || hits[0].Work.ID != "arXiv:2509.09522" {
		t.Fatalf("top hit %v, want arXiv:2509.09522 (Towards Explainable Job Title Matching: Leveraging Semantic Textual Relatedness …)", ids(hits))
	}
	if w := hits[0].Work; w.Source != "index" || w.Year != 2025 || len(w.Authors) == 0 || w.URL != "https://arxiv.org/abs/2509.09522" {
		t.Fatalf("top hit: source %q, year %d, authors %v, url %q", w.Source, w.Year, w.Authors, w.URL)
	}
	for _, h := range hits {
		if relevant(h, "semantic", "textual", "relatedness") < 2 {
			t.Errorf("irrelevant hit %d: %s", h.Rank, h.Work.Title)
		}
	}
	hits, err = ix.Search(ctx, "graph neural networks for molecules", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 10 || relevant(hits[0], "graph", "neural", "network", "molec") != 4 {
		t.Fatalf("graph neural networks for molecules: %d hits, the first %q", len(hits), hits[0].Work.Title)
	}
	// The rarest term is kept longest.
	for _, h := range hits {
		if relevant(h, "molec") == 0 {
			t.Errorf("graph neural networks for molecules: hit %d without molecules: %s", h.Rank, h.Work.Title)
		}
	}
	// A word found nowhere does not hide the others.
	if hits, err := ix.Search(ctx, "xyzzyq federated learning", 5); err != nil || len(hits) != 5 {
		t.Fatalf("query with an unknown word: %d hits, %v", len(hits), err)
	}
	res := Bench(ctx, ix, BenchQueries, 3)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	t.Logf("latency: %s", res)
}

// BenchmarkSearch measures one search for the top 10, cycling through
// BenchQueries, on the full corpus (built once, untimed).
func BenchmarkSearch(b *testing.B) {
	ix := fullIndex(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := ix.Search(ctx, BenchQueries[i%len(BenchQueries)], DefaultK); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
