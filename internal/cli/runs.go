package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/store"
)

func (a *app) runsCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "List runs (newest first); `runs show ID` shows one",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			runs, err := st.Runs(ctx)
			if err != nil {
				return err
			}
			var sums []*runBrief
			for _, r := range runs {
				s, err := st.Summary(ctx, r.ID)
				if err != nil {
					return err
				}
				run, err := st.Run(ctx, r.ID)
				if err != nil {
					return err
				}
				sums = append(sums, &runBrief{Summary: s, Brief: research.BriefOf(ctx, run, s.RunInfo)})
			}
			if asJSON {
				return writeJSON(a, sums)
			}
			if len(sums) == 0 {
				fmt.Fprintf(a.env.Stdout, "no runs in %s yet\n", st.Path())
				return nil
			}
			w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tKIND\tSTATUS\tTASK\tVERDICT\tBASELINE → BEST\tMODEL\tSTARTED\tCALLS\tTOKENS\tCOST")
			interrupted := ""
			for _, s := range sums {
				model := s.Model
				if research.IsRehearsal(model) {
					model += " (rehearsal)"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.ID, s.Kind, s.Status, orDash(s.Brief.Task),
					orDash(s.Brief.Verdict), briefMetric(s.Brief), model,
					s.Created.Local().Format("2006-01-02 15:04"), s.Calls, s.Usage.Total(), s.Cost)
				if s.Status == store.StatusInterrupted && resumable(s.Kind) && interrupted == "" {
					interrupted = s.ID
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if interrupted != "" {
				fmt.Fprintf(a.env.Stdout, "\ninterrupted: the process working on the run died; continue one with `mlrc resume %s`\n", interrupted)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.runsShowCommand(), a.runsRmCommand(), a.runsGCCommand())
	return cmd
}

func (a *app) runsShowCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show one run: status, phases, steps, tokens, cost (an id prefix is enough)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			st, err := a.openStore(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Summary(ctx, args[0])
			if err != nil {
				return usageError("%w (list runs with `mlrc runs`)", err)
			}
			run, err := st.Run(ctx, s.ID)
			if err != nil {
				return err
			}
			b := &runBrief{Summary: s, Brief: research.BriefOf(ctx, run, s.RunInfo)}
			if asJSON {
				return writeJSON(a, b)
			}
			printSummary(a, b)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// runBrief is a run as `mlrc runs` shows it: the store's summary and what
// the run produced.
type runBrief struct {
	*store.Summary
	Brief research.Brief `json:"brief"`
}

// briefMetric is "baseline → best", with the metric's name when known;
// "-" before a baseline is measured.
func briefMetric(b research.Brief) string {
	if b.Baseline == nil {
		return "-"
	}
	s := fmt.Sprintf("%.4g → ", *b.Baseline)
	if b.Best != nil {
		s += fmt.Sprintf("%.4g", *b.Best)
	} else {
		s += "-"
	}
	if b.Metric != "" {
		s = b.Metric + " " + s
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func printSummary(a *app, s *runBrief) {
	out := a.env.Stdout
	fmt.Fprintf(out, "run      %s\n", s.ID)
	fmt.Fprintf(out, "kind     %s\n", s.Kind)
	fmt.Fprintf(out, "status   %s\n", statusText(s.RunInfo))
	if s.Error != "" {
		fmt.Fprintf(out, "error    %s\n", a.redact.String(s.Error))
	}
	fmt.Fprintf(out, "model    %s\n", s.Model)
	if s.Brief.Task != "" {
		fmt.Fprintf(out, "task     %s\n", s.Brief.Task)
	}
	if s.Brief.Baseline != nil {
		fmt.Fprintf(out, "metric   %s\n", briefMetric(s.Brief))
	}
	if s.Brief.Verdict != "" {
		fmt.Fprintf(out, "verdict  %s: %s\n", s.Brief.Verdict, s.Brief.Summary)
	}
	if s.Brief.Report != "" {
		fmt.Fprintf(out, "report   %s\n", s.Brief.Report)
	}
	fmt.Fprintf(out, "dir      %s\n", s.Dir)
	fmt.Fprintf(out, "started  %s\n", s.Created.Local().Format(time.DateTime))
	if !s.Finished.IsZero() {
		fmt.Fprintf(out, "finished %s (%s)\n", s.Finished.Local().Format(time.DateTime), s.Finished.Sub(s.Created).Round(time.Millisecond))
	}
	fmt.Fprintf(out, "calls    %d (%d failed)", s.Calls, s.FailedCalls)
	if s.Replayed > 0 {
		fmt.Fprintf(out, "; %d answered from the record on resume", s.Replayed)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "tokens   %d in, %d out, %d cache read, %d cache write\n", s.Usage.InputTokens, s.Usage.OutputTokens, s.Usage.CacheReadTokens, s.Usage.CacheWriteTokens)
	fmt.Fprintf(out, "cost     %s\n", strings.TrimPrefix(research.CostText(s.Cost), "cost "))
	if len(s.Phases) > 0 {
		fmt.Fprintln(out, "\nphases")
		for _, p := range s.Phases {
			fmt.Fprintf(out, "  %-12s %-8s %s\n", p.Name, p.Status, duration(p.Started, p.Ended))
		}
	}
	if len(s.Steps) > 0 {
		fmt.Fprintln(out, "\nsteps")
		for _, st := range s.Steps {
			fmt.Fprintf(out, "  %4d %-10s %-14s %-8s %s\n", st.Seq, st.Phase, st.Kind, st.Status, duration(st.Started, st.Ended))
		}
	}
	if len(s.Artifacts) > 0 {
		fmt.Fprintln(out, "\nartifacts")
		for _, ar := range s.Artifacts {
			fmt.Fprintf(out, "  %s\n", ar.Path)
		}
	}
}

// statusText is the run's status with what it means for a running or an
// interrupted run.
func statusText(info store.RunInfo) string {
	switch {
	case info.Status == store.StatusInterrupted && resumable(info.Kind):
		return fmt.Sprintf("%s (the process working on it died; continue with `mlrc resume %s`)", info.Status, info.ID)
	case info.Status == store.StatusInterrupted:
		return fmt.Sprintf("%s (the process working on it died)", info.Status)
	case info.Status == store.StatusRunning && info.PID > 0:
		return fmt.Sprintf("%s (process %d)", info.Status, info.PID)
	}
	return info.Status
}

// resumable says whether mlrc resume continues runs of kind.
func resumable(kind string) bool { return kind == "experiment" || kind == "research" }

func duration(start, end time.Time) string {
	if end.IsZero() {
		return "running"
	}
	return end.Sub(start).Round(time.Millisecond).String()
}

func writeJSON(a *app, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(a.env.Stdout, a.redact.String(strings.TrimSpace(string(b))))
	return err
}
