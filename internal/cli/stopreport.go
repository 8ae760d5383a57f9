package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/task"
	"github.com/mlrc/mlrc/validate"
)

// stopInfo is what a research run had when it stopped.
type stopInfo struct {
	phase     string
	err       error
	ideas     *idea.Result
	res       *experiment.Result
	verdict   *validate.Verdict
	taskHash  string
	isolation string
	plan      string
}

// stoppedReport writes report.md and report.html for a research run that
// stopped before its report phase: what it did, which phase stopped it,
// why, and how to go on. It runs after a cancel too (on a context of its
// own), and a failure to write is printed, never returned: the run's own
// error is what the caller reports.
func (a *app) stoppedReport(ctx context.Context, s *session, p *researchParams, t *task.Task, in stopInfo) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	status, resume := "failed", fmt.Sprintf("fix the cause above, then run: mlrc resume %s", s.run.ID)
	var budget *llm.BudgetError
	switch {
	case errors.As(in.err, &budget):
		status, resume = "stopped", fmt.Sprintf("raise the budget (--budget-dollars, --budget-tokens or budget: in mlrc.yaml), then run: mlrc resume %s", s.run.ID)
	case errors.Is(in.err, context.Canceled), errors.Is(in.err, context.DeadlineExceeded):
		status, resume = "stopped", fmt.Sprintf("run: mlrc resume %s", s.run.ID)
	}
	d, err := a.reportData(ctx, s.run, p, t, in.ideas, in.res, in.verdict, in.taskHash, in.isolation, in.plan)
	if err == nil {
		d.Stopped = &report.Stopped{Phase: in.phase, Status: status, Reason: a.redact.String(in.err.Error()), Resume: resume}
		err = report.Write(s.run.Dir, d)
	}
	if err == nil {
		for _, f := range []string{"report.md", "report.html"} {
			if err = s.run.AddArtifact(ctx, f, f, "report"); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintf(a.env.Stderr, "mlrc: the run %s in phase %s, and its report could not be written: %v\n", status, in.phase, err)
		return
	}
	s.run.Emit(ctx, "stopped", map[string]string{"phase": in.phase, "status": status, "reason": a.redact.String(in.err.Error())})
	fmt.Fprintf(a.env.Stdout, "\nrun %s in phase %s: %v\nreport: %s\nto go on: %s\n", status, in.phase, a.redact.String(in.err.Error()),
		filepath.Join(s.run.Dir, "report.html"), resume)
}
