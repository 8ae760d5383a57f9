package research

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/store"
)

// Experiment runs the ExperimentAgent on the run's task: linear or tree
// search, human gates when p.Human and a Human is given.
func (r *Run) Experiment(ctx context.Context, p *ExperimentParams) (*experiment.Result, error) {
	end := r.beginPhase(ctx, experiment.Phase)
	res, err := r.experiment(ctx, p)
	end(err)
	return res, err
}

func (r *Run) experiment(ctx context.Context, p *ExperimentParams) (*experiment.Result, error) {
	out, o := r.out, r.opts
	meter := o.Meter
	if !strings.HasPrefix(o.Isolation, "bwrap") {
		fmt.Fprintf(o.Err, "mlrc: WARNING: experiments run with weaker isolation: %s\n", o.Isolation)
	}
	cfg := experiment.Config{
		Task: o.Task, Sandbox: o.Sandbox, Isolation: o.Isolation, Python: o.Python, Seed: p.Seed,
		Model: o.Model, Plan: p.Plan, MaxSteps: p.MaxSteps, Run: o.Store, Log: o.Log, Recalled: p.Recalled, Reference: p.Reference,
		Catalog:  o.Catalog,
		Progress: r.progress(ctx),
		ModelFor: o.ModelFor,
	}
	if h, err := o.Task.Hash(); err == nil {
		cfg.Noise = priorNoise(r.Dir, h)
	}
	if p.Human && o.Human != nil {
		cfg.Gates = experiment.Gates{Human: o.Human, Every: p.Every}
	}
	var res *experiment.Result
	var err error
	switch p.Search {
	case "tree":
		res, err = experiment.Tree(ctx, cfg, experiment.TreeOptions{Workers: p.Workers})
	default:
		res, err = experiment.Run(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	usage, cost, _ := meter.Totals()
	fmt.Fprintf(out, "\nended: %s after %d steps\n", res.Reason, res.Steps)
	fmt.Fprintln(out, res.ReferenceText())
	if res.Best != nil {
		fmt.Fprintf(out, "best     %s = %.6g (run %d, %s)\n", res.Metric, *res.Best.Metric, res.Best.Run, Change(res.Baseline, *res.Best.Metric))
		fmt.Fprintf(out, "best code: %s (diff: %s)\n", res.BestDir, filepath.Join(r.Dir, "best.diff"))
	} else {
		fmt.Fprintf(out, "no run beat the baseline\n")
	}
	fmt.Fprintf(out, "tokens %d · %s · run directory %s\n", usage.Total(), CostText(cost), r.Dir)
	return res, nil
}

// Change is best against the baseline: relative when it can be.
func Change(base, best float64) string {
	if base == 0 {
		return fmt.Sprintf("%+.6g", best-base)
	}
	return fmt.Sprintf("%+.2f%% vs baseline", 100*(best-base)/abs(base))
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// progress turns the agent's progress into events: each step ended (with
// its metric), the next one started; other news is a line of output.
func (r *Run) progress(ctx context.Context) func(experiment.Event) {
	var mu sync.Mutex
	started := map[int]bool{}
	return func(e experiment.Event) {
		switch e.Kind {
		case "step":
			r.emit(ctx, StepEnded{Phase: experiment.Phase, Step: e.Step, Name: "agent", Status: store.StatusDone,
				Action: e.Action, Metric: e.Metric, Best: e.Best})
			if e.Metric != nil {
				m := Metric{Step: e.Step, Value: *e.Metric, Best: *e.Metric, Baseline: e.Baseline}
				if e.Best != nil {
					m.Best = *e.Best
				}
				r.emit(ctx, m)
			}
			r.emitCost(ctx)
			mu.Lock()
			next := !started[e.Step+1]
			started[e.Step+1] = true
			mu.Unlock()
			if next {
				r.emit(ctx, StepStarted{Phase: experiment.Phase, Step: e.Step + 1, Name: "agent"})
			}
		default:
			if e.Message != "" {
				fmt.Fprintf(r.out, "%s: %s\n", e.Kind, e.Message)
			}
			if e.Kind == "baseline" {
				r.emit(ctx, StepStarted{Phase: experiment.Phase, Step: 1, Name: "agent"})
			}
		}
	}
}

// ClipLine makes s one clean line of at most n characters: the agent's
// words are cleaned before they are measured.
func ClipLine(s string, n int) string {
	s = strings.NewReplacer("\n", " ", "\t", " ").Replace(termsafe.String(s))
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// CostText is a cost for the user, "cost $0.0123", saying when it is
// unknown.
func CostText(c llm.Cost) string {
	if c.Unknown > 0 && c.USD == 0 {
		return "cost unknown (no price for this model; add one under prices: in mlrc.yaml)"
	}
	return "cost " + c.String()
}
