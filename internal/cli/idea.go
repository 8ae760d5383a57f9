package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
)

func (a *app) ideaCommand() *cobra.Command {
	var p research.IdeaParams
	var auto bool
	cmd := &cobra.Command{
		Use:   "idea --paper P [--paper P2 ...] [--task DIR] [--n 5] [--model M] [--auto]",
		Short: "Run the IdeaAgent: from papers to ranked research ideas with experiment plans",
		Long: `Read the papers, extract research tasks, gaps and keywords, retrieve related work from the
literature index (and Semantic Scholar, OpenAlex and arXiv when online), propose ideas with experiment
plans, check their novelty, review and rank them. With --task the ideas must be feasible in that task.
Writes ideas.json and ideas.md into the run directory; mlrc experiment --plan ideas.json implements the
chosen (first) idea.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(p.Papers) == 0 {
				return usageError("--paper is required: a PDF, a text or Markdown file, or an arXiv id")
			}
			if auto && p.Human {
				return usageError("--auto and --human exclude each other")
			}
			_, err := a.runIdea(cmd.Context(), p)
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.Papers, "paper", nil, "a paper: PDF, .txt/.md, arXiv id or URL (repeat for several)")
	f.StringVar(&p.Task, "task", "", "task directory the ideas must be feasible in")
	f.IntVar(&p.N, "n", 5, "candidate ideas to generate")
	f.BoolVar(&auto, "auto", false, "take the top idea without asking")
	f.BoolVar(&p.Human, "human", false, "show the ranking and ask (the default on a terminal without --auto)")
	f.StringVar(&p.Index, "index", "", "literature index (default: literature: in the config, or <runs-dir>/literature.db)")
	f.BoolVar(&p.Offline, "offline", false, "do not query Semantic Scholar, OpenAlex or arXiv")
	return cmd
}

func (a *app) literaturePath(flag string) string {
	if flag != "" {
		return flag
	}
	return a.cfg.LiteraturePath()
}

// runIdea runs the IdeaAgent as a run of its own and returns the path of
// ideas.json.
func (a *app) runIdea(ctx context.Context, p research.IdeaParams) (path string, err error) {
	name, err := a.modelName(ctx)
	if err != nil {
		return "", err
	}
	st, err := a.openStore(ctx)
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := a.backend(name, st); err != nil {
		return "", usageError("%w", err)
	}
	s, err := a.startRun(ctx, st, "idea", name)
	if err != nil {
		return "", err
	}
	defer s.close()
	defer func() { a.finishRun(s, err) }()
	meter := a.meter()
	model, err := a.model(name, st, meter, s.run)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(a.env.Stdout, "run %s · model %s\n", s.run.ID, name)
	r := research.New(research.Options{Store: s.run, Log: s.log, Model: model, Meter: meter,
		Chooser: a.gateHuman(s.run),
		Literature: func(ctx context.Context, p research.IdeaParams) (*research.Literature, error) {
			return a.literature(ctx, st, p)
		},
		PaperTokens: idea.PaperTokens(a.cfg.LLM.ContextWindow, a.cfg.LLM.MaxTokens),
		Redact:      a.redact.String, Out: a.env.Stdout, Err: a.env.Stderr})
	defer a.follow(r)()
	if _, err := r.Ideas(ctx, name, p); err != nil {
		return "", inputError(err)
	}
	usage, cost, _ := meter.Totals()
	fmt.Fprintf(a.env.Stdout, "tokens %d · %s\n", usage.Total(), research.CostText(cost))
	return filepath.Join(s.run.Dir, "ideas.json"), nil
}

// literature opens the local index (when there is one) and the online
// sources (unless offline).
func (a *app) literature(ctx context.Context, st *store.Store, p research.IdeaParams) (*research.Literature, error) {
	var sources []lit.Source
	var index lit.Source
	closer := func() {}
	path := a.literaturePath(p.Index)
	if _, err := os.Stat(path); err == nil {
		ix, err := lit.OpenIndex(ctx, path)
		if err != nil {
			return nil, fmt.Errorf("open the literature index %s: %w", path, err)
		}
		n, _ := ix.Count(ctx)
		if n > 0 {
			sources, index = append(sources, ix), ix
		}
		closer = func() { ix.Close() }
	} else if p.Index != "" {
		return nil, usageError("no literature index at %s: build one with mlrc lit index FILE.jsonl.gz", path)
	}
	if !p.Offline {
		sources = append(sources, a.onlineSources(st)...)
	}
	if len(sources) == 0 {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: no literature to search (no index at %s, --offline): ideas will rest on the papers alone; build an index with mlrc lit index FILE.jsonl.gz\n", path)
	}
	if index == nil && len(sources) > 0 {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: no local literature index at %s; novelty is not checked (build one with mlrc lit index)\n", path)
	}
	return &research.Literature{Sources: sources, Index: index, Close: closer}, nil
}
