// Package online is what mlrc's online literature sources (Semantic
// Scholar, OpenAlex, arXiv) share: GET requests with a per-attempt timeout
// and a deadline for the whole search, retries of 429 and 5xx with
// exponential backoff and jitter honouring Retry-After, a minimum interval
// between requests, a cache of search results, and the ways of combining
// sources: Fallback (the first that answers) and Merge (all of them,
// deduplicated).
//
// Each source is a sibling package (lit/semanticscholar, lit/openalex,
// lit/arxiv) whose Client implements lit.Source with a Service from here.
package online

import (
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is a failed request to a literature service.
type Error struct {
	Service string // "semanticscholar", "openalex", "arxiv"
	Status  int    // HTTP status; 0 when the request never got one
	Message string // the service's own message, or what went wrong
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Temporary marks failures worth another try: 429, 5xx, a timeout, a
	// dropped connection.
	Temporary bool
	Attempts  int    // how many requests were made
	Hint      string // what to do next, when there is something to say
	Err       error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Service)
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d %s", e.Status, http.StatusText(e.Status))
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	} else if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.Hint != "" {
		fmt.Fprintf(&b, "; %s", e.Hint)
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// note adds to the message a remark in parentheses.
func (e *Error) note(remark string) {
	if e.Message == "" {
		e.Message = remark
		return
	}
	e.Message += " (" + remark + ")"
}

// retryable reports whether the status is worth another attempt.
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}
