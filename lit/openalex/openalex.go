// Package openalex searches OpenAlex's catalogue of scholarly works. Its
// Client is a lit.Source.
package openalex

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
const Name = "openalex"

// DefaultBaseURL is the OpenAlex API.
const DefaultBaseURL = "https://api.openalex.org"

const (
	maxPerPage = 200 // the most /works returns at once
	fields     = "id,title,publication_year,authorships,abstract_inverted_index,doi,primary_location"
)

// Client searches OpenAlex. The zero value asks without a key or an email.
// A Client is safe for concurrent use.
type Client struct {
	BaseURL string // default DefaultBaseURL
	// APIKey is sent as the api_key parameter. OpenAlex requires one
	// (free) since February 2026 for more than a token daily allowance; the
	// caller reads it from the environment.
	APIKey string
	// Mailto, an email address, is sent as the mailto parameter (OpenAlex's
	// "polite pool"); optional.
	Mailto     string
	HTTPClient *http.Client // nil: http.DefaultClient
	Policy     online.Policy
	Cache      online.Cache  // nil: no caching
	CacheTTL   time.Duration // default online.DefaultCacheTTL
	Logger     *slog.Logger
}

// Search returns up to k works (at most 200) matching query, by OpenAlex's
// relevance.
func (c *Client) Search(ctx context.Context, query string, k int) ([]lit.Hit, error) {
	query, k, err := online.SearchArgs(Name, query, k, maxPerPage)
	if err != nil {
		return nil, err
	}
	svc := c.service()
	return svc.Cached(ctx, query, k, func(ctx context.Context) ([]lit.Hit, error) {
		v := url.Values{
			"search":   {query},
			"per-page": {strconv.Itoa(k)},
			"select":   {fields},
		}
		if c.Mailto != "" {
			v.Set("mailto", c.Mailto)
		}
		if c.APIKey != "" {
			v.Set("api_key", c.APIKey)
		}
		body, err := svc.Get(ctx, c.baseURL()+"/works?"+v.Encode())
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
	ua := "mlrc"
	if c.Mailto != "" {
		ua += " (mailto:" + c.Mailto + ")"
	}
	return &online.Service{
		Name:         Name,
		HTTPClient:   c.HTTPClient,
		Header:       http.Header{"User-Agent": {ua}},
		Policy:       c.Policy,
		Cache:        c.Cache,
		CacheTTL:     c.CacheTTL,
		Logger:       c.Logger,
		ErrorMessage: errorMessage,
		Hint:         c.hint,
	}
}

func (c *Client) hint(status int) string {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		if c.APIKey != "" {
			return "check the OpenAlex API key and its daily allowance"
		}
		return "OpenAlex allows very little use without an API key; get a free one at openalex.org/settings/api"
	}
	return ""
}

// errorMessage reads OpenAlex's error bodies: {"error": "...", "message": "..."}.
func errorMessage(body []byte) string {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	switch {
	case e.Error != "" && e.Message != "":
		return e.Error + ": " + e.Message
	case e.Error != "":
		return e.Error
	}
	return e.Message
}
