package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/paper"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

type ideaParams struct {
	papers  []string
	task    string
	n       int
	auto    bool
	human   bool
	index   string
	offline bool
	// recalled is what earlier research runs on the task found (the
	// research memory), for the proposer.
	recalled []string
}

func (a *app) ideaCommand() *cobra.Command {
	var p ideaParams
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
			if len(p.papers) == 0 {
				return usageError("--paper is required: a PDF, a text or Markdown file, or an arXiv id")
			}
			if p.auto && p.human {
				return usageError("--auto and --human exclude each other")
			}
			_, err := a.runIdea(cmd.Context(), p)
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&p.papers, "paper", nil, "a paper: PDF, .txt/.md, arXiv id or URL (repeat for several)")
	f.StringVar(&p.task, "task", "", "task directory the ideas must be feasible in")
	f.IntVar(&p.n, "n", 5, "candidate ideas to generate")
	f.BoolVar(&p.auto, "auto", false, "take the top idea without asking")
	f.BoolVar(&p.human, "human", false, "show the ranking and ask (the default on a terminal without --auto)")
	f.StringVar(&p.index, "index", "", "literature index (default: literature: in the config, or <runs-dir>/literature.db)")
	f.BoolVar(&p.offline, "offline", false, "do not query Semantic Scholar, OpenAlex or arXiv")
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
func (a *app) runIdea(ctx context.Context, p ideaParams) (path string, err error) {
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
	if _, err := a.ideaPhase(ctx, st, s, model, name, p); err != nil {
		return "", err
	}
	usage, cost, _ := meter.Totals()
	fmt.Fprintf(a.env.Stdout, "tokens %d · cost %s\n", usage.Total(), costText(cost))
	return filepath.Join(s.run.Dir, "ideas.json"), nil
}

// ideaPhase runs the IdeaAgent in the run s: it writes ideas.json and
// ideas.md into the run directory, the chosen idea first.
func (a *app) ideaPhase(ctx context.Context, st *store.Store, s *session, model idea.Model, name string, p ideaParams) (*idea.Result, error) {
	papers, err := paper.LoadAll(ctx, p.papers, paper.Options{Offline: p.offline})
	if err != nil {
		return nil, usageError("%w", err)
	}
	var t *task.Task
	var taskText string
	var budget idea.Budget
	if p.task != "" {
		if t, err = task.Load(p.task); err != nil {
			return nil, usageError("%w", err)
		}
		taskText = describeTask(t)
		budget = idea.Budget{Metric: t.Metric.Name, Goal: string(t.Metric.Goal), MaxSteps: t.Limits.MaxSteps,
			RunTimeout: t.Limits.RunTimeout, TotalTime: t.Limits.TotalTime}
	}
	sources, index, closeIndex, err := a.literature(ctx, st, p)
	if err != nil {
		return nil, err
	}
	defer closeIndex()
	if isRehearsal(name) && len(sources) > 0 {
		// The script answers a run without related work: searching would
		// ask it for queries, verdicts and novelty checks it does not have.
		sources, index = nil, nil
		fmt.Fprintln(a.env.Stdout, "rehearsal: the literature is not searched (the script answers a run without related work)")
	}
	if err := s.run.BeginPhase(ctx, "idea"); err != nil {
		return nil, err
	}
	out := a.env.Stdout
	fmt.Fprintf(out, "idea: %d paper(s), %d literature source(s)\n", len(papers), len(sources))
	cfg := idea.Config{
		Model: model, Papers: ideaPapers(papers), Task: taskText, Budget: budget, Memory: p.recalled, Sources: sources, Index: index, N: p.n, Log: s.log,
		PaperTokens: idea.PaperTokens(a.cfg.LLM.ContextWindow, a.cfg.LLM.MaxTokens),
		Warn: func(msg string) {
			fmt.Fprintf(out, "  warning: %s\n", clipLine(msg, 400))
			s.run.Emit(context.WithoutCancel(ctx), "warning", map[string]string{"phase": "idea", "message": a.redact.String(msg)})
		},
		Step: func(ctx context.Context, kind string) func(any, error) {
			fmt.Fprintf(out, "  %s…\n", kind)
			step, err := s.run.BeginStep(ctx, "idea", kind, nil)
			if err != nil {
				return func(any, error) {}
			}
			return func(output any, err error) {
				status := store.StatusDone
				if err != nil {
					status, output = store.StatusFailed, map[string]string{"error": err.Error()}
				}
				step.End(context.WithoutCancel(ctx), status, output)
			}
		},
	}
	var chooser idea.Chooser = idea.Auto{}
	if p.human {
		chooser = a.gateHuman(s.run)
	}
	var res *idea.Result
	for round := 1; ; round++ {
		res, err = idea.Generate(ctx, cfg)
		if err != nil {
			s.run.EndPhase(context.WithoutCancel(ctx), "idea", store.StatusFailed)
			return nil, err
		}
		choice, err := chooser.Choose(ctx, res)
		if err != nil {
			return nil, err
		}
		if choice.Regenerate && round < 4 {
			cfg.Feedback = append(cfg.Feedback, choice.Feedback)
			s.run.Emit(ctx, "human_feedback", map[string]any{"gate": "ideas", "feedback": choice.Feedback})
			continue
		}
		idea.Select(res, choice)
		break
	}
	res.Model = name
	if t != nil {
		res.Task = t.Name
	}
	if err := idea.Write(s.run.Dir, res); err != nil {
		return nil, err
	}
	for _, f := range []string{"ideas.json", "ideas.md"} {
		if err := s.run.AddArtifact(ctx, f, f, "ideas"); err != nil {
			return nil, err
		}
	}
	if err := s.run.EndPhase(ctx, "idea", store.StatusDone); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\n%s\nchosen: %s\nideas: %s (and ideas.md)\n", idea.Ranking(res), res.Ideas[0].Title, filepath.Join(s.run.Dir, "ideas.json"))
	return res, nil
}

// literature opens the local index (when there is one) and the online
// sources (unless offline).
func (a *app) literature(ctx context.Context, st *store.Store, p ideaParams) ([]lit.Source, lit.Source, func(), error) {
	var sources []lit.Source
	var index lit.Source
	closer := func() {}
	path := a.literaturePath(p.index)
	if _, err := os.Stat(path); err == nil {
		ix, err := lit.OpenIndex(ctx, path)
		if err != nil {
			return nil, nil, closer, fmt.Errorf("open the literature index %s: %w", path, err)
		}
		n, _ := ix.Count(ctx)
		if n > 0 {
			sources, index = append(sources, ix), ix
		}
		closer = func() { ix.Close() }
	} else if p.index != "" {
		return nil, nil, closer, usageError("no literature index at %s: build one with mlrc lit index FILE.jsonl.gz", path)
	}
	if !p.offline {
		sources = append(sources, a.onlineSources(st)...)
	}
	if len(sources) == 0 {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: no literature to search (no index at %s, --offline): ideas will rest on the papers alone; build an index with mlrc lit index FILE.jsonl.gz\n", path)
	}
	if index == nil && len(sources) > 0 {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: no local literature index at %s; novelty is not checked (build one with mlrc lit index)\n", path)
	}
	return sources, index, closer, nil
}

func ideaPapers(ps []*paper.Paper) []idea.Paper {
	var out []idea.Paper
	for _, p := range ps {
		ip := idea.Paper{ID: p.ID, Source: p.Source, Title: p.Title, Abstract: p.Abstract, Text: p.Text, PDF: p.Format == paper.FormatPDF}
		for _, s := range p.Sections {
			ip.Sections = append(ip.Sections, idea.Section{Name: s.Name, Text: s.Text})
		}
		out = append(out, ip)
	}
	return out
}

// describeTask tells the IdeaAgent what a task allows: its problem, metric,
// workspace files and limits.
func describeTask(t *task.Task) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Task %s. %s\nMetric: %s (%s).\nLimits: %s per run, %s of memory, %d agent steps, %s in all; no network.\nWorkspace files:\n",
		t.Name, strings.TrimSpace(t.Problem), t.Metric.Name, t.Metric.Goal, t.Limits.RunTimeout, humanSize(t.Limits.Memory), t.Limits.MaxSteps, t.Limits.TotalTime)
	var files []string
	filepath.WalkDir(t.Workspace, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(t.Workspace, p)
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		fmt.Fprintf(&b, "- %s\n", f)
	}
	if t.Commands.Prepare != "" {
		b.WriteString("(more data files are written into the workspace when a run starts)\n")
	}
	return b.String()
}

func humanSize(n int64) string {
	if n >= 1<<30 {
		return fmt.Sprintf("%.0f GiB", float64(n)/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20))
}
