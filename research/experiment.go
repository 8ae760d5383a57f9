package research

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlrc/mlrc/experiment"
	"github.com/mlrc/mlrc/internal/termsafe"
	"github.com/mlrc/mlrc/llm"
)

// Experiment runs the ExperimentAgent on the run's task: linear or tree
// search, human gates when p.Human and a Human is given.
func (r *Run) Experiment(ctx context.Context, p *ExperimentParams) (*experiment.Result, error) {
	out, o := r.out, r.opts
	meter := o.Meter
	if !strings.HasPrefix(o.Isolation, "bwrap") {
		fmt.Fprintf(o.Err, "mlrc: WARNING: experiments run with weaker isolation: %s\n", o.Isolation)
	}
	cfg := experiment.Config{
		Task: o.Task, Sandbox: o.Sandbox, Isolation: o.Isolation, Python: o.Python, Seed: p.Seed,
		Model: o.Model, Plan: p.Plan, MaxSteps: p.MaxSteps, Run: o.Store, Log: o.Log,
		Catalog:  o.Catalog,
		Progress: r.progress(meter),
		ModelFor: o.ModelFor,
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
	fmt.Fprintf(out, "baseline %s = %.6g\n", res.Metric, res.Baseline)
	if res.Best != nil {
		fmt.Fprintf(out, "best     %s = %.6g (run %d, %s)\n", res.Metric, *res.Best.Metric, res.Best.Run, Change(res.Baseline, *res.Best.Metric))
		fmt.Fprintf(out, "best code: %s (diff: %s)\n", res.BestDir, filepath.Join(r.Dir, "best.diff"))
	} else {
		fmt.Fprintf(out, "no run beat the baseline\n")
	}
	fmt.Fprintf(out, "tokens %d · cost %s · run directory %s\n", usage.Total(), CostText(cost), r.Dir)
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

// progress prints one line per event: step, action, metric so far, tokens
// and cost so far.
func (r *Run) progress(meter *llm.Meter) func(experiment.Event) {
	start := time.Now()
	return func(e experiment.Event) {
		out := r.out
		switch e.Kind {
		case "step":
			usage, cost, _ := meter.Totals()
			metric := "-"
			if e.Metric != nil {
				metric = fmt.Sprintf("%.6g", *e.Metric)
			}
			best := "-"
			if e.Best != nil {
				best = fmt.Sprintf("%.6g", *e.Best)
			}
			fmt.Fprintf(out, "step %3d │ %-60s │ metric %s · best %s │ %d tok · %s · %s\n", e.Step, ClipLine(e.Action, 60), metric, best,
				usage.Total(), CostText(cost), time.Since(start).Round(time.Second))
		default:
			if e.Message != "" {
				fmt.Fprintf(out, "%s: %s\n", e.Kind, e.Message)
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

// CostText is a cost for the user, saying when it is unknown.
func CostText(c llm.Cost) string {
	if c.Unknown > 0 && c.USD == 0 {
		return "cost unknown (no price for this model; add one under prices: in mlrc.yaml)"
	}
	return c.String()
}
