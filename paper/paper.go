// Package paper ingests the papers a research run starts from: a PDF, a
// plain-text or Markdown file, or an arXiv id or URL becomes a Paper with a
// title, an abstract, authors, sections and references.
//
// PDF text comes from PDFium compiled to WebAssembly (no cgo), with poppler's
// pdftotext as a fallback when it is installed. Structure is found by
// heuristics shared by every kind of input (structure.go); arXiv papers come
// from the arXiv API as title, abstract and authors (arxiv.go).
//
// Reading a PDF starts a PDFium pool once per process; call Close before the
// program exits.
package paper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Paper is one paper as text and structure.
type Paper struct {
	ID         string    `json:"id"`     // "arxiv:2408.14033" or the file's base name
	Source     string    `json:"source"` // the path or URL it came from
	Title      string    `json:"title"`
	Abstract   string    `json:"abstract"`
	Authors    []string  `json:"authors,omitempty"`
	Sections   []Section `json:"sections,omitempty"`
	References []string  `json:"references,omitempty"` // one entry each, when a references section was found
	Text       string    `json:"text"`                 // the whole extracted text
	// Format is where the text came from: FormatPDF (extracted line by
	// line, columns and all), FormatText (plain text or Markdown, as
	// written) or FormatArxiv (title and abstract from the arXiv API).
	Format string `json:"format,omitempty"`
}

// Formats of a Paper's text.
const (
	FormatPDF   = "pdf"
	FormatText  = "text"
	FormatArxiv = "arxiv"
)

// Section is a part of a paper under one heading.
type Section struct {
	// Name is normalized where recognizable ("introduction", "related work",
	// "method", "experiments", "results", "discussion", "conclusion",
	// "references", …); otherwise the heading as printed, without its number.
	Name    string `json:"name"`
	Heading string `json:"heading"` // as printed, with its number: "3.1. Support vector machine"
	Level   int    `json:"level"`   // 1 for a section, 2 for a subsection, …
	Text    string `json:"text"`
}

// Section returns the first section with the given normalized name, or nil.
func (p *Paper) Section(name string) *Section {
	for i := range p.Sections {
		if p.Sections[i].Name == name {
			return &p.Sections[i]
		}
	}
	return nil
}

// Options configure Load. The zero value works.
type Options struct {
	HTTPClient *http.Client  // for arXiv; nil means a plain client
	ArxivAPI   string        // default DefaultArxivAPI
	Offline    bool          // never use the network: arXiv specs fail with ErrArxivUnreachable
	Timeout    time.Duration // bound on each arXiv request; default 30 s
}

// DefaultArxivAPI is the arXiv query endpoint.
const DefaultArxivAPI = "https://export.arxiv.org/api/query"

// maxFileSize bounds what Load reads from one file.
const maxFileSize = 256 << 20

// Load reads one paper. spec is a PDF path, a .txt or .md path, an arXiv id
// ("2408.14033", "arXiv:2408.14033v2") or an arXiv abs/ or pdf/ URL. A path
// that exists wins over an arXiv id of the same spelling.
func Load(ctx context.Context, spec string, opt Options) (*Paper, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, errors.New("empty paper spec: pass a PDF, a text file or an arXiv id")
	}
	if fi, err := os.Stat(spec); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("%s is a directory: pass the paper's PDF or text file", spec)
		}
		return loadFile(ctx, spec, fi.Size())
	}
	if id, ok := ParseArxivID(spec); ok {
		return fetchArxiv(ctx, id, opt)
	}
	if strings.HasPrefix(spec, "http://") || strings.HasPrefix(spec, "https://") {
		return nil, fmt.Errorf("%s: only arXiv URLs are fetched: download the paper and pass it with --paper FILE", spec)
	}
	return nil, fmt.Errorf("%s: no such file, and not an arXiv id or URL", spec)
}

// LoadAll loads every spec in order. It tries them all and, when any fails,
// returns an error naming each one that failed.
func LoadAll(ctx context.Context, specs []string, opt Options) ([]*Paper, error) {
	papers := make([]*Paper, 0, len(specs))
	var errs []error
	for i, spec := range specs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p, err := Load(ctx, spec, opt)
		if err != nil {
			errs = append(errs, fmt.Errorf("paper %d of %d (%s): %w", i+1, len(specs), spec, err))
			continue
		}
		papers = append(papers, p)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return papers, nil
}

// FromText parses a paper's plain text or Markdown.
func FromText(id, text string) (*Paper, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("%s: %w", id, ErrEmpty)
	}
	p := parse(splitLines(text), "", true)
	p.ID = id
	p.Text = text
	p.Format = FormatText
	return p, nil
}

func loadFile(ctx context.Context, path string, size int64) (*Paper, error) {
	if size > maxFileSize {
		return nil, fmt.Errorf("%s: %d bytes is more than a paper (limit %d)", path, size, maxFileSize)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read paper: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, fmt.Errorf("%s: %w", path, ErrEmpty)
	}
	ext := strings.ToLower(filepath.Ext(path))
	isPDF := ext == ".pdf" || strings.HasPrefix(string(data), "%PDF-")
	var p *Paper
	switch {
	case isPDF:
		t, err := readPDF(ctx, path, data)
		if err != nil {
			return nil, err
		}
		lines := cleanPages(t.Pages)
		p = parse(lines, t.Title, false)
		p.Text = strings.Join(lines, "\n")
		p.Format = FormatPDF
	case utf8.Valid(data) && !strings.ContainsRune(string(data), 0):
		p, err = FromText(path, string(data))
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: %w", path, ErrNotPaper)
	}
	p.ID = filepath.Base(path)
	p.Source = path
	return p, nil
}
