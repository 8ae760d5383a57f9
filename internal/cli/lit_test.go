package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/lit"
)

const litFixture = `{"id": "arXiv:2501.00001", "title": "Semantic Textual Relatedness across Languages", "abstract": "We measure how related two sentences are.", "year": 2025}
{"id": "arXiv:2501.00002", "title": "Graph Neural Networks for Molecules", "abstract": "Message passing on molecular graphs.", "year": 2024}
{"id": "arXiv:2501.00003", "title": "A Survey of Diffusion Models", "abstract": "Diffusion models generate images.", "year": 2023}
`

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLitIndexAndSearch(t *testing.T) {
	corpus := writeFile(t, "corpus.jsonl", litFixture)
	notes := writeFile(t, "notes.md", "# Molecule generation notes\n\nEquivariant diffusion for molecules.\n")
	index := filepath.Join(t.TempDir(), "lit.db")

	r := run(t, nil, "lit", "index", corpus, notes, "--index", index)
	if r.code != 0 {
		t.Fatalf("index: code %d, stderr %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "indexed 4 works") || !strings.Contains(r.stdout, "holds 4 works") {
		t.Fatalf("index output:\n%s", r.stdout)
	}

	r = run(t, nil, "lit", "search", "graph neural networks", "--index", index)
	if r.code != 0 {
		t.Fatalf("search: code %d, stderr %s", r.code, r.stderr)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "RANK") ||
		!strings.Contains(lines[1], "arXiv:2501.00002") || !strings.Contains(lines[1], "2024") ||
		!strings.Contains(lines[1], "Graph Neural Networks for Molecules") {
		t.Fatalf("search output:\n%s", r.stdout)
	}

	// Unquoted words are one query; -n bounds the hits.
	r = run(t, nil, "lit", "search", "--index", index, "--json", "-n", "1", "molecules", "diffusion")
	if r.code != 0 {
		t.Fatalf("search --json: code %d, stderr %s", r.code, r.stderr)
	}
	var hits []lit.Hit
	if err := json.Unmarshal([]byte(r.stdout), &hits); err != nil {
		t.Fatalf("search --json output %q: %v", r.stdout, err)
	}
	if len(hits) != 1 || hits[0].Rank != 1 || !strings.HasPrefix(hits[0].Work.ID, "file:") {
		t.Fatalf("search --json: %+v, want the notes (both words) alone", hits)
	}

	r = run(t, nil, "lit", "search", "--index", index, "--json", "xyzzy")
	if r.code != 0 || strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("search without hits: code %d, stdout %q", r.code, r.stdout)
	}
	r = run(t, nil, "lit", "search", "--index", index, "xyzzy")
	if r.code != 0 || !strings.Contains(r.stdout, "no works match") {
		t.Fatalf("search without hits: code %d, stdout %q", r.code, r.stdout)
	}
}

func TestLitDefaultIndexPath(t *testing.T) {
	runs := t.TempDir()
	corpus := writeFile(t, "corpus.jsonl", litFixture)
	if r := run(t, nil, "--runs-dir", runs, "lit", "index", corpus); r.code != 0 {
		t.Fatalf("index: code %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(runs, "literature.db")); err != nil {
		t.Fatalf("default index: %v", err)
	}
	r := run(t, nil, "--runs-dir", runs, "lit", "search", "diffusion")
	if r.code != 0 || !strings.Contains(r.stdout, "arXiv:2501.00003") {
		t.Fatalf("search the default index: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}

	// The configured index (MLRC_LITERATURE, or literature: in mlrc.yaml).
	configured := filepath.Join(t.TempDir(), "configured.db")
	env := map[string]string{"MLRC_LITERATURE": configured}
	if r := run(t, env, "lit", "index", corpus); r.code != 0 {
		t.Fatalf("index: code %d, stderr %s", r.code, r.stderr)
	}
	if _, err := os.Stat(configured); err != nil {
		t.Fatalf("configured index: %v", err)
	}
	if r := run(t, env, "lit", "search", "diffusion"); r.code != 0 || !strings.Contains(r.stdout, "arXiv:2501.00003") {
		t.Fatalf("search the configured index: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestLitErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.db")
	pdf := writeFile(t, "paper.pdf", "%PDF-1.7\n")
	bad := writeFile(t, "bad.jsonl", litFixture+"{not json}\n")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"search without an index", []string{"lit", "search", "x", "--index", missing}, 2,
			"no literature index at " + missing + ": build one with mlrc lit index FILE.jsonl.gz"},
		{"bench without an index", []string{"lit", "bench", "--index", missing}, 2, "no literature index at"},
		{"index a missing file", []string{"lit", "index", "nope.jsonl", "--index", missing}, 2, "nope.jsonl"},
		{"index a broken PDF", []string{"lit", "index", pdf, "--index", filepath.Join(t.TempDir(), "x.db")}, 1, "paper.pdf"},
		{"a bad line", []string{"lit", "index", bad, "--index", filepath.Join(t.TempDir(), "y.db")}, 1, "line 4"},
		{"search without a query", []string{"lit", "search", "--index", missing}, 1, "requires at least 1 arg"},
		{"-n 0", []string{"lit", "search", "x", "-n", "0", "--index", missing}, 2, "-n 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, nil, tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.want) {
				t.Fatalf("code %d, stderr %q; want code %d and %q", r.code, r.stderr, tt.code, tt.want)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Fatal("a failed search created the index file")
	}
}

// A real PDF is indexed by its title and abstract.
func TestLitIndexPDF(t *testing.T) {
	pdf := shared(t, "papers/rcpp_eddelbuettel2011_jss.pdf")
	index := filepath.Join(t.TempDir(), "p.db")
	if r := run(t, nil, "lit", "index", pdf, "--index", index); r.code != 0 || !strings.Contains(r.stdout, ": 1 works") {
		t.Fatalf("index: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	r := run(t, nil, "lit", "search", "seamless R C++ integration", "--index", index)
	if r.code != 0 || !strings.Contains(r.stdout, "Rcpp: Seamless R and C++ Integration") {
		t.Fatalf("search: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
}

func TestLitBench(t *testing.T) {
	corpus := writeFile(t, "corpus.jsonl", litFixture)
	r := run(t, nil, "lit", "bench", "--corpus", corpus, "--runs", "1")
	if r.code != 0 {
		t.Fatalf("bench: code %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"build: 3 works in", "works/s", "p50", "p90", "p99",
		// The built-in labels are over the arXiv corpus, which this is not.
		"none of the 23 labelled queries' relevant works is in this index"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("bench output lacks %q:\n%s", want, r.stdout)
		}
	}
	// With labels over this corpus: precision at 10 and reciprocal rank per
	// query and their means, for the phrases and the gap sentences.
	labels := writeFile(t, "labels.json", litLabels)
	r = run(t, nil, "lit", "bench", "--corpus", corpus, "--runs", "1", "--labels", labels)
	if r.code != 0 {
		t.Fatalf("bench --labels: code %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"quality on 2 labelled queries", "P@10 bm25", "P@10 bm25, gap sentences",
		`semantic relatedness\s+1\s+0\.1\s+1\.00\s+0\.0\s+0\.00`, `diffusion models molecules\s+1\s+0\.1\s+0\.50`, `mean\s+0\.100\s+0\.750\s+0\.000\s+0\.000`} {
		if !regexp.MustCompile(want).MatchString(r.stdout) {
			t.Errorf("bench --labels output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r := run(t, nil, "lit", "bench", "--corpus", corpus, "--labels", writeFile(t, "bad.json", `{"queries": []}`)); r.code != 2 || !strings.Contains(r.stderr, "no queries") {
		t.Errorf("bad labels: code %d, stderr %s", r.code, r.stderr)
	}
}

// litLabels label two queries over litFixture. The second query's relevant
// work ranks second, after the diffusion survey, which holds two of its
// words: reciprocal ranks 1 and 0.5. The first query's gap sentence finds
// nothing.
const litLabels = `{"queries": [
 {"query": "semantic relatedness", "gap": "nothing matches these words at all", "relevant": ["arXiv:2501.00001"]},
 {"query": "diffusion models molecules", "relevant": ["arXiv:2501.00002"]}
]}`

// mlrc lit embed fills the index with vectors from an OpenAI-compatible
// /v1/embeddings server; lit search --embed-model fuses them with BM25, so
// a work with no word of the query in it can be found.
func TestLitEmbedAndHybridSearch(t *testing.T) {
	// A toy embedding: one dimension per topic word.
	topics := []string{"molecul", "relatedness", "diffusion"}
	vec := func(text string) []float64 {
		v := make([]float64, len(topics)+1)
		v[len(topics)] = 0.01
		for i, w := range topics {
			if strings.Contains(strings.ToLower(text), w) {
				v[i] = 1
			}
		}
		return v
	}
	var inputs int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Input []string `json:"input"`
			Model string   `json:"model"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		if r.URL.Path != "/v1/embeddings" || req.Model != "toy-embed" {
			http.Error(w, `{"error":{"message":"bad request"}}`, 400)
			return
		}
		inputs += len(req.Input)
		var data []map[string]any
		for i, in := range req.Input {
			data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": vec(in)})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"object": "list", "data": data, "model": req.Model,
			"usage": map[string]any{"prompt_tokens": 3, "total_tokens": 3}})
	}))
	defer srv.Close()
	index := filepath.Join(t.TempDir(), "e.db")
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	if r := run(t, env, "lit", "index", writeFile(t, "c.jsonl", litFixture), "--index", index); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r := run(t, env, "lit", "embed", "--model", "openai/toy-embed", "--index", index)
	if r.code != 0 || !strings.Contains(r.stdout, "embedded 3 works") || inputs != 3 {
		t.Fatalf("embed: code %d, stdout %s, stderr %s, inputs %d", r.code, r.stdout, r.stderr, inputs)
	}
	// "molecular chemistry" matches no title word of the graph paper, but
	// its vector does.
	r = run(t, env, "lit", "search", "molecules chemistry", "--embed-model", "openai/toy-embed", "--index", index, "-n", "1")
	if r.code != 0 || !strings.Contains(r.stdout, "arXiv:2501.00002") {
		t.Fatalf("hybrid search: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	// lit bench scores the hybrid search too when the index holds vectors
	// from the model, and says so when it does not.
	labels := writeFile(t, "labels.json", litLabels)
	r = run(t, env, "lit", "bench", "--index", index, "--runs", "1", "--labels", labels, "--embed-model", "openai/toy-embed")
	if r.code != 0 || !regexp.MustCompile(`P@10 hybrid openai/toy-embed\s+RR`).MatchString(r.stdout) || !regexp.MustCompile(`semantic relatedness\s+1(\s+\S+){4}\s+0\.1\s+1\.00`).MatchString(r.stdout) {
		t.Errorf("bench --embed-model: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, env, "lit", "bench", "--index", index, "--runs", "1", "--labels", labels, "--embed-model", "openai/other-embed")
	if r.code != 0 || !strings.Contains(r.stdout, "no vectors from openai/other-embed") {
		t.Errorf("bench --embed-model without vectors: code %d, stdout %s, stderr %s", r.code, r.stdout, r.stderr)
	}
	env["ANTHROPIC_API_KEY"] = "y"
	if r := run(t, env, "lit", "embed", "--model", "anthropic/x", "--index", index); r.code != 2 || !strings.Contains(r.stderr, "OpenAI-compatible") {
		t.Errorf("embed with an Anthropic model: code %d, stderr %s", r.code, r.stderr)
	}
}
