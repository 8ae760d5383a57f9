package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/providers"
	"github.com/mlrc/mlrc/paper"
)

func (a *app) litCommand() *cobra.Command {
	var index string
	cmd := &cobra.Command{
		Use:   "lit",
		Short: "The local literature index: build it from JSONL/Markdown files, search it, time it",
	}
	cmd.PersistentFlags().StringVar(&index, "index", "", "literature index file (default: literature: in the config, or <runs-dir>/literature.db)")
	path := func() string { return a.literaturePath(index) }
	cmd.AddCommand(a.litIndexCommand(path), a.litSearchCommand(path), a.litBenchCommand(path), a.litEmbedCommand(path))
	return cmd
}

func (a *app) litIndexCommand(path func() string) *cobra.Command {
	return &cobra.Command{
		Use:   "index FILE...",
		Short: "Add works to the index: JSONL (gzipped or not; one work a line) or text/Markdown files",
		Long: `Add works to the literature index, creating it when needed.

A JSONL file has one JSON object a line: {"id", "title", "abstract", "year",
"authors", "categories"}; gzip is recognised by content. A text or Markdown
file becomes one work: its first line is the title, the text after it the
abstract. Adding a work whose id is already indexed replaces it.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			ctx := cmd.Context()
			for _, f := range files {
				if _, err := os.Stat(f); err != nil {
					return usageError("%w", err)
				}
			}
			ix, err := lit.OpenIndex(ctx, path(), lit.WithPDF(pdfTitleAbstract))
			if err != nil {
				return err
			}
			defer ix.Close()
			start := time.Now()
			added := 0
			for _, f := range files {
				t := time.Now()
				n, err := ix.AddFile(ctx, f)
				if err != nil {
					return err
				}
				added += n
				fmt.Fprintf(a.env.Stdout, "%s: %d works in %s\n", f, n, seconds(time.Since(t)))
			}
			total, err := ix.Count(ctx)
			if err != nil {
				return err
			}
			took := time.Since(start)
			fmt.Fprintf(a.env.Stdout, "indexed %d works in %s (%.0f works/s); %s holds %d works\n",
				added, seconds(took), float64(added)/took.Seconds(), ix.Path(), total)
			return nil
		},
	}
}

func (a *app) litSearchCommand(path func() string) *cobra.Command {
	var k int
	var asJSON bool
	var embedModel string
	cmd := &cobra.Command{
		Use:   "search QUERY [-n K] [--json] [--embed-model M]",
		Short: "Search the index by BM25 (title and abstract) and print the best works",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if k <= 0 {
				return usageError("-n %d: want a positive number of works", k)
			}
			ix, err := a.openLit(ctx, path())
			if err != nil {
				return err
			}
			defer ix.Close()
			query := strings.Join(args, " ")
			var hits []lit.Hit
			if embedModel != "" {
				e, err := a.embedder(embedModel)
				if err != nil {
					return usageError("%w", err)
				}
				hits, err = ix.SearchHybrid(ctx, query, k, e, embedModel)
			} else {
				hits, err = ix.Search(ctx, query, k)
			}
			if err != nil {
				return err
			}
			if asJSON {
				if hits == nil {
					hits = []lit.Hit{}
				}
				return writeJSON(a, hits)
			}
			if len(hits) == 0 {
				fmt.Fprintln(a.env.Stdout, "no works match")
				return nil
			}
			w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "RANK\tSCORE\tID\tYEAR\tTITLE")
			for _, h := range hits {
				year := ""
				if h.Work.Year > 0 {
					year = fmt.Sprint(h.Work.Year)
				}
				fmt.Fprintf(w, "%d\t%.2f\t%s\t%s\t%s\n", h.Rank, h.Score, h.Work.ID, year, h.Work.Title)
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVarP(&k, "number", "n", lit.DefaultK, "number of works")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().StringVar(&embedModel, "embed-model", "", "also rank by embeddings from this model (after mlrc lit embed), fused with BM25 by reciprocal rank")
	return cmd
}

func (a *app) litEmbedCommand(path func() string) *cobra.Command {
	var model string
	var batch int
	cmd := &cobra.Command{
		Use:   "embed --model provider/model",
		Short: "Embed the indexed works with a model's /v1/embeddings, for hybrid search (lit search --embed-model)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if model == "" {
				return usageError("--model is required, e.g. openai/text-embedding-3-small or ollama/nomic-embed-text")
			}
			e, err := a.embedder(model)
			if err != nil {
				return usageError("%w", err)
			}
			ix, err := a.openLit(ctx, path())
			if err != nil {
				return err
			}
			defer ix.Close()
			start := time.Now()
			n, err := ix.Embed(ctx, e, model, batch)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "embedded %d works with %s in %s\n", n, model, seconds(time.Since(start)))
			return nil
		},
	}
	cmd.Flags().StringVar(&model, "model", "", "embedding model as provider/model")
	cmd.Flags().IntVar(&batch, "batch", 64, "works per request")
	return cmd
}

// embedder is an OpenAI-compatible /v1/embeddings client for a model name.
func (a *app) embedder(name string) (lit.Embedder, error) {
	t, err := providers.Resolve(name, providers.Options{Getenv: a.env.Getenv, Endpoints: a.cfg.Providers})
	if err != nil {
		return nil, err
	}
	if t.Kind != providers.KindOpenAI {
		return nil, fmt.Errorf("%s: embeddings need an OpenAI-compatible provider (openai, ollama, vllm, …), not %s", name, t.Kind)
	}
	return lit.NewOpenAIEmbedder(lit.OpenAIEmbedderConfig{BaseURL: t.BaseURL, APIKey: t.APIKey, Model: t.Model})
}

func (a *app) litBenchCommand(path func() string) *cobra.Command {
	var corpus, labelsFile, embedModel string
	var runs int
	cmd := &cobra.Command{
		Use:   "bench [--corpus FILE] [--runs N] [--labels FILE] [--embed-model M]",
		Short: "Time searches of the index and measure their precision at 10 on labelled queries; with --corpus, build a fresh index of FILE first",
		Long: `Time searches of the index, then score the labelled queries (built in: 23 queries over the
shared arXiv corpus, see lit/labels/README.md; or --labels FILE): precision at 10 and reciprocal
rank per query and their means, for BM25 on the short phrases, for BM25 on the same needs written
as research-gap sentences (how the idea phase used to search), and, with --embed-model when the
index holds that model's vectors, for the hybrid search.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if runs < 1 {
				return usageError("--runs %d: want at least 1", runs)
			}
			labels := lit.ArxivLabels()
			if labelsFile != "" {
				var err error
				if labels, err = lit.ReadLabels(labelsFile); err != nil {
					return usageError("--labels: %w", err)
				}
			}
			var ix *lit.Index
			if corpus != "" {
				if _, err := os.Stat(corpus); err != nil {
					return usageError("%w", err)
				}
				dir, err := os.MkdirTemp("", "mlrc-lit-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if ix, err = lit.OpenIndex(ctx, filepath.Join(dir, "literature.db")); err != nil {
					return err
				}
				start := time.Now()
				n, err := ix.AddFile(ctx, corpus)
				if err != nil {
					ix.Close()
					return err
				}
				took := time.Since(start)
				size := ""
				if st, err := os.Stat(ix.Path()); err == nil {
					size = fmt.Sprintf(", %d MB", st.Size()>>20)
				}
				fmt.Fprintf(a.env.Stdout, "build: %d works in %s, %.0f works/s%s\n", n, seconds(took), float64(n)/took.Seconds(), size)
			} else {
				var err error
				if ix, err = a.openLit(ctx, path()); err != nil {
					return err
				}
			}
			defer ix.Close()
			n, err := ix.Count(ctx)
			if err != nil {
				return err
			}
			res := lit.Bench(ctx, ix, lit.BenchQueries, runs)
			if res.Err != nil {
				return res.Err
			}
			fmt.Fprintf(a.env.Stdout, "search (top %d of %d works, %d queries × %d runs): %s\n",
				lit.DefaultK, n, len(lit.BenchQueries), runs, res)
			return a.printQuality(ctx, ix, labels, embedModel)
		},
	}
	cmd.Flags().StringVar(&corpus, "corpus", "", "JSONL corpus to index into a temporary index (e.g. ../shared/corpus/arxiv-ml-abstracts.jsonl.gz)")
	cmd.Flags().IntVar(&runs, "runs", 5, "times each query is run")
	cmd.Flags().StringVar(&labelsFile, "labels", "", `labelled queries, JSON {"queries": [{"query", "relevant": [ids]}]} (default: the built-in labels over the shared arXiv corpus)`)
	cmd.Flags().StringVar(&embedModel, "embed-model", "", "also score the hybrid search with this model's vectors (after mlrc lit embed)")
	return cmd
}

// printQuality prints precision at 10 and reciprocal rank of the labelled
// queries: per query for BM25, and the means for each way of searching.
func (a *app) printQuality(ctx context.Context, ix *lit.Index, labels *lit.Labels, embedModel string) error {
	type method struct {
		name   string
		text   func(lit.LabelledQuery) string
		search lit.Searcher
	}
	methods := []method{{"bm25", lit.QueryText, ix.Search}, {"bm25, gap sentences", lit.GapText, ix.Search}}
	if embedModel != "" {
		e, err := a.embedder(embedModel)
		if err != nil {
			return usageError("%w", err)
		}
		if n, err := ix.Vectors(ctx, embedModel); err != nil {
			return err
		} else if n == 0 {
			fmt.Fprintf(a.env.Stdout, "hybrid: no vectors from %s in the index (run mlrc lit embed --model %s): not scored\n", embedModel, embedModel)
		} else {
			methods = append(methods, method{"hybrid " + embedModel, lit.QueryText, func(ctx context.Context, q string, k int) ([]lit.Hit, error) {
				return ix.SearchHybrid(ctx, q, k, e, embedModel)
			}})
		}
	}
	var results []lit.Quality
	for _, m := range methods {
		q, err := lit.Evaluate(ctx, ix, labels, lit.DefaultK, m.text, m.search)
		if err != nil {
			return err
		}
		results = append(results, q)
	}
	if len(results[0].Queries) == 0 {
		fmt.Fprintf(a.env.Stdout, "quality: none of the %d labelled queries' relevant works is in this index (the labels are over %s): build it with mlrc lit index ../shared/corpus/arxiv-ml-abstracts.jsonl.gz\n",
			len(labels.Queries), labels.Corpus)
		return nil
	}
	fmt.Fprintf(a.env.Stdout, "\nquality on %d labelled queries (precision at %d, reciprocal rank of the first relevant work):\n", len(results[0].Queries), lit.DefaultK)
	w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	header := "QUERY\tRELEVANT"
	for _, m := range methods {
		header += "\tP@10 " + m.name + "\tRR"
	}
	fmt.Fprintln(w, header)
	for i, s := range results[0].Queries {
		line := fmt.Sprintf("%s\t%d", s.Query, s.Relevant)
		for _, r := range results {
			line += fmt.Sprintf("\t%.1f\t%.2f", r.Queries[i].Precision, r.Queries[i].RR)
		}
		fmt.Fprintln(w, line)
	}
	line := "mean\t"
	for _, r := range results {
		line += fmt.Sprintf("\t%.3f\t%.3f", r.MeanPrecision, r.MRR)
	}
	fmt.Fprintln(w, line)
	if err := w.Flush(); err != nil {
		return err
	}
	if s := results[0].Skipped; s > 0 {
		fmt.Fprintf(a.env.Stdout, "(%d labelled queries left out: none of their relevant works is in this index)\n", s)
	}
	return nil
}

// openLit opens an existing literature index.
func (a *app) openLit(ctx context.Context, path string) (*lit.Index, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, usageError("no literature index at %s: build one with mlrc lit index FILE.jsonl.gz", path)
	}
	return lit.OpenIndex(ctx, path)
}

// pdfTitleAbstract reads a PDF's title and abstract for the index.
func pdfTitleAbstract(ctx context.Context, path string) (string, string, error) {
	p, err := paper.Load(ctx, path, paper.Options{Offline: true})
	if err != nil {
		return "", "", err
	}
	return p.Title, p.Abstract, nil
}
