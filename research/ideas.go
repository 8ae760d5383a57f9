package research

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/paper"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// InputError is a mistake in what the run was given (a paper or a task
// that cannot be read): the caller tells the user to fix it.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Ideas runs the IdeaAgent in the run: it writes ideas.json and
// ideas.md into the run directory, the chosen idea first.
func (r *Run) Ideas(ctx context.Context, name string, p IdeaParams) (*idea.Result, error) {
	o := r.opts
	papers, err := paper.LoadAll(ctx, p.Papers, paper.Options{Offline: p.Offline})
	if err != nil {
		return nil, &InputError{Err: err}
	}
	var t *task.Task
	var taskText string
	var budget idea.Budget
	if p.Task != "" {
		if t, err = task.Load(p.Task); err != nil {
			return nil, &InputError{Err: err}
		}
		taskText = DescribeTask(t)
		budget = idea.Budget{Metric: t.Metric.Name, Goal: string(t.Metric.Goal), MaxSteps: t.Limits.MaxSteps,
			RunTimeout: t.Limits.RunTimeout, TotalTime: t.Limits.TotalTime}
	}
	lits := &Literature{}
	if o.Literature != nil {
		if lits, err = o.Literature(ctx, p); err != nil {
			return nil, err
		}
		if lits.Close != nil {
			defer lits.Close()
		}
	}
	sources, index := lits.Sources, lits.Index
	if IsRehearsal(name) && len(sources) > 0 {
		// The script answers a run without related work: searching would
		// ask it for queries, verdicts and novelty checks it does not have.
		sources, index = nil, nil
		fmt.Fprintln(r.out, "rehearsal: the literature is not searched (the script answers a run without related work)")
	}
	end := r.beginPhase(ctx, "idea")
	res, err := r.ideas(ctx, name, p, t, taskText, budget, papers, sources, index)
	end(err)
	return res, err
}

func (r *Run) ideas(ctx context.Context, name string, p IdeaParams, t *task.Task, taskText string, budget idea.Budget, papers []*paper.Paper, sources []lit.Source, index lit.Source) (*idea.Result, error) {
	o, s := r.opts, r.opts.Store
	if err := s.BeginPhase(ctx, "idea"); err != nil {
		return nil, err
	}
	out := r.out
	var stepNo atomic.Int64
	fmt.Fprintf(out, "idea: %d paper(s), %d literature source(s)\n", len(papers), len(sources))
	cfg := idea.Config{
		Model: o.Model, Papers: ideaPapers(papers), Task: taskText, Budget: budget, Memory: p.Recalled, Sources: sources, Index: index, N: p.N, Log: o.Log,
		PaperTokens: o.PaperTokens,
		Warn: func(msg string) {
			r.emit(ctx, Warning{Phase: "idea", Message: o.Redact(msg)})
		},
		Step: func(ctx context.Context, kind string) func(any, error) {
			fmt.Fprintf(out, "  %s…\n", kind)
			n := int(stepNo.Add(1))
			r.emit(ctx, StepStarted{Phase: "idea", Step: n, Name: kind})
			step, err := s.BeginStep(ctx, "idea", kind, nil)
			if err != nil {
				return func(any, error) {}
			}
			return func(output any, err error) {
				status := store.StatusDone
				if err != nil {
					status, output = store.StatusFailed, map[string]string{"error": err.Error()}
				}
				step.End(context.WithoutCancel(ctx), status, output)
				r.emit(ctx, StepEnded{Phase: "idea", Step: n, Name: kind, Status: status})
			}
		},
	}
	var chooser idea.Chooser = idea.Auto{}
	if p.Human && o.Chooser != nil {
		chooser = o.Chooser
	}
	var res *idea.Result
	var err error
	for round := 1; ; round++ {
		res, err = idea.Generate(ctx, cfg)
		if err != nil {
			s.EndPhase(context.WithoutCancel(ctx), "idea", store.StatusFailed)
			return nil, err
		}
		choice, err := chooser.Choose(ctx, res)
		if err != nil {
			return nil, err
		}
		if choice.Regenerate && round < 4 {
			cfg.Feedback = append(cfg.Feedback, choice.Feedback)
			s.Emit(ctx, "human_feedback", map[string]any{"gate": "ideas", "feedback": choice.Feedback})
			continue
		}
		idea.Select(res, choice)
		break
	}
	res.Model = name
	if t != nil {
		res.Task = t.Name
	}
	if err := idea.Write(s.Dir, res); err != nil {
		return nil, err
	}
	for _, f := range []string{"ideas.json", "ideas.md"} {
		if err := s.AddArtifact(ctx, f, f, "ideas"); err != nil {
			return nil, err
		}
	}
	if err := s.EndPhase(ctx, "idea", store.StatusDone); err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\n%s\nchosen: %s\nideas: %s (and ideas.md)\n", idea.Ranking(res), res.Ideas[0].Title, filepath.Join(s.Dir, "ideas.json"))
	return res, nil
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

// DescribeTask tells the IdeaAgent what a task allows: its problem, metric,
// workspace files and limits.
func DescribeTask(t *task.Task) string {
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
