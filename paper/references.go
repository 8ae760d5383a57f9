package paper

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	bracketRefRe  = regexp.MustCompile(`^\[\d{1,3}\]`)
	numberedRefRe = regexp.MustCompile(`^(\d{1,3})\.\s+\S`)
	listItemRe    = regexp.MustCompile(`^[-*+]\s+`)
	// surnameRe matches an entry's start: "Cortes, C." or "Bates DM,".
	surnameRe = regexp.MustCompile(`^\p{Lu}[\p{L}\p{M}'’-]+(?:,\s+\p{Lu}\.|\s+\p{Lu}{1,3}[,( ])`)
	// initialEndRe matches a line ending in an initial: mid author list.
	initialEndRe = regexp.MustCompile(`(?:^|[\s,])\p{Lu}\.$`)
	// refYearRe finds an author-year entry's year near its start:
	// "(2004)", "(2021b)", "2019." or ", 2019,".
	refYearRe     = regexp.MustCompile(`\((?:19|20)\d\d[a-z]?\)|\b(?:19|20)\d\d[a-z]?[.,]`)
	leadingYearRe = regexp.MustCompile(`^\((?:19|20)\d\d[a-z]?\)`)
)

// splitReferences splits a references section into entries: "[1] …" or
// "1. …" items, Markdown list items, blank-line separated paragraphs, or,
// for PDF text, author-year entries found by where a line starts a new one.
func splitReferences(lines []string) []string {
	var ls []string // trimmed; one "" between paragraphs
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if t == "" && (len(ls) == 0 || ls[len(ls)-1] == "") {
			continue
		}
		ls = append(ls, t)
	}
	count := func(re *regexp.Regexp) int {
		n := 0
		for _, l := range ls {
			if re.MatchString(l) {
				n++
			}
		}
		return n
	}
	var starts func(prev, cur, next string) bool
	switch {
	case count(bracketRefRe) >= 2:
		starts = func(_, cur, _ string) bool { return bracketRefRe.MatchString(cur) }
	case count(numberedRefRe) >= 3:
		starts = func(_, cur, _ string) bool { return numberedRefRe.MatchString(cur) }
	case count(listItemRe) >= 2:
		starts = func(_, cur, _ string) bool { return listItemRe.MatchString(cur) }
	case shortParagraphs(ls):
		starts = func(prev, cur, next string) bool { return prev == "" || authorYearStart(prev, cur, next) }
	default:
		starts = authorYearStart
	}
	var entries []string
	var cur []string
	flush := func() {
		if e := joinEntry(cur); utf8.RuneCountInString(e) >= 10 {
			entries = append(entries, e)
		}
		cur = nil
	}
	prev := ""
	for i, l := range ls {
		next := strings.Join(ls[i+1:min(i+3, len(ls))], " ")
		if l != "" && len(cur) > 0 && starts(prev, l, next) {
			flush()
		}
		if l != "" {
			cur = append(cur, l)
		}
		prev = l
	}
	flush()
	return entries
}

// shortParagraphs reports whether blank lines separate entries: there are
// several paragraphs and nearly all are a few lines long. (In PDF text a
// blank line is more likely a page break.)
func shortParagraphs(ls []string) bool {
	paras, long, n := 0, 0, 0
	for i, l := range ls {
		if l != "" {
			n++
		}
		if l == "" || i == len(ls)-1 {
			if n > 0 {
				paras++
				if n > 5 {
					long++
				}
			}
			n = 0
		}
	}
	return paras >= 2 && long*10 <= paras
}

// authorYearStart reports whether cur starts a new author-year entry: cur
// starts with a name and has a year early (or, after "Surname, I." or
// "Surname IJ", in the next two lines: a long author list wrapped after a
// comma or before the year), and the previous line ended an entry (with a full stop, or at
// least not mid-list).
func authorYearStart(prev, cur, next string) bool {
	if prev != "" && !strings.HasSuffix(prev, ".") {
		if !surnameRe.MatchString(cur) || strings.HasSuffix(prev, ",") || strings.HasSuffix(prev, "-") || strings.HasSuffix(prev, " and") {
			return false
		}
	}
	first, _ := utf8.DecodeRuneInString(cur)
	word, _, _ := strings.Cut(cur, " ")
	if !unicode.IsUpper(first) && !particles[word] {
		return false
	}
	head := cur
	if len(head) > 120 {
		head = head[:120]
	}
	if refYearRe.MatchString(head) {
		return true
	}
	return strings.HasSuffix(prev, ".") && !initialEndRe.MatchString(prev) &&
		surnameRe.MatchString(cur) && !refYearRe.MatchString(cur) &&
		(strings.HasSuffix(cur, ",") && refYearRe.MatchString(next[:min(len(next), 250)]) || leadingYearRe.MatchString(next))
}

// joinEntry joins an entry's lines; a URL broken at a slash is joined
// without a space.
func joinEntry(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		if i == 0 {
			l = listItemRe.ReplaceAllString(l, "")
		}
		if i > 0 {
			s := b.String()
			if !strings.HasSuffix(s, "/") && !strings.HasPrefix(l, "/") && !strings.HasPrefix(l, "~") {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	return collapse(b.String())
}
