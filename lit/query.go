package lit

import (
	"strings"
	"unicode"
)

// maxTerms bounds the terms of one query: a pasted paragraph still searches
// quickly.
const maxTerms = 32

// queryTerms splits free text into the terms of an FTS5 query. Words are
// the runs of letters and digits; words joined by a hyphen, dot, slash,
// apostrophe or underscore form one term, which FTS5 matches as a phrase:
// "graph-based" finds "graph-based" and "graph based", "GPT-4o" finds
// "GPT-4o". Everything else (quotes, colons, parentheses, *, ^, +)
// separates terms and is dropped, so no user text can be FTS5 syntax.
// Common English words are dropped unless the query has nothing else;
// repeated terms count once.
func queryTerms(q string) []string {
	var terms, stop []string
	seen := map[string]bool{}
	words := strings.FieldsFunc(q, func(r rune) bool { return !isTokenRune(r) && !isJoiner(r) })
	for _, word := range words {
		runs := strings.FieldsFunc(word, func(r rune) bool { return !isTokenRune(r) })
		var kept []string
		for _, r := range runs {
			if strings.IndexFunc(r, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0 {
				kept = append(kept, strings.ToLower(r))
			}
		}
		if len(kept) == 0 {
			continue
		}
		t := strings.Join(kept, " ")
		if seen[t] {
			continue
		}
		seen[t] = true
		if len(kept) == 1 && stopwords[t] {
			stop = append(stop, t)
			continue
		}
		terms = append(terms, t)
	}
	if len(terms) == 0 {
		terms = stop
	}
	if len(terms) > maxTerms {
		terms = terms[:maxTerms]
	}
	return terms
}

// isTokenRune reports whether FTS5's unicode61 tokenizer keeps r in a
// token: letters, numbers, private-use characters, and the combining marks
// that remove_diacritics folds away.
func isTokenRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) || unicode.Is(unicode.Co, r)
}

// isJoiner reports whether r joins words into one term.
func isJoiner(r rune) bool {
	switch r {
	case '-', '.', '/', '\'', '’', '_', '‐', '‑':
		return true
	}
	return false
}

// matchExpr joins terms into an FTS5 MATCH expression with op ("AND" or
// "OR"). Terms hold only token characters and spaces, so quoting them
// needs no escapes; the keywords AND, OR, NOT and NEAR inside quotes are
// plain words.
func matchExpr(terms []string, op string) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" " + op + " ")
		}
		b.WriteString(`"` + t + `"`)
	}
	return b.String()
}

// stopwords are English function words that match nearly every abstract
// and so only slow a query down.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be been being but by can could did do does
		for from had has have how i if in into is it its more most of on or our over so such
		than that the their them then there these they this those through to under up us
		via was we were what when where which while who why will with within without would you your`) {
		m[w] = true
	}
	return m
}()
