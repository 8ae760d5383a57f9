package lit

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// openTest opens a fresh index in a temporary directory.
func openTest(t testing.TB, opts ...Option) *Index {
	t.Helper()
	ix, err := OpenIndex(context.Background(), filepath.Join(t.TempDir(), "lit.db"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	return ix
}

func gz(t testing.TB, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func count(t testing.TB, ix *Index) int {
	t.Helper()
	n, err := ix.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

const fixture = `{"id": "arXiv:2501.00001", "title": "Semantic Textual Relatedness\n  across Languages", "abstract": "We measure how related two sentences are.", "year": 2025, "authors": ["Ada Lovelace", "Alan Turing"], "categories": ["cs.CL", "cs.LG"]}
{"id": "arXiv:2501.00002", "title": "Graph Neural Networks for Molecules", "abstract": "Message passing on molecular graphs predicts properties.", "year": "2024", "authors": "Marie Curie, Rosalind Franklin", "categories": "q-bio.BM cs.LG"}

{"id": "S2:abc", "title": "A Survey of Diffusion Models", "abstract": "Diffusion models generate images.", "source": "semanticscholar", "url": "https://example.org/abc"}
`

func TestAddJSONL(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	n, err := ix.AddJSONL(ctx, strings.NewReader(fixture), "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 3; got != want {
		t.Fatalf("added %d, want %d", got, want)
	}
	if got, want := count(t, ix), 3; got != want {
		t.Fatalf("count %d, want %d", got, want)
	}

	hits, err := ix.Search(ctx, "molecules", 5)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search molecules: %v, %v", hits, err)
	}
	want := Work{
		ID: "arXiv:2501.00002", Source: "index", Title: "Graph Neural Networks for Molecules",
		Abstract: "Message passing on molecular graphs predicts properties.", Year: 2024,
		Authors: []string{"Marie Curie", "Rosalind Franklin"}, Categories: []string{"q-bio.BM", "cs.LG"},
		URL: "https://arxiv.org/abs/2501.00002",
	}
	if got := hits[0].Work; !reflect.DeepEqual(got, want) {
		t.Fatalf("work\n got %+v\nwant %+v", got, want)
	}
	hits, _ = ix.Search(ctx, "relatedness", 5)
	if len(hits) != 1 || hits[0].Work.Title != "Semantic Textual Relatedness across Languages" {
		t.Fatalf("title with a line break: %+v", hits)
	}
	hits, _ = ix.Search(ctx, "survey", 5)
	if len(hits) != 1 || hits[0].Work.Source != "semanticscholar" || hits[0].Work.URL != "https://example.org/abc" {
		t.Fatalf("the line's own source and url: %+v", hits)
	}
}

func TestAddJSONLSourceArgument(t *testing.T) {
	ix := openTest(t)
	line := `{"id": "x1", "title": "Quantum annealing"}` + "\n"
	if _, err := ix.AddJSONL(context.Background(), strings.NewReader(line), "mycorpus"); err != nil {
		t.Fatal(err)
	}
	hits, _ := ix.Search(context.Background(), "annealing", 1)
	if len(hits) != 1 || hits[0].Work.Source != "mycorpus" || hits[0].Work.URL != "" {
		t.Fatalf("hits %+v", hits)
	}
}

func TestAddJSONLProvenance(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	// The shared corpus's "source" says where the row came from: it is
	// provenance, not the name of a source.
	line := `{"id": "arXiv:2509.26233", "title": "3DiFACE", "source": "github:dw-dengwei/daily-arXiv-ai-enhanced@b4c542b7d61b:data/2025-10-01.jsonl"}`
	if _, err := ix.AddJSONL(ctx, strings.NewReader(line), ""); err != nil {
		t.Fatal(err)
	}
	hits, _ := ix.Search(ctx, "3diface", 1)
	if len(hits) != 1 || hits[0].Work.Source != "index" {
		t.Fatalf("hits %+v, want source index", hits)
	}
	var prov string
	if err := ix.db.QueryRow("SELECT provenance FROM works WHERE id = 'arXiv:2509.26233'").Scan(&prov); err != nil {
		t.Fatal(err)
	}
	if want := "github:dw-dengwei/daily-arXiv-ai-enhanced@b4c542b7d61b:data/2025-10-01.jsonl"; prov != want {
		t.Fatalf("provenance %q, want %q", prov, want)
	}
}

func TestAddJSONLGzipByContent(t *testing.T) {
	ix := openTest(t)
	// The gzip is recognised by its bytes: the reader has no name.
	n, err := ix.AddJSONL(context.Background(), bytes.NewReader(gz(t, fixture)), "")
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 || count(t, ix) != 3 {
		t.Fatalf("added %d, count %d, want 3", n, count(t, ix))
	}
}

func TestAddJSONLBadLine(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"broken json", fixture + `{"id": "arXiv:9", "title": ` + "\n", "line 5"},
		{"no id", `{"title": "t"}` + "\n", `line 1: no "id"`},
		{"no text", fixture + `{"id": "arXiv:9"}`, "line 5: work arXiv:9 has neither"},
		{"not an object", "[1, 2]\n", "line 1: not a JSON object"},
		{"a JSON array", "[\n" + `{"id": "a", "title": "t"}` + "\n]\n", "line 1: not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := openTest(t)
			_, err := ix.AddJSONL(context.Background(), strings.NewReader(tt.input), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			// The add is all or nothing.
			if got := count(t, ix); got != 0 {
				t.Fatalf("count after a failed add %d, want 0", got)
			}
		})
	}
}

func TestAddJSONLReplaces(t *testing.T) {
	ctx := context.Background()
	ix := openTest(t)
	for range 2 {
		if _, err := ix.AddJSONL(ctx, strings.NewReader(fixture), ""); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := count(t, ix), 3; got != want {
		t.Fatalf("count after adding twice %d, want %d", got, want)
	}
	changed := `{"id": "arXiv:2501.00002", "title": "Transformers for Proteins", "abstract": "Attention over residues."}`
	if _, err := ix.AddJSONL(ctx, strings.NewReader(changed), ""); err != nil {
		t.Fatal(err)
	}
	if got, want := count(t, ix), 3; got != want {
		t.Fatalf("count after a replacement %d, want %d", got, want)
	}
	// The old text is gone from the full-text index, the new one is in it.
	if hits, _ := ix.Search(ctx, "molecules", 5); len(hits) != 0 {
		t.Fatalf("old text still found: %+v", hits)
	}
	hits, _ := ix.Search(ctx, "proteins", 5)
	if len(hits) != 1 || hits[0].Work.ID != "arXiv:2501.00002" || hits[0].Work.Year != 0 {
		t.Fatalf("new text: %+v", hits)
	}
	checkIntegrity(t, ix)
}

func TestAddFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ix := openTest(t)
	for _, f := range []struct {
		path string
		want int
	}{
		{write("a.jsonl", []byte(fixture)), 3},
		{write("b.json.gz", gz(t, `{"id": "b1", "title": "Bandits with knapsacks"}`)), 1},
		{write("c.jsonl.gz", gz(t, `{"id": "c1", "title": "Contrastive captioners"}`)), 1},
		// gzip named as plain JSONL: found by its bytes
		{write("d.jsonl", gz(t, `{"id": "d1", "title": "Dropout as Bayesian approximation"}`)), 1},
		{write("notes.md", []byte("---\nauthor: me\n---\n\n# Sparse Autoencoders for Interpretability\n\nWe train "+strings.Repeat("wide ", 1000)+"dictionaries.\n")), 1},
	} {
		n, err := ix.AddFile(ctx, f.path)
		if err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
		if n != f.want {
			t.Fatalf("%s: added %d, want %d", f.path, n, f.want)
		}
	}
	if got, want := count(t, ix), 7; got != want {
		t.Fatalf("count %d, want %d", got, want)
	}
	hits, _ := ix.Search(ctx, "sparse autoencoders", 1)
	if len(hits) != 1 {
		t.Fatal("Markdown file not found")
	}
	w := hits[0].Work
	if w.Title != "Sparse Autoencoders for Interpretability" || !strings.HasPrefix(w.Abstract, "We train wide") ||
		len(w.Abstract) > abstractChars || w.ID != "file:"+filepath.Join(dir, "notes.md") {
		t.Fatalf("Markdown work: id %q title %q abstract %d bytes", w.ID, w.Title, len(w.Abstract))
	}
	// Adding the file again replaces its work.
	if _, err := ix.AddFile(ctx, filepath.Join(dir, "notes.md")); err != nil {
		t.Fatal(err)
	}
	if got, want := count(t, ix), 7; got != want {
		t.Fatalf("count after re-adding %d, want %d", got, want)
	}

	bin := write("model.bin", []byte{0, 1, 2, 3, 0xff})
	if _, err := ix.AddFile(ctx, bin); err == nil || !strings.Contains(err.Error(), "not a JSONL, PDF or text file") {
		t.Fatalf("binary file: %v", err)
	}
}

func TestAddFilePDF(t *testing.T) {
	ctx := context.Background()
	pdf := filepath.Join(t.TempDir(), "paper.pdf")
	os.WriteFile(pdf, []byte("%PDF-1.7\n..."), 0o644)

	if _, err := openTest(t).AddFile(ctx, pdf); !errors.Is(err, ErrNoPDF) {
		t.Fatalf("PDF without an extractor: %v, want ErrNoPDF", err)
	}

	var asked string
	ix := openTest(t, WithPDF(func(_ context.Context, path string) (string, string, error) {
		asked = path
		return "Scaling Laws for Neural Language Models", "Loss scales as a power law.", nil
	}))
	if n, err := ix.AddFile(ctx, pdf); err != nil || n != 1 {
		t.Fatalf("PDF: %d, %v", n, err)
	}
	if asked != pdf {
		t.Fatalf("extractor got %q, want %q", asked, pdf)
	}
	hits, _ := ix.Search(ctx, "power law", 1)
	if len(hits) != 1 || hits[0].Work.Title != "Scaling Laws for Neural Language Models" {
		t.Fatalf("PDF work: %+v", hits)
	}

	failing := openTest(t, WithPDF(func(context.Context, string) (string, string, error) {
		return "", "", errors.New("encrypted")
	}))
	if _, err := failing.AddFile(ctx, pdf); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("failing extractor: %v", err)
	}
}

func TestOpenIndexRejectsOtherDatabases(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "other.db")
	ix, err := OpenIndex(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.db.Exec("PRAGMA user_version = 42"); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	if _, err := OpenIndex(ctx, path); err == nil || !strings.Contains(err.Error(), "schema version 42") {
		t.Fatalf("reopen with another schema version: %v", err)
	}
}

func TestReopenKeepsWorks(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "lit.db")
	ix, err := OpenIndex(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.AddJSONL(ctx, strings.NewReader(fixture), ""); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	ix, err = OpenIndex(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if hits, err := ix.Search(ctx, "diffusion", 3); err != nil || len(hits) != 1 {
		t.Fatalf("after reopening: %v, %v", hits, err)
	}
}
