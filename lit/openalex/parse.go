package openalex

import (
	"encoding/json"
	"strings"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/lit/online"
)

// worksResponse is the body of GET /works.
type worksResponse struct {
	Meta struct {
		Count int `json:"count"`
	} `json:"meta"`
	Results []work `json:"results"`
}

// work holds the fields selected; any may be null.
type work struct {
	ID          string `json:"id"` // https://openalex.org/W…
	Title       string `json:"title"`
	Year        int    `json:"publication_year"`
	DOI         string `json:"doi"` // https://doi.org/10.…
	Authorships []struct {
		Author struct {
			DisplayName string `json:"display_name"`
		} `json:"author"`
	} `json:"authorships"`
	// AbstractInvertedIndex maps each word of the abstract to its
	// positions: OpenAlex may not give the abstract as text.
	AbstractInvertedIndex map[string][]int `json:"abstract_inverted_index"`
	PrimaryLocation       *struct {
		LandingPageURL string `json:"landing_page_url"`
	} `json:"primary_location"`
}

// parse reads a works answer, leaving out works without a title.
func parse(body []byte) ([]lit.Work, error) {
	var resp worksResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	works := make([]lit.Work, 0, len(resp.Results))
	for _, r := range resp.Results {
		if r.Title == "" {
			continue
		}
		w := lit.Work{
			ID:       strings.TrimPrefix(r.ID, "https://openalex.org/"),
			Source:   Name,
			Title:    online.Collapse(r.Title),
			Abstract: abstract(r.AbstractInvertedIndex),
			Year:     r.Year,
			URL:      workURL(r),
		}
		for _, a := range r.Authorships {
			if a.Author.DisplayName != "" {
				w.Authors = append(w.Authors, a.Author.DisplayName)
			}
		}
		works = append(works, w)
	}
	return works, nil
}

// workURL is the work's DOI, else its landing page, else its OpenAlex page.
func workURL(r work) string {
	switch {
	case r.DOI != "":
		return r.DOI
	case r.PrimaryLocation != nil && r.PrimaryLocation.LandingPageURL != "":
		return r.PrimaryLocation.LandingPageURL
	}
	return r.ID
}

// maxAbstractWords bounds the abstract rebuilt from an inverted index, so
// that a bad position cannot make a huge allocation.
const maxAbstractWords = 20000

// abstract rebuilds the text from an inverted index: each word is put at
// its positions, in order. Positions no word claims are skipped.
func abstract(inv map[string][]int) string {
	last := -1
	for _, positions := range inv {
		for _, p := range positions {
			if p < maxAbstractWords {
				last = max(last, p)
			}
		}
	}
	if last < 0 {
		return ""
	}
	words := make([]string, last+1)
	for word, positions := range inv {
		for _, p := range positions {
			if p >= 0 && p <= last {
				words[p] = word
			}
		}
	}
	return online.Collapse(strings.Join(words, " "))
}
