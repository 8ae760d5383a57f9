// Package arxiv searches arXiv through its API (an Atom feed). Its Client is
// a lit.Source that keeps to arXiv's terms: at most one request every three
// seconds.
package arxiv

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// Name is the service's name in works (lit.Work.Source), errors and cache
// keys.
const Name = "arxiv"

// DefaultBaseURL is the API's query endpoint.
const DefaultBaseURL = "https://export.arxiv.org/api/query"

// DefaultMinInterval is the spacing arXiv asks for between requests.
const DefaultMinInterval = 3 * time.Second

// maxResults bounds k; the API allows more, but a search for ideas needs no
// more than this.
const maxResults = 200

// Client searches arXiv. The zero value asks the public API three seconds
// apart at most. A Client is safe for concurrent use (concurrent searches
// take turns) and must not be copied after its first search; share one
// Client for the whole process so the interval holds across callers.
type Client struct {
	BaseURL    string       // default DefaultBaseURL
	HTTPClient *http.Client // nil: http.DefaultClient
	Policy     online.Policy
	// MinInterval spaces requests, retries included; 0 means
	// DefaultMinInterval. Only tests should lower it.
	MinInterval time.Duration
	Cache       online.Cache  // nil: no caching
	CacheTTL    time.Duration // default online.DefaultCacheTTL
	Logger      *slog.Logger

	throttle online.Throttle
}

// Search returns up to k papers (at most 200) matching query, by arXiv's
// relevance. A plain query is searched as all its words (stop words left
// out) in any field; a query in arXiv's own syntax (ti:, au:, abs:, AND,
// OR, …) is passed on as it is.
func (c *Client) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	query, k, err := online.SearchArgs(Name, query, k, maxResults)
	if err != nil {
		return nil, err
	}
	sq := SearchQuery(query)
	if sq == "" {
		return nil, &online.Error{Service: Name, Message: "the query has no words to search for"}
	}
	svc := c.service()
	return svc.Cached(ctx, query, k, func(ctx context.Context) ([]lit.Hit, error) {
		v := url.Values{
			"search_query": {sq},
			"start":        {"0"},
			"max_results":  {strconv.Itoa(k)},
			"sortBy":       {"relevance"},
			"sortOrder":    {"descending"},
		}
		body, err := svc.Get(ctx, c.baseURL()+"?"+v.Encode())
		if err != nil {
			return nil, err
		}
		works, msg, err := parse(body)
		switch {
		case err != nil:
			return nil, &online.Error{Service: Name, Message: "unreadable answer: " + err.Error(), Err: err}
		case msg != "":
			return nil, &online.Error{Service: Name, Message: msg}
		}
		return online.Ranked(works, k), nil
	})
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return c.BaseURL
}

func (c *Client) service() *online.Service {
	interval := c.MinInterval
	if interval <= 0 {
		interval = DefaultMinInterval
	}
	return &online.Service{
		Name:        Name,
		HTTPClient:  c.HTTPClient,
		Header:      http.Header{"User-Agent": {"mlrc"}},
		Policy:      c.Policy,
		Throttle:    &c.throttle,
		MinInterval: interval,
		Cache:       c.Cache,
		CacheTTL:    c.CacheTTL,
		Logger:      c.Logger,
		ErrorMessage: func(body []byte) string {
			_, msg, _ := parse(body)
			return msg
		},
	}
}

// syntax recognises a query already in arXiv's syntax: a field prefix or a
// Boolean operator.
var syntax = regexp.MustCompile(`\b(ti|au|abs|co|jr|cat|rn|id|all):|\b(AND|OR|ANDNOT)\b`)

// stopWords are left out of a plain query: arXiv's index drops them, so
// requiring one would match nothing.
var stopWords = map[string]bool{
	"a": true, "an": true, "and": true, "are": true, "as": true, "at": true, "be": true, "by": true,
	"for": true, "from": true, "in": true, "into": true, "is": true, "it": true, "of": true, "on": true,
	"or": true, "that": true, "the": true, "to": true, "via": true, "with": true,
}

// SearchQuery turns a query into arXiv's search_query: a plain query
// becomes all:w1 AND all:w2 … over its words, without punctuation and stop
// words; a query in arXiv's syntax is returned as it is. "" means the query
// has nothing to search for.
func SearchQuery(q string) string {
	if syntax.MatchString(q) {
		return q
	}
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var terms []string
	for _, w := range words {
		if !stopWords[w] {
			terms = append(terms, "all:"+w)
		}
	}
	return strings.Join(terms, " AND ")
}
