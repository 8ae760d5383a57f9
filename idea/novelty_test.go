package idea

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/scripted"
)

type failingSource struct{}

func (failingSource) Search(context.Context, string, int) ([]lit.Hit, error) {
	return nil, errors.New("HTTP 503 from the service")
}

// TestNoveltySearchesEverySource: the check searches the local index and
// the online sources, records each round's hits with their provenance, and
// a source that fails is a warning, not the end of the check.
func TestNoveltySearchesEverySource(t *testing.T) {
	local := &fakeIndex{works: works}
	online := &fakeIndex{works: []lit.Work{{ID: "S2:abc", Source: "semanticscholar", Title: "Fusing character n-grams with sentence embeddings", Abstract: "character n-gram and embedding fusion for similarity"}}}
	m := scripted.New("s", []scripted.Response{
		call("novelty_queries", map[string]any{"queries": []string{"character n-gram embedding fusion"}}),
		decision("known", nil, "the online work does exactly this", "semanticscholar:S2:abc"),
	})
	var res Result
	cfg := Config{Model: m, Sources: []lit.Source{local, online, failingSource{}}, Index: local, Retries: 1}
	cfg.defaults()
	cfg.warnings = &res.Warnings
	n, err := novelty(context.Background(), cfg, Idea{ID: "idea-1", Title: "Char n-gram fusion", Hypothesis: "fusion helps"})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, h := range n.Rounds[0].Hits {
		sources[h.Source] = true
		if h.Abstract != "" {
			t.Errorf("a hit's abstract was kept in the record: %+v", h)
		}
	}
	if !sources["index"] || !sources["semanticscholar"] || len(local.queries) != 1 {
		t.Errorf("hits from %v, local index searched %d times (the index is also a source: once)", sources, len(local.queries))
	}
	if n.Decision != Known || n.Score != 0 || n.Closest[0].Work.Source != "semanticscholar" || n.Closest[0].Work.Title == "" {
		t.Errorf("novelty %+v", n)
	}
	if len(res.Warnings) != 1 || !strings.Contains(res.Warnings[0], "HTTP 503") {
		t.Errorf("warnings %v", res.Warnings)
	}
	// The model saw the works of both sources, by key.
	if got := m.Requests()[1].Messages; !strings.Contains(got[len(got)-1].Text(), "[semanticscholar:S2:abc]") || !strings.Contains(got[len(got)-1].Text(), "[index:2401.00002]") {
		t.Errorf("the decision request: %s", got[len(got)-1].Text())
	}
}

// TestNoveltyUncheckedWithoutLiterature: with no source, no model call.
func TestNoveltyUncheckedWithoutLiterature(t *testing.T) {
	m := scripted.New("s", nil)
	cfg := Config{Model: m}
	cfg.defaults()
	n, err := novelty(context.Background(), cfg, Idea{ID: "idea-1", Title: "t"})
	if err != nil || n.Decision != Unchecked || len(m.Requests()) != 0 || !strings.Contains(n.Reason, "no literature") {
		t.Errorf("novelty %+v, err %v, %d calls", n, err, len(m.Requests()))
	}
}
