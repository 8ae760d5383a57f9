package idea

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// How the papers are fitted into the model's context.
//
// Every paper gets an equal share of the papers' budget; a paper that needs
// less gives the rest to the others. A Markdown or text paper that fits its
// share is sent whole, as written. Otherwise the paper is sent as its
// abstract and its sections, chosen by priority: the method, experiments
// and results sections and any section holding a table of results first,
// then the others (introduction, discussion, sections with names of their
// own), the references and appendices last. A section that does not fit
// whole is cut to the blocks that fit, tables kept first; a section with no
// room left is left out. Each cut is named in the prompt, so the model
// knows what it did not read.

// CharsPerToken estimates tokens from characters where no tokenizer is at
// hand: about four characters a token for English prose.
const CharsPerToken = 4

// DefaultPaperTokens is the papers' budget when Config.PaperTokens is 0:
// half of a 32k-token context window, which local models commonly offer.
const DefaultPaperTokens = 16384

// PaperTokens is the share of a context window of window tokens given to
// the papers when the elements are extracted: half of it, less the room the
// answer needs (maxAnswer tokens) and the prompt around the papers.
func PaperTokens(window, maxAnswer int) int {
	if window <= 0 {
		return DefaultPaperTokens
	}
	return max(2000, window/2-maxAnswer/2-1000)
}

// paperView is a paper as the elements prompt shows it.
type paperView struct {
	ID, Title, Abstract string
	// Whole is the paper's full text, when it is sent as written.
	Whole    string
	Sections []Section
	// Cut says what was shortened or left out, one entry each; empty when
	// the paper is sent in full.
	Cut []string
}

// readPapers fits the papers into budget characters.
func readPapers(papers []Paper, budget int) []paperView {
	views := make([]paperView, len(papers))
	// Smallest first, so that a short paper's unused share goes to the
	// longer ones.
	order := make([]int, len(papers))
	for i := range order {
		order[i] = i
	}
	size := func(p Paper) int {
		if p.Text != "" {
			return len(p.Text)
		}
		n := len(p.Abstract)
		for _, s := range p.Sections {
			n += len(s.Name) + len(s.Text)
		}
		return n
	}
	slices.SortStableFunc(order, func(a, b int) int { return size(papers[a]) - size(papers[b]) })
	left := budget
	for k, i := range order {
		share := left / (len(order) - k)
		views[i] = readPaper(papers[i], share)
		left -= views[i].size()
	}
	return views
}

func (v paperView) size() int {
	n := len(v.Abstract) + len(v.Whole)
	for _, s := range v.Sections {
		n += len(s.Name) + len(s.Text) + 8
	}
	return n
}

// maxAbstractChars bounds the abstract, which is always sent.
const maxAbstractChars = 4000

// readPaper fits one paper into budget characters.
func readPaper(p Paper, budget int) paperView {
	v := paperView{ID: p.ID, Title: p.Title}
	text := strings.TrimSpace(p.Text)
	if text != "" && !p.PDF && len(text) <= budget {
		v.Whole = text
		return v
	}
	v.Abstract = clip(p.Abstract, min(maxAbstractChars, max(budget/4, 500)))
	if len(v.Abstract) < len(strings.TrimSpace(p.Abstract)) {
		v.Cut = append(v.Cut, fmt.Sprintf("the abstract was cut to its first %d characters", len(v.Abstract)))
	}
	left := budget - len(v.Abstract)
	secs := p.Sections
	if len(secs) == 0 && text != "" {
		// No structure was found: the text is one section.
		secs = []Section{{Name: "full text", Text: text}}
	}
	// Decide each section's share in priority order, then show them in the
	// paper's order.
	chosen := make([]string, len(secs))
	idx := make([]int, len(secs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return priority(secs[a]) - priority(secs[b]) })
	var omitted []string
	for _, i := range idx {
		s := secs[i]
		body := strings.TrimSpace(s.Text)
		need := len(s.Name) + 8
		switch {
		case body == "":
			continue
		case len(body)+need <= left:
			chosen[i] = body
		case left-need >= 400:
			chosen[i] = fit(body, left-need)
			v.Cut = append(v.Cut, fmt.Sprintf("section %q was cut to %d of its %d characters (tables kept first)", s.Name, len(chosen[i]), len(body)))
		default:
			omitted = append(omitted, s.Name)
			continue
		}
		left -= len(chosen[i]) + need
	}
	for i, s := range secs {
		if chosen[i] != "" {
			v.Sections = append(v.Sections, Section{Name: s.Name, Text: chosen[i]})
		}
	}
	if len(omitted) > 0 {
		v.Cut = append(v.Cut, fmt.Sprintf("left out for lack of room: %s", quoteAll(omitted)))
	}
	return v
}

func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

var (
	coreSectionRe  = regexp.MustCompile(`(?i)method|approach|model|algorithm|experiment|evaluation|result|benchmark|ablation|empirical|performance|comparison|setup|dataset|data\b`)
	lastSectionRe  = regexp.MustCompile(`(?i)^(references|bibliography|acknowledg|appendix|supplementary|funding|author|ethic|declaration|computational details|session info)`)
	tableCaptionRe = regexp.MustCompile(`(?i)^\s*(\*\*)?table\s+[0-9IVX]+[.:]?`)
)

// priority orders sections for the budget: 0 first.
func priority(s Section) int {
	switch {
	case lastSectionRe.MatchString(strings.TrimSpace(s.Name)):
		return 3
	case coreSectionRe.MatchString(s.Name) || hasTable(s.Text):
		return 0
	case strings.Contains(strings.ToLower(s.Name), "intro") || strings.Contains(strings.ToLower(s.Name), "conclusion"):
		return 1
	}
	return 2
}

// hasTable reports whether text holds a table of results: a caption
// ("Table 2: …"), a Markdown table, or rows of numbers.
func hasTable(text string) bool {
	numeric := 0
	for _, l := range strings.Split(text, "\n") {
		if tableCaptionRe.MatchString(l) || strings.Count(l, "|") >= 3 {
			return true
		}
		if numericRow(l) {
			numeric++
			if numeric >= 3 {
				return true
			}
		} else {
			numeric = 0
		}
	}
	return false
}

// numericRow reports whether a line is mostly numbers, as a row of a table
// is: three numbers or more and more numbers than words.
func numericRow(l string) bool {
	nums, words := 0, 0
	for _, f := range strings.Fields(l) {
		f = strings.Trim(f, "()[],;%±*")
		if f == "" {
			continue
		}
		if strings.IndexFunc(f, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' && r != '-' && r != 'e' }) < 0 && strings.ContainsFunc(f, unicode.IsDigit) {
			nums++
		} else {
			words++
		}
	}
	return nums >= 3 && nums > words
}

// fit cuts a section's text to n characters: its blocks (paragraphs, or
// runs of lines in PDF text) in order, tables first, the blocks left out
// marked "[…]".
func fit(text string, n int) string {
	blocks := splitBlocks(text)
	keep := make([]bool, len(blocks))
	used := 0
	for _, tables := range []bool{true, false} {
		for i, b := range blocks {
			if keep[i] || hasTable(b) != tables || used+len(b)+2 > n {
				continue
			}
			keep[i] = true
			used += len(b) + 2
		}
	}
	var out []string
	gap := false
	for i, b := range blocks {
		if keep[i] {
			out = append(out, b)
			gap = false
		} else if !gap {
			out = append(out, "[…]")
			gap = true
		}
	}
	if used == 0 {
		return clip(text, n)
	}
	return strings.Join(out, "\n\n")
}

// maxBlock bounds a block of text that has no blank lines.
const maxBlock = 1200

// splitBlocks splits text at blank lines, a table caption starting a block,
// and into pieces of at most maxBlock characters at line ends.
func splitBlocks(text string) []string {
	var blocks []string
	var cur []string
	size := 0
	flush := func() {
		if b := strings.TrimSpace(strings.Join(cur, "\n")); b != "" {
			blocks = append(blocks, b)
		}
		cur, size = nil, 0
	}
	inTable := false
	for _, l := range strings.Split(text, "\n") {
		t := strings.TrimSpace(l)
		row := numericRow(t) || strings.Count(t, "|") >= 3
		switch {
		case t == "":
			flush()
			inTable = false
			continue
		case tableCaptionRe.MatchString(t):
			flush()
			inTable = true
		case inTable && !row && size > 0 && len(cur) > 1:
			// The table ended: prose follows.
			flush()
			inTable = false
		case !inTable && size+len(l) > maxBlock:
			flush()
		}
		cur = append(cur, l)
		size += len(l) + 1
	}
	flush()
	return blocks
}
