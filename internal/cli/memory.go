package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/memory"
	"github.com/mlrc/mlrc/research"
)

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
				fmt.Fprintf(w, "%s\t%.8s\t%s\t%s\t%s\n", m.Task, m.Fingerprint, m.RunID, m.Created.Local().Format("2006-01-02 15:04"), research.ClipLine(memory.Line(m), 200))
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
