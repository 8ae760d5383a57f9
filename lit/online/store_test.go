package online_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
	"github.com/mlrc/mlrc/store"
)

// The run store's cache keeps search results across Services, as it would
// across processes.
func TestRunStoreAsCache(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	fetches := 0
	fetch := func(context.Context) ([]lit.Hit, error) {
		fetches++
		return online.Ranked([]lit.Work{{ID: "2106.09685", Source: "arxiv", Title: "LoRA", Year: 2021}}, 1), nil
	}
	for range 2 {
		svc := &online.Service{Name: "arxiv", Cache: st.Cache()}
		hits, err := svc.Cached(ctx, "lora", 5, fetch)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) != 1 || hits[0].Work.Year != 2021 || hits[0].Rank != 1 {
			t.Fatalf("hits %+v, want the LoRA hit", hits)
		}
	}
	if fetches != 1 {
		t.Errorf("%d fetches, want 1", fetches)
	}
}
