package semanticscholar

import (
	"encoding/json"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// searchResponse is the body of GET /paper/search. With no results, data
// is absent.
type searchResponse struct {
	Total int     `json:"total"`
	Data  []paper `json:"data"`
}

// paper holds the fields asked for; abstract and year may be null.
type paper struct {
	PaperID  string `json:"paperId"`
	Title    string `json:"title"`
	Abstract string `json:"abstract"`
	Year     int    `json:"year"`
	URL      string `json:"url"`
	Authors  []struct {
		Name string `json:"name"`
	} `json:"authors"`
	// ExternalIDs maps a scheme to an id; CorpusId is a number, the rest
	// are strings.
	ExternalIDs struct {
		ArXiv string `json:"ArXiv"`
		DOI   string `json:"DOI"`
	} `json:"externalIds"`
}

// parse reads a search answer into works, leaving out papers without a
// title.
func parse(body []byte) ([]lit.Work, error) {
	var resp searchResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	works := make([]lit.Work, 0, len(resp.Data))
	for _, p := range resp.Data {
		if p.Title == "" {
			continue
		}
		w := lit.Work{
			ID:       p.PaperID,
			Source:   Name,
			Title:    online.Collapse(p.Title),
			Abstract: online.Collapse(p.Abstract),
			Year:     p.Year,
			URL:      paperURL(p),
		}
		for _, a := range p.Authors {
			if a.Name != "" {
				w.Authors = append(w.Authors, a.Name)
			}
		}
		works = append(works, w)
	}
	return works, nil
}

// paperURL is where to read the paper: arXiv when it is there (the id
// travels in the URL), else its DOI, else its Semantic Scholar page.
func paperURL(p paper) string {
	switch {
	case p.ExternalIDs.ArXiv != "":
		return "https://arxiv.org/abs/" + p.ExternalIDs.ArXiv
	case p.ExternalIDs.DOI != "":
		return "https://doi.org/" + p.ExternalIDs.DOI
	case p.URL != "":
		return p.URL
	}
	return "https://www.semanticscholar.org/paper/" + p.PaperID
}
