package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/memory"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// recalled is a research run's share of the research memory: the task's
// data fingerprint, and what earlier runs on that task and data found, as
// told to the models. It is kept as memory.json in the run directory, so a
// resumed run tells them exactly what it told them first.
type recalled struct {
	Fingerprint string   `json:"fingerprint"`
	Lines       []string `json:"lines"`
	// Off: --no-memory; the run neither reads nor adds to the memory.
	Off bool `json:"off,omitempty"`
}

// recall reads the run's memory.json, or, for a new run, recalls what
// earlier runs on the task and data found and writes it. A task whose data
// cannot be fingerprinted runs without memory, with a warning.
func (a *app) recall(ctx context.Context, st *store.Store, dir string, t *task.Task, off bool) *recalled {
	path := filepath.Join(dir, "memory.json")
	var rc recalled
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &rc) == nil {
		return &rc
	}
	rc.Off = off
	if !off {
		fp, err := t.Fingerprint()
		if err != nil {
			fmt.Fprintf(a.env.Stderr, "mlrc: warning: research memory off for this run: %v\n", err)
			rc.Off = true
		} else {
			rc.Fingerprint = fp
			if rc.Lines, err = memory.Recall(ctx, st, t.Name, fp); err != nil {
				fmt.Fprintf(a.env.Stderr, "mlrc: warning: research memory not read: %v\n", err)
			}
		}
	}
	if len(rc.Lines) > 0 {
		fmt.Fprintf(a.env.Stdout, "memory: %d earlier result(s) on this task and data are given to the models (--no-memory to leave them out)\n", len(rc.Lines))
	}
	b, _ := json.MarshalIndent(rc, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: %v\n", err)
	}
	return &rc
}

// remember adds what the run tried and how it scored to the research
// memory: a run that finished, or stopped after its experiment (stopped
// names the phase). A failure to remember is a warning, never the end of
// the run.
func (a *app) remember(ctx context.Context, st *store.Store, runID string, t *task.Task, rc *recalled, ideas *idea.Result, plan string,
	res *experiment.Result, v *validate.Verdict, stopped string) {
	if rc == nil || rc.Off || res == nil {
		return
	}
	title := "plan: " + firstLine(plan)
	if ideas != nil && len(ideas.Ideas) > 0 {
		title = ideas.Ideas[0].Title
	}
	o := memory.Outcome{Task: t.Name, Fingerprint: rc.Fingerprint, RunID: runID, Idea: title, Diff: res.Diff,
		Metric: res.Metric, Goal: string(res.Goal), Baseline: res.Baseline, Verdict: v, Stopped: stopped}
	if res.Best != nil {
		o.Best = res.Best.Metric
	}
	if err := st.Remember(context.WithoutCancel(ctx), memory.Entry(o, a.redact.String)); err != nil {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: research memory: %v\n", err)
	}
}

func firstLine(s string) string {
	s = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "#"))
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return clipLine(s, 120)
}

func (a *app) memoryCommand() *cobra.Command {
	var taskName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "memory [--task NAME] | memory clear [--task NAME]",
		Short: "List the research memory: what earlier research runs tried on each task and how it scored",
		Long: `Each research run that finished, or stopped after its experiment, adds the idea it tried, a summary
of its code changes, the baseline and best metric, the relative change and the verdict, under the task's
name and the fingerprint of its data. Later runs on the same task and data tell the IdeaAgent and the
ExperimentAgent about it (mlrc research --no-memory leaves it out).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			ms, err := st.Memories(ctx, taskName, "")
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a, ms)
			}
			if len(ms) == 0 {
				fmt.Fprintf(a.env.Stdout, "the research memory in %s holds nothing yet\n", st.Path())
				return nil
			}
			w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "TASK\tDATA\tRUN\tWHEN\tRESULT")
			for _, m := range ms {
				fmt.Fprintf(w, "%s\t%.8s\t%s\t%s\t%s\n", m.Task, m.Fingerprint, m.RunID, m.Created.Local().Format("2006-01-02 15:04"), clipLine(memory.Line(m), 200))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVar(&taskName, "task", "", "only this task (its name, as in task.yaml)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.memoryClearCommand())
	return cmd
}

func (a *app) memoryClearCommand() *cobra.Command {
	var taskName string
	cmd := &cobra.Command{
		Use:   "clear [--task NAME]",
		Short: "Forget the research memory: of one task, or all of it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := st.ForgetMemories(ctx, taskName)
			if err != nil {
				return err
			}
			what := "the research memory"
			if taskName != "" {
				what += " of task " + taskName
			}
			fmt.Fprintf(a.env.Stdout, "cleared %s: %d entries\n", what, n)
			return nil
		},
	}
	cmd.Flags().StringVar(&taskName, "task", "", "only this task (its name, as in task.yaml)")
	return cmd
}

// rememberTrials adds the ideas a run tried besides the one it validated
// (--n-experiments): each with its experiment's numbers, not validated.
func (a *app) rememberTrials(ctx context.Context, st *store.Store, t *task.Task, rc *recalled, ts []trial, validated *experiment.Result) {
	for _, tr := range ts {
		if tr.Result == nil || tr.Result == validated {
			continue
		}
		one := &idea.Result{Ideas: []idea.Idea{{Title: tr.Title}}}
		a.remember(ctx, st, tr.RunID, t, rc, one, "", tr.Result, nil, "")
	}
}
