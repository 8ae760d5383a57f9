package paper

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// heading is a line that starts a section.
type heading struct {
	at      int    // line index
	title   string // without number and markup
	printed string // as printed, without Markdown markup
	level   int
}

// canonical maps a heading, lowercased, to its normalized section name.
var canonical = map[string]string{
	"abstract":     "abstract",
	"introduction": "introduction",

	"related work":                "related work",
	"related works":               "related work",
	"prior work":                  "related work",
	"previous work":               "related work",
	"literature review":           "related work",
	"related literature":          "related work",
	"background and related work": "related work",
	"related work and background": "related work",
	"background":                  "background",
	"preliminaries":               "background",

	"method":                "method",
	"methods":               "method",
	"methodology":           "method",
	"approach":              "method",
	"our approach":          "method",
	"our method":            "method",
	"proposed method":       "method",
	"proposed approach":     "method",
	"the proposed method":   "method",
	"materials and methods": "method",

	"experiments":                 "experiments",
	"experiment":                  "experiments",
	"experimental setup":          "experiments",
	"experimental settings":       "experiments",
	"experimental setting":        "experiments",
	"experimental design":         "experiments",
	"evaluation":                  "experiments",
	"empirical evaluation":        "experiments",
	"experimental evaluation":     "experiments",
	"experiments and results":     "experiments",
	"results":                     "results",
	"experimental results":        "results",
	"main results":                "results",
	"empirical results":           "results",
	"results and analysis":        "results",
	"results and discussion":      "results",
	"discussion":                  "discussion",
	"general discussion":          "discussion",
	"conclusion":                  "conclusion",
	"conclusions":                 "conclusion",
	"concluding remarks":          "conclusion",
	"conclusion and future work":  "conclusion",
	"conclusions and future work": "conclusion",
	"summary and conclusions":     "conclusion",
	"summary and conclusion":      "conclusion",
	"summary and outlook":         "conclusion",
	"conclusion and outlook":      "conclusion",
	"summary":                     "conclusion",
	"limitations":                 "limitations",
	"limitation":                  "limitations",
	"future work":                 "future work",

	"acknowledgments":         "acknowledgments",
	"acknowledgements":        "acknowledgments",
	"acknowledgment":          "acknowledgments",
	"acknowledgement":         "acknowledgments",
	"references":              "references",
	"reference":               "references",
	"bibliography":            "references",
	"literature cited":        "references",
	"works cited":             "references",
	"appendix":                "appendix",
	"appendices":              "appendix",
	"supplementary material":  "appendix",
	"supplementary materials": "appendix",
	"supplemental material":   "appendix",
	"affiliation":             "affiliation",
	"affiliations":            "affiliation",
}

// backMatter are the sections a numbered paper leaves unnumbered.
var backMatter = map[string]bool{
	"references": true, "acknowledgments": true, "appendix": true, "affiliation": true, "limitations": true,
}

// canon returns the normalized name of a heading's title, or "".
func canon(title string) string {
	k := strings.ToLower(collapse(strings.TrimRight(title, ":. ")))
	if c, ok := canonical[k]; ok {
		return c
	}
	return ""
}

var (
	mdHeadingRe = regexp.MustCompile(`^(#{1,6})\s+(.*?)\s*#*\s*$`)
	numberedRe  = regexp.MustCompile(`^(\d{1,2}(?:\.\d{1,2}){0,3})(\.?)\s+(\S.*)$`)
	appendixRe  = regexp.MustCompile(`^(Appendix\s+)?([A-H])((?:\.\d{1,2}){0,3})(\.?)[\s:]+(\S.*)$`)
	captionRe   = regexp.MustCompile(`^(?i:fig\.|figure|table|algorithm|listing|equation|eq\.)\s*\d`)
)

// stopWords do not end a longer heading; a numbered line of five words or
// more ending in one is a sentence (a footnote or a list item).
var stopWords = map[string]bool{
	"a": true, "an": true, "the": true, "of": true, "and": true, "or": true, "to": true, "in": true,
	"for": true, "with": true, "when": true, "that": true, "on": true, "by": true, "is": true,
	"are": true, "as": true, "at": true, "from": true, "this": true, "we": true, "be": true,
}

// headingText reports whether s can be the text of a heading.
func headingText(s string) bool {
	n := utf8.RuneCountInString(s)
	words := strings.Fields(s)
	if n < 2 || n > 90 || len(words) > 12 || strings.Contains(s, "  ") {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s)
	last, _ := utf8.DecodeLastRuneInString(s)
	if !unicode.IsLetter(first) || strings.ContainsRune(".,;:=-–", last) {
		return false
	}
	if len(words) >= 5 && stopWords[strings.ToLower(words[len(words)-1])] {
		return false
	}
	letters, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsLetter(r):
			letters++
		case !unicode.IsSpace(r):
			other++
		}
	}
	return letters*10 >= (letters+other)*6 && !captionRe.MatchString(s)
}

// numbering accepts numbered headings in sequence: 1, 1.1, 1.2, 2, 2.1, …
// then appendices A, A.1, B. A candidate out of sequence (a footnote, a
// list item, a table row) is refused.
type numbering struct {
	prev     []int
	appendix bool
	accepted int
	topDot   int // 0 unknown, 1 "1.", 2 "1"
	subDot   int
}

// parseNumber splits a numbered heading line.
func parseNumber(line string) (nums []int, letter, dot bool, title string, ok bool) {
	if m := numberedRe.FindStringSubmatch(line); m != nil && headingText(m[3]) {
		for p := range strings.SplitSeq(m[1], ".") {
			v, _ := strconv.Atoi(p)
			nums = append(nums, v)
		}
		return nums, false, m[2] == ".", m[3], true
	}
	if m := appendixRe.FindStringSubmatch(line); m != nil && headingText(m[5]) {
		nums = []int{int(m[2][0]-'A') + 1}
		for p := range strings.SplitSeq(strings.TrimPrefix(m[3], "."), ".") {
			if p != "" {
				v, _ := strconv.Atoi(p)
				nums = append(nums, v)
			}
		}
		// "A Note on X" is a sentence; "A. Proofs" or "Appendix A Proofs" is a heading.
		if m[1] == "" && m[4] == "" && len(nums) == 1 {
			return nil, false, false, "", false
		}
		return nums, true, m[4] == "." || m[1] != "", m[5], true
	}
	return nil, false, false, "", false
}

// follows reports whether c can come right after p: the next number at some
// level, possibly entering its first subsections ("2.1" after "1.3" when
// the line "2" was missed), or the one after it ("3.3" after "3.1" when
// "3.2" was missed).
func follows(p, c []int) bool {
	if len(p) == 0 {
		return slices.Equal(c, []int{1}) || slices.Equal(c, []int{1, 1})
	}
	for k := 0; k <= len(p) && k < len(c); k++ {
		if !slices.Equal(c[:k], p[:k]) {
			return false
		}
		want := 1
		if k < len(p) {
			want = p[k] + 1
		}
		if c[k] == want || (k < len(p) && c[k] == want+1) {
			for _, v := range c[k+1:] {
				if v != 1 {
					return false
				}
			}
			return true
		}
	}
	return false
}

// accept reports whether a numbered heading continues the sequence, and
// records it. known says its title is a well-known section name, which
// outweighs a number styled unlike the others ("2. Related Work" among
// "1 Introduction", "3 Method").
func (n *numbering) accept(nums []int, letter, dot, known bool) bool {
	switch {
	case letter && !n.appendix:
		// Appendices start at A, after a main sequence.
		if n.accepted < 2 || nums[0] != 1 || len(nums) != 1 || !dot {
			return false
		}
		n.appendix, n.prev = true, nil
	case !letter && n.appendix:
		return false
	}
	if !follows(n.prev, nums) {
		return false
	}
	if !letter {
		style := 2
		if dot {
			style = 1
		}
		field := &n.subDot
		if len(nums) == 1 {
			field = &n.topDot
		}
		switch {
		case *field == 0:
			*field = style
		case *field != style && !known:
			return false
		}
	}
	n.prev = nums
	n.accepted++
	return true
}

// knownHeading recognizes an unnumbered heading by its name
// ("References", "ACKNOWLEDGMENTS", "Affiliation:", "Appendix B").
func knownHeading(t string) (name string, ok bool) {
	if c := canon(t); c != "" {
		return c, true
	}
	low := strings.ToLower(t)
	if strings.HasPrefix(low, "appendix ") && len(strings.Fields(t)) <= 10 && headingText(t) {
		return t, true
	}
	return "", false
}

// looseHeading reports whether line i looks like an unnumbered heading: a
// short capitalized line after the end of a sentence, followed by a longer
// line that starts a paragraph. Used only for papers without numbered
// headings.
func (d *doc) looseHeading(i int) bool {
	t := d.trimmed[i]
	first, _ := utf8.DecodeRuneInString(t)
	if utf8.RuneCountInString(t) > 60 || len(strings.Fields(t)) > 8 || !unicode.IsUpper(first) || !headingText(t) {
		return false
	}
	if p := d.prev(i); p >= 0 && (!d.paras || p == i-1) {
		last, _ := utf8.DecodeLastRuneInString(d.trimmed[p])
		if !strings.ContainsRune(".!?)", last) {
			return false
		}
	}
	nx := d.next(i)
	if nx < 0 {
		return false
	}
	next := d.trimmed[nx]
	nf, _ := utf8.DecodeRuneInString(next)
	return utf8.RuneCountInString(next) >= max(40, utf8.RuneCountInString(t)+10) &&
		(unicode.IsLetter(nf) || unicode.IsDigit(nf) || strings.ContainsRune("“\"'(", nf))
}

// headings finds the section headings: Markdown headings anywhere (the
// caller skips the title's), others from line from on, past the front
// matter.
func (d *doc) headings(from int) []heading {
	var hs []heading
	// Numbered headings first: how many there are decides whether looser
	// rules are needed.
	num := &numbering{}
	numbered := map[int]heading{}
	mdCount := 0
	for i := range d.lines {
		if d.fence[i] || d.trimmed[i] == "" {
			continue
		}
		if d.mdLevel(i) > 0 {
			mdCount++
			continue
		}
		if i < from {
			continue
		}
		if nums, letter, dot, title, ok := parseNumber(d.trimmed[i]); ok && num.accept(nums, letter, dot, canon(title) != "") {
			numbered[i] = heading{at: i, title: title, printed: d.trimmed[i], level: len(nums)}
		}
	}
	// With numbered sections, an unnumbered heading is back matter; a bare
	// "Methods" inside section 3 is a paragraph's label.
	loose := len(numbered) < 3 && mdCount < 2
	for i := range d.lines {
		t := d.trimmed[i]
		if d.fence[i] || t == "" {
			continue
		}
		if lvl := d.mdLevel(i); lvl > 0 {
			m := mdHeadingRe.FindStringSubmatch(t)
			h := heading{at: i, title: stripMarkup(m[2]), level: lvl}
			h.printed = h.title
			if _, _, _, title, ok := parseNumber(h.title); ok {
				h.title = title
			}
			hs = append(hs, h)
			continue
		}
		if i < from {
			continue
		}
		if h, ok := numbered[i]; ok {
			hs = append(hs, h)
			continue
		}
		if name, ok := knownHeading(t); ok && (loose || backMatter[name] || strings.HasPrefix(name, "Appendix")) {
			// A bare "Results" over a table column is no heading: a section
			// starts with a paragraph, or with a list of entries.
			nx := d.next(i)
			if nx >= 0 && (utf8.RuneCountInString(d.trimmed[nx]) >= 20 || name == "affiliation" || name == "references") {
				hs = append(hs, heading{at: i, title: strings.TrimRight(t, ":. "), printed: t, level: 1})
			}
			continue
		}
		if loose && d.looseHeading(i) {
			hs = append(hs, heading{at: i, title: t, printed: t, level: 1})
		}
	}
	return hs
}

// startsBody reports whether t is a line that surely ends a front-matter
// block such as an abstract: a first numbered section, a known heading, a
// Markdown heading.
func startsBody(t string) bool {
	if mdHeadingRe.MatchString(t) {
		return true
	}
	if nums, letter, _, _, ok := parseNumber(t); ok && !letter && follows(nil, nums) {
		return true
	}
	_, ok := knownHeading(t)
	return ok
}

// stripMarkup removes Markdown emphasis and code marks from a short text.
func stripMarkup(s string) string {
	s = strings.NewReplacer("**", "", "__", "", "`", "").Replace(s)
	return collapse(strings.Trim(s, "*_ "))
}
