package paper

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// doc is a paper's text as lines, for finding its structure. PDF text has
// no blank lines; plain text and Markdown separate paragraphs with them.
type doc struct {
	lines   []string // right-trimmed
	trimmed []string // trimmed both sides
	fence   []bool   // inside a Markdown ``` block
	paras   bool     // blank lines separate paragraphs
	md      bool     // Markdown markup counts (text input, not PDF)
}

func newDoc(lines []string, markdown bool) *doc {
	d := &doc{lines: lines, trimmed: make([]string, len(lines)), fence: make([]bool, len(lines)), md: markdown}
	in := false
	for i, l := range lines {
		t := strings.TrimSpace(l)
		d.trimmed[i] = t
		if markdown && strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			in = !in
			d.fence[i] = true
			continue
		}
		d.fence[i] = in
		if t == "" && i > 0 && d.trimmed[i-1] != "" {
			d.paras = true
		}
	}
	return d
}

// next returns the index of the first non-blank line after i, or -1.
func (d *doc) next(i int) int {
	for j := i + 1; j < len(d.trimmed); j++ {
		if d.trimmed[j] != "" {
			return j
		}
	}
	return -1
}

// prev returns the index of the last non-blank line before i, or -1.
func (d *doc) prev(i int) int {
	for j := i - 1; j >= 0; j-- {
		if d.trimmed[j] != "" {
			return j
		}
	}
	return -1
}

// mdLevel is the level of a Markdown heading on line i, or 0.
func (d *doc) mdLevel(i int) int {
	if !d.md || d.fence[i] || !strings.HasPrefix(d.lines[i], "#") {
		return 0
	}
	m := mdHeadingRe.FindStringSubmatch(d.trimmed[i])
	if m == nil || !strings.ContainsFunc(m[2], unicode.IsLetter) {
		return 0
	}
	return len(m[1])
}

// parse finds a paper's structure in its lines. metaTitle is a PDF's
// metadata title, "" for text; markdown is false for PDF text, where a line
// starting with "#" or ">" is no markup.
func parse(lines []string, metaTitle string, markdown bool) *Paper {
	d := newDoc(lines, markdown)
	p := &Paper{}
	title, titleAt, titleEnd := d.title(metaTitle)
	p.Title = title

	abstract, absEnd, found := d.abstract(titleEnd)
	bodyFrom := absEnd
	if !found {
		bodyFrom = d.bodyStart(titleEnd)
	}
	p.Authors = d.authors(titleEnd, bodyFrom)

	hs := d.headings(bodyFrom)
	if !found {
		abstract = d.leadParagraph(bodyFrom, hs)
	}
	p.Abstract = abstract

	for k, h := range hs {
		if h.at == titleAt {
			continue
		}
		end := len(d.lines)
		if k+1 < len(hs) {
			end = hs[k+1].at
		}
		name := canon(h.title)
		if name == "" {
			name = h.title
		}
		if name == "abstract" {
			continue
		}
		body := d.trimmed[h.at+1 : end]
		if d.paras {
			body = d.lines[h.at+1 : end]
		}
		p.Sections = append(p.Sections, Section{
			Name:    name,
			Heading: h.printed,
			Level:   h.level,
			Text:    strings.Trim(strings.Join(body, "\n"), "\n "),
		})
		if name == "references" {
			p.References = splitReferences(body)
		}
	}
	return p
}

var (
	// skipTitleRe matches lines above a title that are not the title:
	// journal and conference banners, arXiv stamps, dates, addresses.
	skipTitleRe  = regexp.MustCompile(`(?i)arxiv:\s*\d|^preprint|^published as|proceedings of|^under review|^accepted (at|to|for|as)|^journal of|\bvolume\b|\bvol\.\s*\d|\bissue\b|doi[:.]|https?://|©|copyright|^\d+$|workshop on|conference on|^to appear`)
	titleLabelRe = regexp.MustCompile(`(?i)^(?:[-*]\s*)?(?:\*\*)?title(?:\*\*)?\s*:\s*(?:\*\*)?\s*(.+)$`)
	emailRe      = regexp.MustCompile(`\S+@\S+\.\S+`)
	keywordsRe   = regexp.MustCompile(`(?i)^(\*\*)?(keywords|key words|index terms|ccs concepts|jel classification|msc\b|subject classification)`)
)

// footnoteMarks may trail a title or an author's name.
const footnoteMarks = "∗*†‡§¶⋆"

// title finds the paper's title: a Markdown "# " heading, a "Title:" label,
// or the first meaningful lines. It returns the line it starts on (-1 when
// the title came from metaTitle only) and the line after it.
func (d *doc) title(metaTitle string) (title string, at, end int) {
	n := min(len(d.lines), 40)
	for i := range n {
		if d.mdLevel(i) == 1 {
			return stripMarkup(mdHeadingRe.FindStringSubmatch(d.trimmed[i])[2]), i, i + 1
		}
		if m := titleLabelRe.FindStringSubmatch(d.trimmed[i]); m != nil {
			return stripMarkup(m[1]), i, i + 1
		}
	}
	at = -1
	for i := range n {
		t := d.trimmed[i]
		if t != "" && !skipTitleRe.MatchString(t) && !emailRe.MatchString(t) && utf8.RuneCountInString(t) >= 4 {
			at = i
			break
		}
	}
	if at < 0 || prose(d.trimmed[at]) {
		// No title line, or the text starts with a paragraph.
		start := max(at, 0)
		if sensibleTitle(metaTitle) {
			return metaTitle, -1, start
		}
		return "", -1, start
	}
	parts := []string{d.trimmed[at]}
	end = at + 1
	for end < len(d.lines) && len(parts) < 3 {
		t := d.trimmed[end]
		if t == "" || !titleContinues(t) || utf8.RuneCountInString(strings.Join(parts, " ")+t) > 250 {
			break
		}
		parts = append(parts, t)
		end++
	}
	title = joinTitle(parts)
	if sensibleTitle(metaTitle) {
		mk, tk := letterKey(metaTitle), letterKey(title)
		var head strings.Builder
		for _, t := range d.trimmed[:min(len(d.trimmed), 20)] {
			head.WriteString(letterKey(t))
		}
		if !strings.Contains(tk, mk) && !strings.Contains(mk, tk) && strings.Contains(head.String(), mk) {
			// The first lines were a banner the patterns missed; the
			// metadata title appears further down: trust it.
			title = metaTitle
		}
	}
	return title, at, end
}

// prose reports whether a first line is running text rather than a title:
// very long, or a long sentence.
func prose(t string) bool {
	return utf8.RuneCountInString(t) > 250 || (strings.HasSuffix(t, ".") && len(strings.Fields(t)) >= 12)
}

// titleContinues reports whether t, right under a title line, continues it
// rather than starting the authors or an abstract.
func titleContinues(t string) bool {
	low := strings.ToLower(t)
	switch {
	case strings.HasPrefix(low, "by "), strings.HasPrefix(low, "abstract"), keywordsRe.MatchString(t),
		emailRe.MatchString(t), skipTitleRe.MatchString(t), authorLine(t) != nil, startsBody(t):
		return false
	}
	digits := 0
	for _, r := range t {
		if unicode.IsDigit(r) {
			digits++
		}
	}
	return digits <= 4 && utf8.RuneCountInString(t) <= 120
}

// joinTitle joins a title's lines. A footnote mark at the end of a line
// ends the main title: what follows is a subtitle.
func joinTitle(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		trimmed := strings.TrimRight(p, footnoteMarks+" ")
		if i > 0 {
			sep := " "
			if prev := parts[i-1]; strings.TrimRight(prev, footnoteMarks+" ") != strings.TrimSpace(prev) {
				sep = ": "
			}
			b.WriteString(sep)
		}
		b.WriteString(trimmed)
	}
	return collapse(b.String())
}

// sensibleTitle reports whether a PDF's metadata title can be a paper's
// title: not empty, not a file name, not a word processor's placeholder.
func sensibleTitle(t string) bool {
	low := strings.ToLower(strings.TrimSpace(t))
	if utf8.RuneCountInString(low) < 6 || !strings.Contains(low, " ") {
		return false
	}
	for _, bad := range []string{".pdf", ".dvi", ".tex", ".doc", ".ps", "untitled", "microsoft word", "arxiv:"} {
		if strings.Contains(low, bad) {
			return false
		}
	}
	return true
}

// letterKey keeps only s's letters and digits, lowercased, for comparing
// titles printed differently.
func letterKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// abstractLabel recognizes an abstract's label: "Abstract", "ABSTRACT",
// "Abstract. We …", "## Abstract", "**Abstract (v2)** — source: …".
// inline is the abstract's text on the same line, if any.
func abstractLabel(t string) (inline string, styled, ok bool) {
	s := strings.TrimLeft(t, "#*_ ")
	styled = len(s) < len(t)
	if len(s) < 8 || !strings.EqualFold(s[:8], "abstract") {
		return "", false, false
	}
	rest := s[8:]
	if r, _ := utf8.DecodeRuneInString(rest); unicode.IsLetter(r) {
		return "", false, false // "Abstraction …"
	}
	rest = strings.TrimLeft(rest, "*_ ")
	if rest == "" {
		return "", styled, true
	}
	if r, size := utf8.DecodeRuneInString(rest); strings.ContainsRune(".:—–-", r) {
		return strings.TrimSpace(rest[size:]), styled, true
	}
	// "ABSTRACT We present …" in some layouts.
	if s[:8] == "ABSTRACT" && !styled {
		return rest, false, true
	}
	// "**Abstract (v5, quoted)** — source": a label with notes; the text is below.
	return "", styled, styled
}

// sourceNoteRe matches a note saying where a text came from: "source:
// https://…", "(via …)", a bare URL.
var sourceNoteRe = regexp.MustCompile(`(?i)^[(\[]?\s*(?:\*\*|_)?(?:(?:sources?|from|via)\s*:|(?:quoted|retrieved|taken|copied) from\b)|^[(\[]?\s*(?:https?://|www\.)`)

// sourceNote reports whether t, next to an abstract's label, is a note on
// where the abstract came from rather than its text.
func sourceNote(t string) bool {
	return sourceNoteRe.MatchString(strings.TrimSpace(t))
}

// abstract finds the abstract from line from on: after an "Abstract" label
// up to the keywords or the first section, or the quoted (">") block that
// follows such a label, or the first quoted block of a Markdown file. end is
// the line after it.
func (d *doc) abstract(from int) (text string, end int, ok bool) {
	limit := min(len(d.lines), from+200)
	for i := from; i < limit; i++ {
		if d.fence[i] {
			continue
		}
		inline, styled, ok := abstractLabel(d.trimmed[i])
		if !ok {
			continue
		}
		if d.md {
			// A label over a quoted block, perhaps with a note between them.
			for j := i + 1; j < min(len(d.lines), i+6) && d.mdLevel(j) == 0; j++ {
				if strings.HasPrefix(d.trimmed[j], ">") {
					text, end := d.quote(j)
					return text, end, text != ""
				}
			}
		}
		if styled && inline != "" && utf8.RuneCountInString(inline) < 40 || sourceNote(inline) {
			inline = "" // a note on the label, not the abstract
		}
		text, end := d.collect(i+1, inline)
		if text != "" {
			return text, end, true
		}
	}
	// A Markdown summary file: the first quoted block.
	for i := from; d.md && i < min(len(d.lines), from+80); i++ {
		if !d.fence[i] && strings.HasPrefix(d.trimmed[i], ">") {
			text, end := d.quote(i)
			if utf8.RuneCountInString(text) >= 100 {
				return text, end, true
			}
			i = end
		}
	}
	return "", from, false
}

// quote returns the Markdown block quote starting at line i, as one
// paragraph per quoted paragraph.
func (d *doc) quote(i int) (string, int) {
	var paras []string
	var cur []string
	j := i
	for ; j < len(d.lines) && strings.HasPrefix(d.trimmed[j], ">"); j++ {
		t := strings.TrimSpace(strings.TrimLeft(d.trimmed[j], ">"))
		if t == "" {
			paras = appendPara(paras, cur)
			cur = nil
			continue
		}
		cur = append(cur, t)
	}
	paras = appendPara(paras, cur)
	return strings.Join(paras, "\n\n"), j
}

func appendPara(paras, lines []string) []string {
	if s := reflow(lines); s != "" {
		paras = append(paras, s)
	}
	return paras
}

// maxAbstract bounds an abstract found by its label.
const maxAbstract = 6000

// collect gathers an abstract's lines from line i on, until the keywords, a
// section heading, a fourth paragraph or maxAbstract characters.
func (d *doc) collect(i int, first string) (string, int) {
	var paras []string
	var cur []string
	if first != "" {
		cur = append(cur, first)
	}
	size := len(first)
	j := i
	for ; j < len(d.lines); j++ {
		t := d.trimmed[j]
		if t == "" {
			if len(cur) > 0 {
				paras = appendPara(paras, cur)
				cur = nil
				if len(paras) == 4 {
					break
				}
			}
			continue
		}
		if keywordsRe.MatchString(t) || startsBody(t) || d.fence[j] || size > maxAbstract {
			break
		}
		if len(paras) == 0 && len(cur) == 0 && sourceNote(t) {
			continue // "source: https://…" under the label: where it came from
		}
		cur = append(cur, t)
		size += len(t)
	}
	paras = appendPara(paras, cur)
	return strings.Join(paras, "\n\n"), j
}

// bodyStart returns the first line of running text after the front matter
// that starts on line from: two long lines in a row, or one very long one.
func (d *doc) bodyStart(from int) int {
	for i := from; i < len(d.lines); i++ {
		n := utf8.RuneCountInString(d.trimmed[i])
		if n < 50 || d.fence[i] || d.mdLevel(i) > 0 {
			continue
		}
		if n >= 100 {
			return i
		}
		if i+1 < len(d.lines) && utf8.RuneCountInString(d.trimmed[i+1]) >= 50 {
			return i
		}
	}
	return from
}

// maxLead bounds an abstract made of a paper's first paragraphs.
const maxLead = 1500

// leadParagraph stands in for a missing abstract: the running text from
// line from up to the first heading, cut at a sentence end after maxLead
// characters.
func (d *doc) leadParagraph(from int, hs []heading) string {
	end := len(d.lines)
	for _, h := range hs {
		if h.at >= from {
			end = h.at
			break
		}
	}
	var lines []string
	size := 0
	for j := from; j < end && size < maxLead; j++ {
		t := d.trimmed[j]
		if t == "" {
			if d.paras && size > 0 {
				break
			}
			continue
		}
		if d.fence[j] {
			break
		}
		lines = append(lines, t)
		size += len(t)
	}
	s := reflow(lines)
	if len(s) > maxLead {
		if k := strings.Index(s[maxLead:], ". "); k >= 0 {
			s = s[:maxLead+k+1]
		}
	}
	return s
}

// reflow joins wrapped lines into one paragraph. A line ending in a hyphen
// joins the next without a space.
func reflow(lines []string) string {
	var b strings.Builder
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			s := b.String()
			if !(strings.HasSuffix(s, "-") && len(s) > 1 && unicode.IsLetter(rune(s[len(s)-2]))) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(l)
	}
	return collapse(b.String())
}
