package online

import (
	"regexp"
	"strings"
	"unicode"

	"github.com/mlrc/mlrc/lit"
)

var (
	// arXiv identifiers: 2106.09685 (since 2007) and hep-th/9901001 (before),
	// each with an optional version.
	arxivID = regexp.MustCompile(`^(\d{4}\.\d{4,5}|[a-z][a-z-]*(\.[A-Z]{2})?/\d{7})(v\d+)?$`)
	// arXiv's own DOIs: 10.48550/arXiv.2106.09685.
	arxivDOI = regexp.MustCompile(`(?i)^(?:https?://(?:dx\.)?doi\.org/)?10\.48550/arxiv\.(.+)$`)
)

// ArXivID returns the arXiv identifier in s without its version, or "" if
// s is not one. s may be a bare id ("2106.09685v2"), an abs or pdf URL, or
// arXiv's DOI for the paper.
func ArXivID(s string) string {
	s = strings.TrimSpace(s)
	for _, marker := range []string{"arxiv.org/abs/", "arxiv.org/pdf/"} {
		if i := strings.Index(s, marker); i >= 0 {
			s = strings.TrimSuffix(s[i+len(marker):], ".pdf")
			break
		}
	}
	if m := arxivDOI.FindStringSubmatch(s); m != nil {
		s = m[1]
	}
	m := arxivID.FindStringSubmatch(s)
	if m == nil {
		return ""
	}
	return m[1]
}

// doiOf returns the DOI in s, a bare DOI or a doi.org URL, in lower case;
// "" if there is none.
func doiOf(s string) string {
	if i := strings.Index(s, "doi.org/"); i >= 0 {
		s = s[i+len("doi.org/"):]
	}
	if !strings.HasPrefix(s, "10.") {
		return ""
	}
	return strings.ToLower(s)
}

// NormalizeTitle folds a title for comparison: lower case, letters and
// digits only, single spaces.
func NormalizeTitle(t string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(t) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// minTitleKey is the shortest normalized title trusted to identify a work;
// shorter ones ("introduction") are too common.
const minTitleKey = 12

// identities returns the keys under which w is recognised when merging:
// its arXiv id, its DOI and its normalized title, those it has.
func identities(w lit.Work) []string {
	var keys []string
	arxiv := ArXivID(w.ID)
	if arxiv == "" {
		arxiv = ArXivID(w.URL)
	}
	if arxiv != "" {
		keys = append(keys, "arxiv:"+arxiv)
	}
	if doi := doiOf(w.URL); doi != "" && ArXivID(doi) == "" {
		keys = append(keys, "doi:"+doi)
	}
	if t := NormalizeTitle(w.Title); len(t) >= minTitleKey {
		keys = append(keys, "title:"+t)
	}
	return keys
}
