package paper

import (
	"regexp"
	"strings"
)

var (
	authorsLabelRe = regexp.MustCompile(`^(?:[-*+]\s+)?[*_]*(?i:authors?)[*_]*\s*:\s*[*_]*\s*(.*)$`)
	initialRe      = regexp.MustCompile(`^\p{Lu}\.(?:-?\p{Lu}\.)*$|^\p{Lu}$`)
	nameWordRe     = regexp.MustCompile(`^\p{Lu}[\p{L}\p{M}]*\p{Ll}[\p{L}\p{M}]*(?:['’-][\p{L}\p{M}]+)*$`)
	parenRe        = regexp.MustCompile(`\([^()]*\)`)
	authorSepRe    = regexp.MustCompile(`\s*(?:[,;&·` + footnoteMarks + `\d]|\s{2,}|\band\b)\s*`)
	institutionRe  = regexp.MustCompile(`(?i)universi|institu|college|school|laborator|academ|hochschule|zentrum|center|centre`)
	labelSepRe     = regexp.MustCompile(`\s*(?:[,;&]|\band\b)\s*`)
)

// particles may stand inside a name: "Christine de Kock", "Ludwig van Beethoven".
var particles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "da": true, "di": true, "du": true,
	"del": true, "della": true, "le": true, "la": true, "ten": true, "ter": true, "bin": true, "al": true, "el": true,
}

// notNameWords are capitalized words that are no part of a person's name:
// institutions and the vocabulary of titles.
var notNameWords = map[string]bool{
	"Department": true, "Lab": true, "Labs": true, "Research": true, "Project": true, "Team": true,
	"Inc": true, "Corporation": true, "Group": true, "Foundation": true, "Hospital": true, "Science": true, "Sciences": true, "Statistics": true, "Technology": true, "Abstract": true,
	"Learning": true, "Model": true, "Models": true, "Network": true, "Networks": true, "Machine": true,
	"Machines": true, "Method": true, "Methods": true, "Analysis": true, "Data": true, "System": true,
	"Systems": true, "Package": true, "Toolkit": true, "Software": true, "Language": true,
	"Languages": true, "Neural": true, "Deep": true, "Introduction": true, "Keywords": true,
}

// personName reports whether s looks like one person's name: two to four
// capitalized words or initials, ending in a surname.
func personName(s string) bool {
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 4 {
		return false
	}
	for i, w := range words {
		last := i == len(words)-1
		switch {
		case particles[w] && i > 0 && !last:
		case initialRe.MatchString(w):
			// "R Enthusiasts" is no name; "J. Smith" and "Saif M. Mohammad" are.
			if last || (i == 0 && !strings.Contains(w, ".")) {
				return false
			}
		case nameWordRe.MatchString(w) && !notNameWords[w] && !institutionRe.MatchString(w):
		default:
			return false
		}
	}
	return true
}

// authorLine returns the names on a line of a paper's front matter when
// everything on it is a name ("by David Meyer", "Ann Lee, Bo Chen and Cy
// Dee", "Ashish Vaswani∗ Noam Shazeer∗"), else nil.
func authorLine(t string) []string {
	if len(t) > 3 && strings.EqualFold(t[:3], "by ") {
		t = t[3:]
	}
	var names []string
	for _, part := range authorSepRe.Split(t, -1) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if !personName(part) {
			return nil
		}
		names = append(names, part)
	}
	return names
}

// authors finds the authors: an "Authors:" label (Markdown summaries), or
// the lines of names between the title and the abstract (lines from to to).
func (d *doc) authors(from, to int) []string {
	for i := range min(len(d.lines), 60) {
		m := authorsLabelRe.FindStringSubmatch(d.trimmed[i])
		if m == nil || d.fence[i] {
			continue
		}
		text := m[1]
		// Continuation lines are indented.
		for j := i + 1; j < len(d.lines) && d.trimmed[j] != "" && d.lines[j] != d.trimmed[j] &&
			!strings.HasPrefix(d.trimmed[j], "- ") && !strings.HasPrefix(d.trimmed[j], "* "); j++ {
			text += " " + d.trimmed[j]
		}
		for parenRe.MatchString(text) {
			text = parenRe.ReplaceAllString(text, "")
		}
		var names []string
		for _, part := range labelSepRe.Split(stripMarkup(text), -1) {
			if part = strings.Trim(part, " ."); part != "" && len(strings.Fields(part)) <= 6 {
				names = append(names, part)
			}
		}
		return names
	}
	var names []string
	for i := from; i < min(to, from+25, len(d.lines)); i++ {
		t := d.trimmed[i]
		if _, _, ok := abstractLabel(t); ok {
			break
		}
		names = append(names, authorLine(t)...)
	}
	return names
}
