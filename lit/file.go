package lit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"
)

// abstractChars is how much of a text file becomes its work's abstract,
// titleChars the most of its first line that becomes the title.
const (
	abstractChars = 2000
	titleChars    = 300
)

// ErrNoPDF is returned by AddFile for a PDF when the index has no
// extractor (see WithPDF).
var ErrNoPDF = errors.New("this index cannot read PDFs (no extractor configured)")

// AddFile adds the works of a file:
//   - JSONL (.jsonl, .json, either gzipped; gzip is recognised by content):
//     one work a line, see AddJSONL;
//   - a PDF (.pdf or %PDF content): one work, read by the WithPDF extractor;
//   - any other text, e.g. Markdown: one work whose title is the first line
//     (without Markdown heading marks) and whose abstract is the start of
//     the text after it, about 2,000 characters.
//
// A file that is neither is an error. Works from a PDF or text file have
// the id "file:" + the file's absolute path, so adding the file again
// replaces its work.
func (ix *Index) AddFile(ctx context.Context, path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r, err := maybeGunzip(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	br := r.(*bufio.Reader)
	head, _ := br.Peek(512)
	name := strings.TrimSuffix(strings.ToLower(path), ".gz")
	ext := filepath.Ext(name)

	var n int
	switch {
	case ext == ".pdf" || bytes.HasPrefix(head, []byte("%PDF-")):
		n, err = ix.addPDF(ctx, path)
	case ext == ".jsonl" || ext == ".ndjson" || ext == ".json":
		n, err = ix.AddJSONL(ctx, br, "")
	default:
		n, err = ix.addText(ctx, path, br)
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
}

func (ix *Index) addPDF(ctx context.Context, path string) (int, error) {
	if ix.pdf == nil {
		return 0, ErrNoPDF
	}
	title, abstract, err := ix.pdf(ctx, path)
	if err != nil {
		return 0, err
	}
	if strings.TrimSpace(title) == "" {
		title = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return ix.Add(ctx, Work{ID: fileID(path), Title: collapseSpace(title), Abstract: truncate(strings.TrimSpace(abstract), abstractChars)})
}

func (ix *Index) addText(ctx context.Context, path string, r io.Reader) (int, error) {
	b, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return 0, err
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return 0, errors.New("not a JSONL, PDF or text file")
	}
	title, body := splitTitle(string(b))
	if title == "" {
		return 0, errors.New("empty file")
	}
	return ix.Add(ctx, Work{ID: fileID(path), Title: truncate(title, titleChars), Abstract: truncate(body, abstractChars)})
}

// splitTitle returns the first non-blank line of text, without Markdown
// heading marks or YAML front matter, and the text after it.
func splitTitle(text string) (title, body string) {
	text = strings.TrimPrefix(text, "\ufeff")
	if rest, ok := strings.CutPrefix(text, "---\n"); ok {
		if _, after, ok := strings.Cut(rest, "\n---\n"); ok {
			text = after
		}
	}
	for text != "" {
		line, rest, _ := strings.Cut(text, "\n")
		text = rest
		line = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(line), "#"))
		if line != "" {
			return line, strings.TrimSpace(text)
		}
	}
	return "", ""
}

// truncate cuts s to at most n bytes, at a space when one is near.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexAny(s[:cut], " \n\t"); sp > n*9/10 {
		cut = sp
	}
	return strings.TrimSpace(s[:cut])
}

func fileID(path string) string {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	return "file:" + path
}
