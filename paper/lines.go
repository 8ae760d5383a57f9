package paper

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// pageNumberRe matches a line that is only a page number: "7", "Page 7",
// "7 of 20", "- 7 -".
var pageNumberRe = regexp.MustCompile(`^(?i:page\s+)?\d{1,4}(\s*(of|/)\s*\d{1,4})?$|^[-–]\s*\d{1,4}\s*[-–]$`)

// fixes repairs what PDF text extraction commonly gets wrong: ligatures,
// LaTeX's spacing diaeresis ("Sch¨olkopf"), soft hyphens.
var fixes = strings.NewReplacer(
	"\r\n", "\n", "\r", "\n",
	"ﬀ", "ff", "ﬁ", "fi", "ﬂ", "fl", "ﬃ", "ffi", "ﬄ", "ffl", "ﬅ", "st", "ﬆ", "st",
	"¨a", "ä", "¨o", "ö", "¨u", "ü", "¨e", "ë", "¨i", "ï", "¨A", "Ä", "¨O", "Ö", "¨U", "Ü",
	"\u00ad", "", "\u200b", "", "\ufeff", "", "\u00a0", " ",
)

// splitLines normalizes text and returns its lines, right-trimmed; blank
// lines are kept as "".
func splitLines(text string) []string {
	text = fixes.Replace(text)
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(strings.Map(dropControl, l), unicode.IsSpace)
	}
	return lines
}

func dropControl(r rune) rune {
	if r == '\t' {
		return ' '
	}
	if unicode.IsControl(r) {
		return -1
	}
	return r
}

// cleanPages turns a PDF's pages into lines: page numbers and running
// headers and footers (lines repeated at the top or bottom of many pages)
// are dropped, and space around lines is trimmed. Runs of blank lines
// (pdftotext has them, PDFium not) become one.
func cleanPages(pages []string) []string {
	paged := make([][]string, len(pages))
	for i, p := range pages {
		for _, l := range splitLines(p) {
			paged[i] = append(paged[i], strings.TrimSpace(l))
		}
	}
	// How many pages carry each key at their top or bottom.
	count := map[string]int{}
	for _, ls := range paged {
		seen := map[string]bool{}
		for _, j := range edges(ls) {
			if k := headerKey(ls[j]); k != "" && !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	threshold := max(3, (len(pages)+3)/4)
	var out []string
	for i, ls := range paged {
		drop := map[int]bool{}
		for _, j := range edges(ls) {
			k := headerKey(ls[j])
			switch {
			case k == "" || pageNumberRe.MatchString(ls[j]):
				drop[j] = true
			case i > 0 && count[k] >= threshold:
				// The first page keeps its lines: its top is the title.
				drop[j] = true
			}
		}
		for j, l := range ls {
			if drop[j] || (l == "" && (len(out) == 0 || out[len(out)-1] == "")) {
				continue
			}
			out = append(out, l)
		}
	}
	if n := len(out); n > 0 && out[n-1] == "" {
		out = out[:n-1]
	}
	return out
}

// edges returns the indexes of the two first and two last non-blank lines
// of a page.
func edges(ls []string) []int {
	var idx []int
	for j := 0; j < len(ls) && len(idx) < 2; j++ {
		if ls[j] != "" {
			idx = append(idx, j)
		}
	}
	var tail []int
	for j := len(ls) - 1; j >= 0 && len(tail) < 2; j-- {
		if ls[j] != "" && !slices.Contains(idx, j) {
			tail = append(tail, j)
		}
	}
	return append(idx, tail...)
}

// headerKey is a line without digits, spaces and case, so that "2 Title"
// and "4 Title" match; "" for a line of digits only.
func headerKey(l string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) || unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, l)
}
