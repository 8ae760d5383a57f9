package cli

import (
	"fmt"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/arxiv"
	"github.com/mlrc/mlrc/lit/online"
	"github.com/mlrc/mlrc/lit/openalex"
	"github.com/mlrc/mlrc/lit/semanticscholar"
	"github.com/mlrc/mlrc/store"
)

// Keys of the online literature services, read from the environment and
// kept out of everything mlrc writes like the model keys.
const (
	envSemanticScholarKey = "SEMANTIC_SCHOLAR_API_KEY"
	envOpenAlexKey        = "OPENALEX_API_KEY"
	envOpenAlexMailto     = "OPENALEX_MAILTO"
)

var literatureKeyVars = []string{envSemanticScholarKey, envOpenAlexKey}

// onlineSources are the literature services searched when online: all
// three asked together and their answers merged, sharing the store's cache,
// each behind a breaker so that an offline machine waits for each once.
func (a *app) onlineSources(st *store.Store) []lit.Source {
	cache := st.Cache()
	policy := online.Policy{Timeout: 8 * time.Second, Deadline: 20 * time.Second}
	getenv := a.env.Getenv
	merged := online.Merge(
		online.Breaker(&semanticscholar.Client{APIKey: getenv(envSemanticScholarKey), Cache: cache, Policy: policy}),
		online.Breaker(&openalex.Client{APIKey: getenv(envOpenAlexKey), Mailto: getenv(envOpenAlexMailto), Cache: cache, Policy: policy}),
		online.Breaker(&arxiv.Client{Cache: cache, Policy: policy}),
	)
	// Offline, one line says so; the details go to the run's log.
	return []lit.Source{online.Quiet(merged, func(err error) {
		fmt.Fprintln(a.env.Stderr, "mlrc: online literature unreachable: using the local index; --offline silences this")
		if a.log != nil {
			a.log.Debug("online literature unreachable", "err", err)
		}
	})}
}
