package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mlrc/mlrc/store"
)

// status reads a run's state from the store.
func (s *Server) status(ctx context.Context, ref string) (RunStatusOut, error) {
	sum, err := s.cfg.Store.Summary(ctx, ref)
	if err != nil {
		return RunStatusOut{}, err
	}
	out := RunStatusOut{
		ID: sum.ID, Kind: sum.Kind, Status: sum.Status, Error: sum.Error,
		Steps: len(sum.Steps), CostUSD: sum.Cost.USD, Tokens: sum.Usage.Total(),
	}
	for _, p := range sum.Phases {
		out.Phase = p.Name // the last phase begun
	}
	if n := len(sum.Steps); n > 0 {
		out.LastStep = sum.Steps[n-1].Kind
	}
	run, err := s.cfg.Store.Run(ctx, sum.ID)
	if err != nil {
		return out, err
	}
	evs, err := run.Events(ctx)
	if err != nil {
		return out, err
	}
	for _, e := range evs {
		switch e.Type {
		case "step":
			var m struct{ Metric, Best, Baseline *float64 }
			if json.Unmarshal(e.Data, &m) == nil {
				if m.Metric != nil {
					out.Metric = m.Metric
				}
				if m.Best != nil {
					out.Best = m.Best
				}
				if m.Baseline != nil {
					out.Baseline = m.Baseline
				}
			}
		case "verdict", "verdict_decided":
			var v struct {
				Verdict, Summary, Decision string
			}
			if json.Unmarshal(e.Data, &v) == nil {
				out.Verdict = firstNonEmpty(v.Verdict, v.Decision, v.Summary)
			}
		}
	}
	if sum.Status == store.StatusRunning {
		gates, err := s.cfg.Store.Gates(ctx, sum.ID, true)
		if err != nil {
			return out, err
		}
		for _, g := range gates {
			og := Gate{ID: g.Seq, Kind: g.Kind, Question: g.Question}
			if len(g.Options) > 0 {
				og.Options = g.Options
			}
			out.OpenGates = append(out.OpenGates, og)
		}
	}
	out.Next = next(out)
	return out, nil
}

func next(st RunStatusOut) string {
	switch {
	case len(st.OpenGates) > 0:
		return fmt.Sprintf("the run waits on gate %d (%s): answer it with gate_answer", st.OpenGates[0].ID, st.OpenGates[0].Kind)
	case st.Status == store.StatusRunning:
		return "the run is working: call run_status or run_events again later"
	case st.Status == store.StatusInterrupted:
		return "the run's process died: continue it with mlrc resume " + st.ID
	case st.Status == store.StatusStopped:
		return "the run was stopped: read run_report; continue it with mlrc resume " + st.ID
	default:
		return "the run has ended: read run_report"
	}
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// progress sends progress notifications for run id to the client that
// made req, when it asked for them with a progress token, until the
// returned stop is called.
func (s *Server) progress(req *mcp.CallToolRequest, id string) (stop func()) {
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.notify(ctx, req.Session, token, id)
	}()
	return func() { cancel(); <-done }
}

// followInBackground sends progress notifications for a research run
// started by req while it is active and the client's session lasts.
func (s *Server) followInBackground(req *mcp.CallToolRequest, c *child) {
	token := req.Params.GetProgressToken()
	if token == nil || req.Session == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-c.done
		// One last look, so the client hears how the run ended.
		time.Sleep(s.cfg.Poll)
		cancel()
	}()
	go s.notify(ctx, req.Session, token, c.runID)
}

// notify polls the run's status and sends a notification each time it
// changes, until ctx ends, the session closes, or the run is no longer
// running.
func (s *Server) notify(ctx context.Context, ss *mcp.ServerSession, token any, id string) {
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	last := ""
	for {
		st, err := s.status(context.WithoutCancel(ctx), id)
		if err == nil {
			msg := progressText(st)
			if msg != last {
				last = msg
				if ss.NotifyProgress(context.WithoutCancel(ctx), &mcp.ProgressNotificationParams{
					ProgressToken: token, Progress: float64(st.Steps), Message: msg,
				}) != nil {
					return // the session has gone
				}
			}
			if st.Status != store.StatusRunning {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func progressText(st RunStatusOut) string {
	msg := fmt.Sprintf("run %s %s", st.ID, st.Status)
	if st.Phase != "" {
		msg += ", phase " + st.Phase
	}
	msg += fmt.Sprintf(", %d steps", st.Steps)
	if st.Best != nil {
		msg += fmt.Sprintf(", best %.4g", *st.Best)
	}
	if len(st.OpenGates) > 0 {
		msg += fmt.Sprintf(", waiting on gate %d (%s)", st.OpenGates[0].ID, st.OpenGates[0].Kind)
	}
	return msg
}
