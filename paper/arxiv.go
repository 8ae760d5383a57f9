package paper

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ArxivID is an arXiv identifier: new style "2408.14033" or old style
// "hep-th/9901001", with an optional version "v2".
type ArxivID struct {
	ID      string
	Version string // "v2", or "" for the latest
}

func (a ArxivID) String() string { return a.ID + a.Version }

var (
	arxivNewRe = regexp.MustCompile(`^(\d{2})(\d{2})\.(\d{4,5})(v[1-9]\d*)?$`)
	arxivOldRe = regexp.MustCompile(`^([a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(v[1-9]\d*)?$`)
)

// ParseArxivID recognizes an arXiv id, with or without an "arXiv:" prefix,
// or an arxiv.org abs/, pdf/ or html/ URL.
func ParseArxivID(s string) (ArxivID, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		u, err := url.Parse(s)
		if err != nil {
			return ArxivID{}, false
		}
		switch strings.ToLower(u.Hostname()) {
		case "arxiv.org", "www.arxiv.org", "export.arxiv.org":
		default:
			return ArxivID{}, false
		}
		p := strings.Trim(u.Path, "/")
		found := false
		for _, kind := range []string{"abs/", "pdf/", "html/"} {
			if rest, ok := strings.CutPrefix(p, kind); ok {
				p, found = strings.TrimSuffix(rest, ".pdf"), true
				break
			}
		}
		if !found {
			return ArxivID{}, false
		}
		s = p
	} else if len(s) > 6 && strings.EqualFold(s[:6], "arxiv:") {
		s = strings.TrimSpace(s[6:])
	}
	if m := arxivNewRe.FindStringSubmatch(s); m != nil {
		yy, _ := strconv.Atoi(m[1])
		mm, _ := strconv.Atoi(m[2])
		// Four-digit numbers until 2014, five from 2015 (arXiv identifier scheme).
		if mm < 1 || mm > 12 || (yy >= 15) != (len(m[3]) == 5) {
			return ArxivID{}, false
		}
		return ArxivID{ID: m[1] + m[2] + "." + m[3], Version: m[4]}, true
	}
	if m := arxivOldRe.FindStringSubmatch(s); m != nil {
		return ArxivID{ID: m[1], Version: m[2]}, true
	}
	return ArxivID{}, false
}

// The arXiv API's Atom feed, as much of it as a Paper needs.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Entries []atomEntry `xml:"http://www.w3.org/2005/Atom entry"`
}

type atomEntry struct {
	ID      string `xml:"http://www.w3.org/2005/Atom id"`
	Title   string `xml:"http://www.w3.org/2005/Atom title"`
	Summary string `xml:"http://www.w3.org/2005/Atom summary"`
	Authors []struct {
		Name string `xml:"http://www.w3.org/2005/Atom name"`
	} `xml:"http://www.w3.org/2005/Atom author"`
}

const defaultTimeout = 30 * time.Second

// fetchArxiv asks the arXiv API for a paper's title, abstract and authors.
func fetchArxiv(ctx context.Context, id ArxivID, opt Options) (*Paper, error) {
	if opt.Offline {
		return nil, unreachable(id, errors.New("offline"))
	}
	api := opt.ArxivAPI
	if api == "" {
		api = DefaultArxivAPI
	}
	u, err := url.Parse(api)
	if err != nil {
		return nil, fmt.Errorf("arXiv API address %q: %w", api, err)
	}
	q := u.Query()
	q.Set("id_list", id.String())
	q.Set("max_results", "1")
	u.RawQuery = q.Encode()

	timeout := opt.Timeout
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("arXiv request for %s: %w", id, err)
	}
	req.Header.Set("User-Agent", "mlrc-paper/1 (paper ingestion)")
	req.Header.Set("Accept", "application/atom+xml")
	client := opt.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	resp, err := client.Do(req)
	if err == nil {
		defer resp.Body.Close()
	}
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("arXiv answered %s", resp.Status)
	}
	var feed atomFeed
	if err == nil {
		err = xml.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&feed)
		if err != nil {
			err = fmt.Errorf("the answer is not an Atom feed: %w", err)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("arXiv %s: %w", id, ctx.Err())
		}
		if rctx.Err() != nil {
			err = fmt.Errorf("no answer within %s", timeout)
		}
		return nil, unreachable(id, err)
	}
	if len(feed.Entries) == 0 {
		return nil, fmt.Errorf("%w: %s (check the id, or pass the paper's PDF or text with --paper FILE)", ErrArxivNotFound, id)
	}
	e := feed.Entries[0]
	if strings.Contains(e.ID, "/api/errors") {
		return nil, fmt.Errorf("%w: %s: arXiv says %q", ErrArxivNotFound, id, collapse(e.Summary))
	}
	p := &Paper{
		ID:       "arxiv:" + id.ID,
		Source:   "https://arxiv.org/abs/" + id.String(),
		Title:    collapse(e.Title),
		Abstract: collapse(e.Summary),
		Format:   FormatArxiv,
	}
	for _, a := range e.Authors {
		if name := collapse(a.Name); name != "" {
			p.Authors = append(p.Authors, name)
		}
	}
	if p.Title == "" {
		return nil, fmt.Errorf("%w: %s: the entry has no title", ErrArxivNotFound, id)
	}
	p.Text = p.Title + "\n\n" + p.Abstract
	return p, nil
}

func unreachable(id ArxivID, cause error) error {
	return fmt.Errorf("%w for %s: pass the paper's PDF or text with --paper FILE (%w)", ErrArxivUnreachable, id, cause)
}

// collapse joins s's words with single spaces.
func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }
