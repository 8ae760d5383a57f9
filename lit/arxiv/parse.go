package arxiv

import (
	"bytes"
	"encoding/xml"
	"strings"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// errorIDPrefix starts the id of the one entry of an error feed.
const errorIDPrefix = "http://arxiv.org/api/errors"

// feed is the Atom feed the API answers with, errors included.
type feed struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	Entries []entry  `xml:"http://www.w3.org/2005/Atom entry"`
}

type entry struct {
	ID        string `xml:"http://www.w3.org/2005/Atom id"` // http://arxiv.org/abs/2106.09685v2
	Title     string `xml:"http://www.w3.org/2005/Atom title"`
	Summary   string `xml:"http://www.w3.org/2005/Atom summary"`
	Published string `xml:"http://www.w3.org/2005/Atom published"` // 2021-06-17T17:37:18Z
	Authors   []struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
	PrimaryCategory struct {
		Term string `xml:"term,attr"`
	} `xml:"http://arxiv.org/schemas/atom primary_category"`
	Categories []struct {
		Term string `xml:"term,attr"`
	} `xml:"http://www.w3.org/2005/Atom category"`
}

// parse reads a feed into works. An error feed gives its message instead.
func parse(body []byte) (works []lit.Work, errMsg string, err error) {
	var f feed
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&f); err != nil {
		return nil, "", err
	}
	for _, e := range f.Entries {
		if strings.HasPrefix(e.ID, errorIDPrefix) {
			return nil, online.Collapse(e.Summary), nil
		}
		id := online.ArXivID(e.ID)
		if id == "" {
			id = strings.TrimPrefix(strings.TrimSpace(e.ID), "http://arxiv.org/abs/")
		}
		title := online.Collapse(e.Title)
		if id == "" || title == "" {
			continue
		}
		w := lit.Work{
			ID:       id,
			Source:   Name,
			Title:    title,
			Abstract: online.Collapse(e.Summary),
			Year:     year(e.Published),
			URL:      "https://arxiv.org/abs/" + id,
		}
		for _, a := range e.Authors {
			if name := online.Collapse(a.Name); name != "" {
				w.Authors = append(w.Authors, name)
			}
		}
		w.Categories = categories(e)
		works = append(works, w)
	}
	return works, "", nil
}

// year is the year of an RFC 3339 date, 0 if there is none.
func year(date string) int {
	date = strings.TrimSpace(date)
	if len(date) < 4 {
		return 0
	}
	y := 0
	for _, r := range date[:4] {
		if r < '0' || r > '9' {
			return 0
		}
		y = y*10 + int(r-'0')
	}
	return y
}

// categories lists the primary category first, then the others, once each.
func categories(e entry) []string {
	var cats []string
	seen := make(map[string]bool)
	add := func(term string) {
		if term != "" && !seen[term] {
			seen[term] = true
			cats = append(cats, term)
		}
	}
	add(e.PrimaryCategory.Term)
	for _, c := range e.Categories {
		add(c.Term)
	}
	return cats
}
