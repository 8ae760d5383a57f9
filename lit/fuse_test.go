package lit

import (
	"fmt"
	"testing"
)

func hitsOf(ids ...string) []Hit {
	var hs []Hit
	for i, id := range ids {
		hs = append(hs, Hit{Work: Work{ID: id, Source: "index"}, Rank: i + 1})
	}
	return hs
}

// TestFuseKeepsEveryQuerysTop: works that several off-topic queries share
// win plain reciprocal rank fusion; Fuse still keeps each query's first
// hits, in rounds.
func TestFuseKeepsEveryQuerysTop(t *testing.T) {
	lists := [][]Hit{
		hitsOf("good1", "good2", "good3", "common1", "common2"),
		hitsOf("x1", "common1", "common2", "x2"),
		hitsOf("y1", "common1", "common2", "y2"),
		hitsOf("z1", "common2", "common1", "z2"),
	}
	got := Fuse(lists, 2, 8)
	var ids []string
	for i, h := range got {
		ids = append(ids, h.Work.ID)
		if h.Rank != i+1 {
			t.Errorf("hit %d has rank %d", i, h.Rank)
		}
	}
	want := "[good1 x1 y1 z1 common1 common2 good2 good3]"
	if fmt.Sprint(ids) != want {
		t.Errorf("fused %v, want %s", ids, want)
	}
	// Plain fusion (keep 0) ranks the shared works first and drops good2.
	plain := Fuse(lists, 0, 3)
	if plain[0].Work.ID != "common1" || plain[1].Work.ID != "common2" {
		t.Errorf("plain fusion %v", plain)
	}
}
