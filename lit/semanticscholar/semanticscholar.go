// Package semanticscholar searches Semantic Scholar's Academic Graph API for
// papers. Its Client is a lit.Source.
package semanticscholar

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// Name is the service's name in works (lit.Work.Source), errors and cache
// keys.
const Name = "semanticscholar"

// DefaultBaseURL is the Academic Graph API.
const DefaultBaseURL = "https://api.semanticscholar.org/graph/v1"

// DefaultMinInterval spaces requests as Semantic Scholar asks of a client
// with an API key: one request a second.
const DefaultMinInterval = time.Second

const (
	maxLimit = 100 // the most /paper/search returns at once
	fields   = "paperId,title,abstract,year,authors,externalIds,url"
)

// Client searches Semantic Scholar. The zero value asks the public API
// without a key. A Client is safe for concurrent use and must not be copied
// after its first search.
type Client struct {
	BaseURL string // default DefaultBaseURL
	// APIKey, sent as x-api-key, raises the rate limit; it is optional. The
	// caller reads it from SEMANTIC_SCHOLAR_API_KEY.
	APIKey     string
	HTTPClient *http.Client // nil: http.DefaultClient
	Policy     online.Policy
	// MinInterval spaces requests; 0 means DefaultMinInterval, a negative
	// value no spacing.
	MinInterval time.Duration
	Cache       online.Cache  // nil: no caching
	CacheTTL    time.Duration // default online.DefaultCacheTTL
	Logger      *slog.Logger

	throttle online.Throttle
}

// Search returns up to k papers (at most 100) matching query, by Semantic
// Scholar's relevance. Hyphens in the query become spaces: the service
// finds nothing for hyphenated terms.
func (c *Client) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	query, k, err := online.SearchArgs(Name, query, k, maxLimit)
	if err != nil {
		return nil, err
	}
	svc := c.service()
	return svc.Cached(ctx, query, k, func(ctx context.Context) ([]lit.Hit, error) {
		v := url.Values{
			"query":  {strings.ReplaceAll(query, "-", " ")},
			"limit":  {strconv.Itoa(k)},
			"fields": {fields},
		}
		body, err := svc.Get(ctx, c.baseURL()+"/paper/search?"+v.Encode())
		if err != nil {
			return nil, err
		}
		works, err := parse(body)
		if err != nil {
			return nil, &online.Error{Service: Name, Message: "unreadable answer: " + err.Error(), Err: err}
		}
		return online.Ranked(works, k), nil
	})
}

func (c *Client) baseURL() string {
	if c.BaseURL == "" {
		return DefaultBaseURL
	}
	return strings.TrimRight(c.BaseURL, "/")
}

func (c *Client) service() *online.Service {
	h := http.Header{"User-Agent": {"mlrc"}}
	if c.APIKey != "" {
		h.Set("x-api-key", c.APIKey)
	}
	interval := c.MinInterval
	if interval == 0 {
		interval = DefaultMinInterval
	}
	return &online.Service{
		Name:         Name,
		HTTPClient:   c.HTTPClient,
		Header:       h,
		Policy:       c.Policy,
		Throttle:     &c.throttle,
		MinInterval:  interval,
		Cache:        c.Cache,
		CacheTTL:     c.CacheTTL,
		Logger:       c.Logger,
		ErrorMessage: errorMessage,
		Hint:         c.hint,
	}
}

func (c *Client) hint(status int) string {
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		if c.APIKey != "" {
			return "check the Semantic Scholar API key (SEMANTIC_SCHOLAR_API_KEY)"
		}
	case status == http.StatusTooManyRequests && c.APIKey == "":
		return "the public pool is shared by every client without a key; " +
			"an API key (SEMANTIC_SCHOLAR_API_KEY) gets its own limit"
	}
	return ""
}

// errorMessage reads the service's error bodies: {"error": "..."} from the
// API, {"message": "..."} from its gateway (429, 403).
func errorMessage(body []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != "" {
		return e.Error
	}
	return e.Message
}
