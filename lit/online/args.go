package online

import (
	"strings"

	"github.com/mlrc/mlrc/lit"
)

// DefaultK is how many hits a search returns when asked for k ≤ 0.
const DefaultK = 10

// SearchArgs checks a search's arguments for service: it returns the query
// trimmed, which must not be empty, and k within [1, maxK], DefaultK when
// k ≤ 0.
func SearchArgs(service, query string, k, maxK int) (string, int, error) {
	query = strings.TrimSpace(query)
	if query == "" {
		return "", 0, &Error{Service: service, Message: "empty query"}
	}
	if k <= 0 {
		k = DefaultK
	}
	return query, min(k, maxK), nil
}

// Ranked turns works in the order a service returned them into hits, at
// most k: Rank counts from 1 and Score is 1/Rank, since the services give
// no score of their own.
func Ranked(works []lit.Work, k int) []lit.Hit {
	if len(works) > k {
		works = works[:k]
	}
	hits := make([]lit.Hit, len(works))
	for i, w := range works {
		hits[i] = lit.Hit{Work: w, Rank: i + 1, Score: 1 / float64(i+1)}
	}
	return hits
}

// Collapse joins the words of s with single spaces, as titles and
// abstracts wrapped across lines need.
func Collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
