package paper

import "errors"

// Errors a caller may branch on with errors.Is. Each says what to do next;
// Load wraps them with the file or id concerned.
var (
	ErrEmpty         = errors.New("the file is empty: pass the paper's PDF or a text version with --paper FILE")
	ErrNotPDF        = errors.New("the file is not a PDF (no %PDF- header): pass a PDF, or a text version with --paper FILE.txt")
	ErrNotPaper      = errors.New("the file is neither a PDF nor UTF-8 text: pass the paper's PDF, or a text version with --paper FILE.txt")
	ErrUnreadablePDF = errors.New("the PDF cannot be read (damaged or encrypted?): pass a text version with --paper FILE.txt")
	ErrNoTextLayer   = errors.New("the PDF has no text layer (scanned?): pass a text version with --paper FILE.txt")

	// ErrArxivUnreachable: offline, a network failure, a timeout or an
	// error status from the arXiv API.
	ErrArxivUnreachable = errors.New("cannot reach arXiv")
	// ErrArxivNotFound: arXiv answered but has no such paper.
	ErrArxivNotFound = errors.New("arXiv has no such paper")
)
