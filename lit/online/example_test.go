package online_test

import (
	"context"
	"fmt"
	"os"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/arxiv"
	"github.com/mlrc/mlrc/lit/online"
	"github.com/mlrc/mlrc/lit/openalex"
	"github.com/mlrc/mlrc/lit/semanticscholar"
	"github.com/mlrc/mlrc/store"
)

// The wiring for an agent: three services sharing the run store's cache,
// asked in turn until one finds something. Use online.Merge instead of
// Fallback to ask all three and deduplicate.
func Example() {
	ctx := context.Background()
	st, err := store.Open(ctx, "runs/mlrc.db")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer st.Close()
	cache := st.Cache()
	var src lit.Source = online.Fallback(
		&semanticscholar.Client{APIKey: os.Getenv("SEMANTIC_SCHOLAR_API_KEY"), Cache: cache},
		&openalex.Client{APIKey: os.Getenv("OPENALEX_API_KEY"), Mailto: "you@example.org", Cache: cache},
		&arxiv.Client{Cache: cache}, // share one arxiv.Client per process: it spaces requests 3 s apart
	)
	hits, err := src.Search(ctx, "low-rank adaptation of large language models", 10)
	if err != nil {
		fmt.Println(err) // names each service, its status and message
		return
	}
	for _, h := range hits {
		fmt.Println(h.Rank, h.Work.Source, h.Work.ID, h.Work.Title)
	}
}
