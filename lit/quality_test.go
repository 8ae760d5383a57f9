package lit

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestArxivLabels(t *testing.T) {
	l := ArxivLabels()
	if n := len(l.Queries); n < 20 {
		t.Fatalf("%d labelled queries, want at least 20", n)
	}
	for _, q := range l.Queries {
		if q.Gap == "" || len(q.Relevant) < 5 {
			t.Errorf("%q: gap %q, %d relevant", q.Query, q.Gap, len(q.Relevant))
		}
	}
	if _, err := parseLabels([]byte(`{"queries": [{"query": "x", "relevant": []}]}`)); err == nil {
		t.Error("a query without relevant ids was accepted")
	}
}

// TestRetrievalQuality measures precision at 10 of the labelled queries on
// the whole corpus: the short phrases reach 0.65 on average, the gap
// sentences (how the idea phase used to search) do not.
func TestRetrievalQuality(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes 75,337 works (about 15 s); skipped with -short (TestRetrievalQualitySample runs)")
	}
	ix := fullIndex(t)
	checkQuality(t, ix, 0.65)
}

// TestRetrievalQualitySample does the same on a small index: the labelled
// relevant works and the 2,000-work random sample as distractors, read
// from the shared corpus in place.
func TestRetrievalQualitySample(t *testing.T) {
	needCorpus(t, fullCorpus)
	needCorpus(t, sampleCorpus)
	ctx := context.Background()
	ix := openTest(t)
	want := map[string]bool{}
	for _, q := range ArxivLabels().Queries {
		for _, id := range q.Relevant {
			want[id] = true
		}
	}
	f, err := os.Open(fullCorpus)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(t.TempDir(), "relevant.jsonl")
	out, err := os.Create(sub)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	kept := 0
	for sc.Scan() {
		var r struct{ ID string }
		if json.Unmarshal(sc.Bytes(), &r) == nil && want["arXiv:"+r.ID] || want[r.ID] {
			out.Write(append(sc.Bytes(), '\n'))
			kept++
		}
	}
	out.Close()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if kept == 0 {
		t.Fatal("no labelled work found in the corpus: the ids do not match")
	}
	for _, p := range []string{sub, sampleCorpus} {
		if _, err := ix.AddFile(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	checkQuality(t, ix, 0.85)
}

func checkQuality(t *testing.T, ix *Index, min float64) {
	t.Helper()
	ctx := context.Background()
	labels := ArxivLabels()
	phrases, err := Evaluate(ctx, ix, labels, 10, QueryText, ix.Search)
	if err != nil {
		t.Fatal(err)
	}
	gaps, err := Evaluate(ctx, ix, labels, 10, GapText, ix.Search)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range phrases.Queries {
		t.Logf("P@10 %.1f  RR %.2f  %d relevant  %s", s.Precision, s.RR, s.Relevant, s.Query)
	}
	t.Logf("phrases: mean P@10 %.3f, MRR %.3f; gap sentences: mean P@10 %.3f, MRR %.3f", phrases.MeanPrecision, phrases.MRR, gaps.MeanPrecision, gaps.MRR)
	if phrases.Skipped > 0 || len(phrases.Queries) != len(labels.Queries) {
		t.Errorf("%d queries scored, %d skipped", len(phrases.Queries), phrases.Skipped)
	}
	if phrases.MeanPrecision < min {
		t.Errorf("mean precision at 10 of the phrases %.3f, want at least %.2f", phrases.MeanPrecision, min)
	}
	if gaps.MeanPrecision >= min || gaps.MeanPrecision >= phrases.MeanPrecision {
		t.Errorf("the gap sentences reach P@10 %.3f (phrases %.3f): the benchmark no longer tells the query builders apart", gaps.MeanPrecision, phrases.MeanPrecision)
	}
}
