package idea

import (
	"strings"
	"unicode"

	"github.com/kljensen/snowball/english"
)

// boilerplate are words of research prose that say nothing about an idea's
// content; English function words are english.IsStopWord's.
var boilerplate = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`use used using via based new approach method methods model models paper propose
		proposed show shows study task tasks results result`) {
		boilerplate[w] = true
	}
}

// contentWords returns the first n lower-cased content words of s: no
// function words, no research boilerplate, at least three letters.
func contentWords(s string, n int) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' }) {
		w = strings.Trim(w, "-")
		if len(w) < 3 || english.IsStopWord(w) || boilerplate[w] {
			continue
		}
		out = append(out, w)
		if n > 0 && len(out) >= n {
			break
		}
	}
	return out
}

// wordSet is the set of the Snowball (Porter2) stems of s's content words,
// for telling near-duplicate ideas apart.
func wordSet(s string) map[string]bool {
	set := map[string]bool{}
	for _, w := range contentWords(s, 0) {
		set[english.Stem(w, false)] = true
	}
	return set
}
