package paper

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close pdfium:", err)
		code = 1
	}
	os.Exit(code)
}

// sharedPapers is ../shared/papers from the repository root, read in place.
const sharedPapers = "../../shared/papers"

func sharedPaper(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(sharedPapers, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s is absent (the shared folder sits beside the repository): %v", path, err)
	}
	return path
}

// pdfCases are the five PDFs in shared/papers and what each must yield.
var pdfCases = []struct {
	file       string
	title      string
	abstract   string   // the abstract's start
	authors    []string // some of them
	sections   []string // normalized names that must be among the sections
	minRefs    int
	runningHdr *regexp.Regexp // a running header that must not survive in Text
}{
	{
		file:     "e1071_svm_libsvm_interface_meyer.pdf",
		title:    "Support Vector Machines: The Interface to libsvm in package e1071",
		abstract: "“Hype or Hallelujah?” is the provocative title", // no Abstract heading: the lead paragraph
		authors:  []string{"David Meyer"},
		sections: []string{"Basic concept", "Usage in R", "Examples", "conclusion", "references"},
		minRefs:  5,
	},
	{
		file:       "kernlab_karatzoglou2004_jss.pdf",
		title:      "kernlab – An S4 Package for Kernel Methods in R",
		abstract:   "kernlab is an extensible package for kernel-based machine learning methods in R.",
		authors:    []string{"Alexandros Karatzoglou", "Alex Smola", "Kurt Hornik"},
		sections:   []string{"introduction", "Software review", "Kernel methods", "conclusion", "references"},
		minRefs:    30,
		runningHdr: regexp.MustCompile(`(?m)^\d+ kernlab – An S4 Package for Kernel Methods in R$`),
	},
	{
		file:       "lme4_bates2015_jss.pdf",
		title:      "Fitting Linear Mixed-Effects Models Using lme4",
		abstract:   "Maximum likelihood or restricted maximum likelihood (REML) estimates",
		authors:    []string{"Douglas Bates", "Martin Mächler", "Benjamin M. Bolker", "Steven C. Walker"},
		sections:   []string{"introduction", "Formula module", "conclusion", "acknowledgments", "references", "Modularization examples"},
		minRefs:    40,
		runningHdr: regexp.MustCompile(`(?m)^\d+ Linear Mixed Models with lme4$`),
	},
	{
		file:     "partykit_toolkit_recursive_partytioning_zeileis.pdf",
		title:    "partykit: A Toolkit for Recursive Partytioning",
		abstract: "The partykit package provides a flexible toolkit",
		authors:  []string{"Achim Zeileis", "Torsten Hothorn"},
		sections: []string{"Overview", "Motivating example", "Technical details", "conclusion", "references"},
		minRefs:  12,
	},
	{
		file:       "rcpp_eddelbuettel2011_jss.pdf",
		title:      "Rcpp: Seamless R and C++ Integration",
		abstract:   "The Rcpp package simplifies integrating C++ code with R.",
		authors:    []string{"Dirk Eddelbuettel", "Romain François"},
		sections:   []string{"introduction", "related work", "The Rcpp API", "conclusion", "references"},
		minRefs:    30,
		runningHdr: regexp.MustCompile(`(?m)^\d+ Rcpp: Seamless R and C\+\+ Integration$`),
	},
}

// checkPDFPaper asserts what every PDF case must yield.
func checkPDFPaper(t *testing.T, p *Paper, file, title, abstract string, authors, sections []string, minRefs int) {
	t.Helper()
	if p.Title != title {
		t.Errorf("Title = %q, want %q", p.Title, title)
	}
	if !strings.HasPrefix(p.Abstract, abstract) {
		t.Errorf("Abstract starts %.80q, want %q", p.Abstract, abstract)
	}
	if n := len(p.Abstract); n < 300 || n > 2500 {
		t.Errorf("Abstract is %d bytes; an abstract is 300 to 2500", n)
	}
	for _, bad := range []string{"Keywords", "Introduction", "\n"} {
		if strings.Contains(p.Abstract, bad) {
			t.Errorf("Abstract runs on or is not reflowed: holds %q", bad)
		}
	}
	for _, a := range authors {
		if !slices.Contains(p.Authors, a) {
			t.Errorf("Authors = %q, missing %q", p.Authors, a)
		}
	}
	for _, a := range p.Authors {
		if !personName(a) {
			t.Errorf("author %q is not a name", a)
		}
	}
	if len(p.Sections) < 3 {
		t.Errorf("%d sections, want at least 3", len(p.Sections))
	}
	var names []string
	for _, s := range p.Sections {
		names = append(names, s.Name)
	}
	for _, want := range sections {
		if !slices.Contains(names, want) {
			t.Errorf("sections %q lack %q", names, want)
		}
	}
	if len(p.References) < minRefs {
		t.Errorf("%d references, want at least %d", len(p.References), minRefs)
	}
	for _, r := range p.References {
		if !refYearRe.MatchString(r) {
			t.Errorf("reference without a year (split wrongly?): %q", r)
		}
		if n := len(refYearRe.FindAllString(r, -1)); n > 3 {
			t.Errorf("reference with %d years (two merged?): %q", n, r)
		}
	}
	if p.ID != file || !strings.HasSuffix(p.Source, file) {
		t.Errorf("ID, Source = %q, %q; want the file's name and path", p.ID, p.Source)
	}
}

func logPaper(t *testing.T, p *Paper) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n  title:    %s\n  authors:  %s\n  abstract: %.150s… (%d bytes)\n  sections:",
		p.ID, p.Title, strings.Join(p.Authors, "; "), p.Abstract, len(p.Abstract))
	for _, s := range p.Sections {
		fmt.Fprintf(&b, "\n    %s%s → %q (%d bytes)", strings.Repeat("  ", s.Level-1), s.Heading, s.Name, len(s.Text))
	}
	fmt.Fprintf(&b, "\n  references: %d", len(p.References))
	if len(p.References) > 0 {
		fmt.Fprintf(&b, ", first: %.100s", p.References[0])
	}
	t.Log(b.String())
}

func TestLoadPDF(t *testing.T) {
	for _, tc := range pdfCases {
		t.Run(strings.TrimSuffix(tc.file, ".pdf"), func(t *testing.T) {
			p, err := Load(context.Background(), sharedPaper(t, tc.file), Options{Offline: true})
			if err != nil {
				t.Fatal(err)
			}
			logPaper(t, p)
			checkPDFPaper(t, p, tc.file, tc.title, tc.abstract, tc.authors, tc.sections, tc.minRefs)
			if tc.runningHdr != nil && tc.runningHdr.MatchString(p.Text) {
				t.Errorf("running header %q survived in Text", tc.runningHdr.FindString(p.Text))
			}
		})
	}
	st := PDFiumStats()
	if !st.Started {
		t.Skip("no PDF was read")
	}
	t.Logf("pdfium webassembly: init %v (compiled module from cache: %v, %s), RSS %d MiB after start (+%d MiB)",
		st.Init, st.Cached, st.CacheDir, st.RSS>>20, st.RSSGrew>>20)
}

// TestPdftotextFallback reads the same PDFs the way Load does when PDFium
// fails: with poppler's pdftotext -layout.
func TestPdftotextFallback(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed (Debian: poppler-utils); the fallback is optional")
	}
	for _, tc := range pdfCases {
		t.Run(strings.TrimSuffix(tc.file, ".pdf"), func(t *testing.T) {
			path := sharedPaper(t, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			pt, err := pdftotext(context.Background(), data)
			if err != nil {
				t.Fatal(err)
			}
			p := parse(cleanPages(pt.Pages), "", false)
			p.ID, p.Source = tc.file, path
			logPaper(t, p)
			// Layout mode sets multi-column author blocks side by side and
			// keeps line-end hyphens: check the rest.
			checkPDFPaper(t, p, tc.file, tc.title, tc.abstract[:30], nil, tc.sections, tc.minRefs)
		})
	}
}

func TestLoadMarkdown(t *testing.T) {
	for _, tc := range []struct {
		file, title, abstract string
		authors               []string
	}{
		{
			file:     "semrel_paper.md",
			title:    "SemRel / SemEval-2024 Task 1 (Semantic Textual Relatedness): task papers",
			abstract: "Exploring and quantifying semantic relatedness is central to representing language and holds",
			authors:  []string{"Nedjma Ousidhoum", "Christine De Kock", "Saif M. Mohammad"},
		},
		{
			file:     "fashion_mnist.md",
			title:    "Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine Learning Algorithms",
			abstract: "We present Fashion-MNIST, a new dataset comprising of 28x28 grayscale images",
			authors:  []string{"Han Xiao", "Kashif Rasul", "Roland Vollgraf"},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			p, err := Load(context.Background(), sharedPaper(t, tc.file), Options{Offline: true})
			if err != nil {
				t.Fatal(err)
			}
			logPaper(t, p)
			if p.Title != tc.title {
				t.Errorf("Title = %q, want %q", p.Title, tc.title)
			}
			if !strings.HasPrefix(p.Abstract, tc.abstract) {
				t.Errorf("Abstract starts %.80q, want %q", p.Abstract, tc.abstract)
			}
			if strings.Contains(p.Abstract, ">") || strings.Contains(p.Abstract, "source:") {
				t.Errorf("Abstract holds markup or the source note: %q", p.Abstract)
			}
			for _, a := range tc.authors {
				if !slices.Contains(p.Authors, a) {
					t.Errorf("Authors = %q, missing %q", p.Authors, a)
				}
			}
			if p.ID != tc.file {
				t.Errorf("ID = %q, want %q", p.ID, tc.file)
			}
		})
	}
}

// blankPDF is a valid one-page PDF that draws a rectangle and has no text.
func blankPDF() []byte {
	content := "0 0 1 rg 72 72 200 100 re f"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(i * 7)
	}
	cases := []struct {
		name, path string
		want       error  // nil: only the message is checked
		says       string // the error must say this
	}{
		{"empty pdf", write("empty.pdf", nil), ErrEmpty, "the file is empty"},
		{"empty text", write("empty.txt", []byte(" \n\n\t\n")), ErrEmpty, "--paper FILE"},
		{"not a pdf", write("notes.pdf", []byte("These are notes, not a PDF.\n")), ErrNotPDF, "not a PDF"},
		{"binary", write("blob.bin", garbage), ErrNotPaper, "neither a PDF nor UTF-8 text"},
		{"garbled pdf", write("garbled.pdf", append([]byte("%PDF-1.7\n"), garbage...)), ErrUnreadablePDF, "cannot be read"},
		{"no text layer", write("scan.pdf", blankPDF()), ErrNoTextLayer, "the PDF has no text layer (scanned?): pass a text version with --paper FILE.txt"},
		{"directory", dir, nil, "is a directory"},
		{"missing", filepath.Join(dir, "missing.pdf"), nil, "no such file, and not an arXiv id or URL"},
		{"other url", "https://example.org/paper.pdf", nil, "only arXiv URLs"},
	}
	if kern := filepath.Join(sharedPapers, "kernlab_karatzoglou2004_jss.pdf"); fileExists(kern) {
		data, err := os.ReadFile(kern)
		if err != nil {
			t.Fatal(err)
		}
		// The first 3 KB of a real PDF: a header, then nothing usable.
		cases = append(cases, struct {
			name, path string
			want       error
			says       string
		}{"truncated pdf", write("truncated.pdf", data[:3000]), ErrUnreadablePDF, "truncated.pdf"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Load(context.Background(), tc.path, Options{Offline: true})
			if err == nil {
				t.Fatalf("Load(%s) = %q with %d bytes of text, want an error", tc.path, p.Title, len(p.Text))
			}
			t.Log(err)
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestLoadAll(t *testing.T) {
	specs := []string{
		sharedPaper(t, "partykit_toolkit_recursive_partytioning_zeileis.pdf"),
		sharedPaper(t, "fashion_mnist.md"),
		sharedPaper(t, "e1071_svm_libsvm_interface_meyer.pdf"),
	}
	papers, err := LoadAll(context.Background(), specs, Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(papers) != len(specs) {
		t.Fatalf("%d papers, want %d", len(papers), len(specs))
	}
	for i, p := range papers {
		if p.Source != specs[i] || p.Title == "" || p.Abstract == "" {
			t.Errorf("paper %d: source %q, title %q, %d-byte abstract; want %s with title and abstract", i, p.Source, p.Title, len(p.Abstract), specs[i])
		}
	}

	bad := []string{specs[1], filepath.Join(t.TempDir(), "gone.pdf"), "arXiv:2408.14033"}
	papers, err = LoadAll(context.Background(), bad, Options{Offline: true})
	if err == nil || papers != nil {
		t.Fatalf("LoadAll with two bad specs = %d papers, %v; want nil and an error", len(papers), err)
	}
	msg := err.Error()
	for _, want := range []string{"paper 2 of 3 (" + bad[1] + ")", "paper 3 of 3 (arXiv:2408.14033)", "cannot reach arXiv"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "paper 1 of 3") {
		t.Errorf("error %q blames the good paper", msg)
	}
	if !errors.Is(err, ErrArxivUnreachable) {
		t.Errorf("errors.Is(err, ErrArxivUnreachable) = false for %v", err)
	}
}
