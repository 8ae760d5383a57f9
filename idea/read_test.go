package idea

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/llm/openai"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/paper"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := paper.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "close pdfium:", err)
		code = 1
	}
	os.Exit(code)
}

// The elements request carries the body of papers whose sections have
// names of their own (no "method", no "experiments"), over real HTTP: a
// Markdown paper whole, a PDF's sections by priority.
func TestElementsRequestHasPaperBody(t *testing.T) {
	md, err := paper.FromText("vignette.md", `# Kernel widgets in practice

Abstract: We show how kernel widgets behave on tabular data.

## Kernel tricks for the curious

The widget kernel multiplies the squared distance by a learned bandwidth per column.

## What we saw on the benchmark

| dataset | widgets | forest |
|---|---|---|
| adult | 0.912 | 0.905 |

Widgets beat the forest on 7 of 9 datasets by 0.4 points of AUC on average.
`)
	if err != nil {
		t.Fatal(err)
	}
	pdfLike := Paper{ID: "pdf1", Title: "Partitioning toolkit", Abstract: "A toolkit for recursive partitioning.", PDF: true,
		Sections: []Section{
			{Name: "Growing the tree", Text: "Splits are chosen by permutation tests of independence between each covariate and the response."},
			{Name: "references", Text: "[1] A. Author. A title. 2001."},
		}}
	srv := fakeserver.New(tool("research_elements", map[string]any{
		"research_tasks": []string{"tabular classification"}, "research_gaps": []string{"no comparison with boosting"},
		"keywords": []string{"kernel widgets", "recursive partitioning"}}))
	defer srv.Close()
	model := named{m: openai.New(openai.Config{Provider: "fake", BaseURL: srv.URL + "/v1"}), name: "test-model"}
	cfg := Config{Model: model, Papers: []Paper{fromPaper(md), pdfLike}}
	cfg.defaults()
	if _, err := extractElements(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	body := string(reqs[0].Raw)
	for _, want := range []string{
		"multiplies the squared distance by a learned bandwidth per column",
		"Widgets beat the forest on 7 of 9 datasets",
		"| adult | 0.912 | 0.905 |",
		"permutation tests of independence between each covariate",
		"[1] A. Author. A title. 2001.",
	} {
		if !strings.Contains(body, jsonText(want)) {
			t.Errorf("the elements request lacks %q", want)
		}
	}
	if strings.Contains(body, "What was cut") {
		t.Errorf("nothing was cut, yet the prompt says so")
	}
}

// fromPaper is what the CLI hands the IdeaAgent.
func fromPaper(p *paper.Paper) Paper {
	ip := Paper{ID: p.ID, Source: p.Source, Title: p.Title, Abstract: p.Abstract, Text: p.Text, PDF: p.Format == paper.FormatPDF}
	for _, s := range p.Sections {
		ip.Sections = append(ip.Sections, Section{Name: s.Name, Text: s.Text})
	}
	return ip
}

// jsonText is s as it appears inside a JSON string.
func jsonText(s string) string {
	return strings.NewReplacer(`"`, `\"`, "\n", `\n`).Replace(s)
}

func filler(words int, seed string) string {
	var b strings.Builder
	for i := range words {
		fmt.Fprintf(&b, "%s%d ", seed, i%97)
		if i%15 == 14 {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// A PDF longer than its budget keeps the abstract, the method and
// experiments and the tables, leaves the references and filler out, and
// says so.
func TestReadPaperBudget(t *testing.T) {
	p := Paper{ID: "p", Title: "T", Abstract: "The abstract says what we did.", PDF: true, Sections: []Section{
		{Name: "introduction", Text: filler(1500, "intro")},
		{Name: "Software review", Text: filler(1500, "review")},
		{Name: "method", Text: "We fit widgets by gradient descent.\n" + filler(200, "meth")},
		{Name: "Illustrations", Text: filler(300, "pre") + "\nTable 3: Error rates on the benchmark\ndata ksvm rpart\nspam 0.071 0.102\niris 0.040 0.061\nmusk 0.050 0.080\n" + "\n" + filler(1200, "post")},
		{Name: "references", Text: filler(800, "ref")},
	}}
	budget := 8000
	v := readPaper(p, budget)
	if v.Whole != "" {
		t.Fatal("a PDF is never sent as its raw text")
	}
	if got := v.size(); got > budget {
		t.Errorf("view is %d characters, over the budget of %d", got, budget)
	}
	text := renderView(v)
	for _, want := range []string{"The abstract says what we did.", "We fit widgets by gradient descent.", "Table 3: Error rates", "spam 0.071 0.102"} {
		if !strings.Contains(text, want) {
			t.Errorf("view lacks %q", want)
		}
	}
	if strings.Contains(text, "ref1 ") {
		t.Errorf("the references were sent while the budget was short")
	}
	cut := strings.Join(v.Cut, "\n")
	if !strings.Contains(cut, `"references"`) || !strings.Contains(cut, "left out") {
		t.Errorf("the cut does not name the references: %q", cut)
	}
	// A short Markdown paper goes whole.
	w := readPaper(Paper{ID: "m", Text: "# A\n\nshort body\n\n## Odd name\n\nfacts"}, budget)
	if w.Whole == "" || len(w.Cut) > 0 {
		t.Errorf("short Markdown paper: whole %q, cut %v", w.Whole, w.Cut)
	}
}

func renderView(v paperView) string {
	return render("elements.md", map[string]any{"Papers": []paperView{v}})
}

// The papers in ../shared/papers: the notes go whole, the PDFs fit the
// default budget shared between all of them, with their abstracts, and
// what is cut is said.
func TestReadSharedPapers(t *testing.T) {
	dir := "../../shared/papers"
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Skipf("%s is absent (the shared folder sits beside the repository)", dir)
	}
	var papers []Paper
	var loaded []*paper.Paper
	for _, f := range files {
		if filepath.Base(f) == "PROVENANCE.md" {
			continue
		}
		p, err := paper.Load(context.Background(), f, paper.Options{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		papers, loaded = append(papers, fromPaper(p)), append(loaded, p)
	}
	budget := DefaultPaperTokens * CharsPerToken
	views := readPapers(papers, budget)
	total := 0
	for i, v := range views {
		total += v.size()
		p := loaded[i]
		text := renderView(v)
		switch p.Format {
		case paper.FormatText:
			if v.Whole != strings.TrimSpace(p.Text) {
				t.Errorf("%s: a short note is not sent whole", p.ID)
			}
		case paper.FormatPDF:
			if !strings.Contains(text, clip(p.Abstract, 200)[:100]) {
				t.Errorf("%s: the abstract is missing", p.ID)
			}
			if len(p.Text) > budget/len(papers) && len(v.Cut) == 0 {
				t.Errorf("%s: %d characters in a share of about %d, yet nothing is said to be cut", p.ID, len(p.Text), budget/len(papers))
			}
			if len(v.Sections) == 0 {
				t.Errorf("%s: no section was sent", p.ID)
			}
		}
		t.Logf("%s: %d of %d characters; cut: %v", p.ID, v.size(), len(p.Text), v.Cut)
	}
	if total > budget {
		t.Errorf("the papers take %d characters, over the budget of %d", total, budget)
	}
	// The dataset description's facts reach the model, not just its abstract.
	for i, p := range loaded {
		if p.ID == "fashion_mnist.md" && !strings.Contains(renderView(views[i]), "60,000 train / 10,000 test") {
			t.Errorf("fashion_mnist.md: the dataset facts are not in the prompt")
		}
	}
}

// A two-column paper, written in the test: both columns reach the model in
// reading order, sections with names of their own included.
func TestReadTwoColumnPDF(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two-column.pdf")
	writeTwoColumn(t, path)
	p, err := paper.Load(context.Background(), path, paper.Options{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Sections {
		t.Logf("section %q (%d)", s.Name, len(s.Text))
	}
	v := readPaper(fromPaper(p), 40000)
	text := strings.Join(strings.Fields(renderView(v)), " ")
	for _, want := range []string{
		"Left column opening sentence about sparse widgets",
		"Right column sentence reporting an accuracy of 0.931 on the held-out split",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, text)
		}
	}
	if l, r := strings.Index(text, "Left column closing"), strings.Index(text, "Right column sentence"); l < 0 || r < 0 || l > r {
		t.Errorf("the left column does not come before the right one (left end at %d, right at %d)", l, r)
	}
}

// writeTwoColumn writes a small two-column paper with fpdf.
func writeTwoColumn(t *testing.T, path string) {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle("Sparse Widgets for Tabular Learning", true)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 16)
	pdf.CellFormat(0, 10, "Sparse Widgets for Tabular Learning", "", 1, "C", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, "Ann Example and Bo Sample", "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 6, "Abstract", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, "We study sparse widgets for learning on tables and show that they match boosted trees at a fraction of the cost on nine public benchmarks.", "", "L", false)
	top := pdf.GetY() + 4
	col := func(x float64, heading, body string) {
		pdf.SetXY(x, top)
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(85, 6, heading, "", 2, "L", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.SetX(x)
		pdf.MultiCell(85, 5, body, "", "L", false)
	}
	col(15, "1 Widget Theory", "Left column opening sentence about sparse widgets, which keep only a few features per split. "+
		strings.Repeat("Each widget weighs its inputs and passes a sparse sum to the next layer of the model. ", 6)+
		"Left column closing sentence.")
	col(110, "2 Measured Outcomes", "Right column sentence reporting an accuracy of 0.931 on the held-out split, against 0.925 for boosted trees. "+
		strings.Repeat("The widgets train in one minute on a laptop core and predict in under a millisecond. ", 6))
	if err := pdf.OutputFileAndClose(path); err != nil {
		t.Fatal(err)
	}
}

func tool(name string, args map[string]any) fakeserver.Reply {
	return fakeserver.Reply{Response: &scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}}
}

func TestPaperTokens(t *testing.T) {
	for _, tc := range []struct{ window, answer, want int }{
		{0, 4096, DefaultPaperTokens},
		{32768, 4096, 13336},
		{200000, 8192, 94904},
		{4096, 4096, 2000}, // never less than a floor
	} {
		if got := PaperTokens(tc.window, tc.answer); got != tc.want {
			t.Errorf("PaperTokens(%d, %d) = %d, want %d", tc.window, tc.answer, got, tc.want)
		}
	}
}
