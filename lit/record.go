package lit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// record is one line of a JSONL corpus. Authors and categories may be lists
// or strings (arXiv's metadata dump writes "cs.LG stat.ML"); the year may be
// a number or a string.
type record struct {
	ID         string       `json:"id"`
	Title      string       `json:"title"`
	Abstract   string       `json:"abstract"`
	Year       flexInt      `json:"year"`
	Authors    stringList   `json:"authors"`
	Categories categoryList `json:"categories"`
	URL        string       `json:"url"`
	Source     string       `json:"source"`
}

// entry is a work with the provenance of its row.
type entry struct {
	Work
	// Provenance is where the row came from (the shared corpus names a
	// repository, commit and file); kept in the index, not in the Work.
	Provenance string
}

// entry turns a record into an entry. The record's "source" is the work's
// Source when it is a source's name ("semanticscholar", "openalex"); a
// longer locator ("github:owner/repo@commit:path") is its provenance, and
// then, as when there is none, source names the source.
func (r *record) entry(source string) (entry, error) {
	w := Work{
		ID:         strings.TrimSpace(r.ID),
		Source:     source,
		Title:      collapseSpace(r.Title),
		Abstract:   strings.TrimSpace(r.Abstract),
		Year:       int(r.Year),
		Authors:    r.Authors,
		Categories: r.Categories,
		URL:        strings.TrimSpace(r.URL),
	}
	if w.ID == "" {
		return entry{}, errors.New(`no "id"`)
	}
	if w.Title == "" && w.Abstract == "" {
		return entry{}, fmt.Errorf(`work %s has neither "title" nor "abstract"`, w.ID)
	}
	e := entry{Work: w}
	if s := strings.TrimSpace(r.Source); isSourceName(s) {
		e.Source = s
	} else {
		e.Provenance = s
	}
	if e.URL == "" {
		e.URL = arxivURL(e.ID)
	}
	return e, nil
}

// isSourceName reports whether s looks like the name of a source: a short
// lower-case word such as "index", "semanticscholar" or "openalex".
func isSourceName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// arxivURL returns the abstract page of an "arXiv:<id>" id, or "".
func arxivURL(id string) string {
	if len(id) > 6 && strings.EqualFold(id[:6], "arxiv:") {
		return "https://arxiv.org/abs/" + id[6:]
	}
	return ""
}

// collapseSpace joins the lines of s with single spaces (arXiv titles carry
// hard line breaks).
func collapseSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// flexInt is a JSON number or a string holding one; anything else is 0.
type flexInt int

func (n *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return nil // an unreadable year is not worth losing the work for
	}
	*n = flexInt(v)
	return nil
}

// stringList is a JSON list of strings, or one string of items: authors
// separated by commas or " and ", categories by spaces or commas.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = splitList(s, strings.NewReplacer(" and ", ",", ";", ","))
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = v
	return nil
}

// categoryList is a stringList whose string form is separated by spaces.
type categoryList []string

func (l *categoryList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*l = splitList(s, strings.NewReplacer(" ", ",", "\t", ","))
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*l = v
	return nil
}

// splitList splits s at commas after replacing other separators by commas.
func splitList(s string, sep *strings.Replacer) []string {
	var out []string
	for _, p := range strings.Split(sep.Replace(s), ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// jsonList encodes a list for storage; nil becomes [].
func jsonList(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l)
	return string(b)
}
