package research

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/report"
)

// StoppedReport writes report.md and report.html for a research run that
// stopped before its report phase: what it did, which phase stopped it,
// why, and how to go on. It runs after a cancel too (on a context of its
// own), and a failure to write is printed, never returned: the run's own
// error is what the caller reports.
func (r *Run) StoppedReport(ctx context.Context, p *Params, st *State, cause error) {
	s, redact := r.opts.Store, r.opts.Redact
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	status, resume := "failed", fmt.Sprintf("fix the cause above, then run: mlrc resume %s", s.ID)
	var budget *llm.BudgetError
	switch {
	case errors.As(cause, &budget):
		status, resume = "stopped", fmt.Sprintf("raise the budget (--budget-dollars, --budget-tokens or budget: in mlrc.yaml), then run: mlrc resume %s", s.ID)
	case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
		status, resume = "stopped", fmt.Sprintf("run: mlrc resume %s", s.ID)
	}
	d, err := r.ReportData(ctx, p, st)
	if err == nil {
		d.Stopped = &report.Stopped{Phase: st.Phase, Status: status, Reason: redact(cause.Error()), Resume: resume}
		err = writeReport(ctx, s, d)
	}
	if err != nil {
		fmt.Fprintf(r.opts.Err, "mlrc: the run %s in phase %s, and its report could not be written: %v\n", status, st.Phase, err)
		return
	}
	s.Emit(ctx, "stopped", map[string]string{"phase": st.Phase, "status": status, "reason": redact(cause.Error())})
	fmt.Fprintf(r.out, "\nrun %s in phase %s: %v\nreport: %s\nto go on: %s\n", status, st.Phase, redact(cause.Error()),
		filepath.Join(s.Dir, "report.html"), resume)
}
