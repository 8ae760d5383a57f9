package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/mlrc/mlrc/research"
	"github.com/spf13/cobra"
)

// benchRow is one task's line of mlrc bench.
type benchRow struct {
	Task        string   `json:"task"`
	RunID       string   `json:"run"`
	Metric      string   `json:"metric"`
	Goal        string   `json:"goal"`
	Baseline    float64  `json:"baseline"`
	Best        *float64 `json:"best"`
	Improvement *float64 `json:"improvement_pct"` // in the goal's direction
	// Expected is the chosen idea's forecast change of the metric (signed,
	// in its units); Measured is the change measured: the validated means'
	// difference, or the experiment's best against its baseline.
	Expected    *float64 `json:"expected_change,omitempty"`
	Measured    *float64 `json:"measured_change,omitempty"`
	Significant bool     `json:"significant"`
	P           *float64 `json:"p_value,omitempty"`
	Success     bool     `json:"success"`
	Steps       int      `json:"steps"`
	Tokens      int64    `json:"tokens"`
	CostUSD     float64  `json:"cost_usd"`
	PriceKnown  bool     `json:"price_known"`
	WallSeconds float64  `json:"wall_seconds"`
	// Where says where the validation's re-runs ran (executor, hosts,
	// jobs, GPUs); RunSeconds is their summed wall time.
	Where      string  `json:"where,omitempty"`
	RunSeconds float64 `json:"run_seconds,omitempty"`
	Error      string  `json:"error,omitempty"`
}

// benchSuccess is MLAgentBench's definition: at least 10% better than the
// baseline; here it must also be significant and pass the integrity checks.
const benchSuccess = 0.10

func (a *app) benchCommand() *cobra.Command {
	var p research.Params
	var tasks []string
	var out string
	cmd := &cobra.Command{
		Use:   "bench --task DIR [--task DIR ...] [--model M] [--plan FILE | --paper P ...]",
		Short: "Run research (or, with --plan, the experiment phase) on several tasks and tabulate the results",
		Long: `For each task, a research run (ideas from --paper) or, with --plan, the experiment phase with that plan,
followed by validation and the report. Prints a table — task, baseline, best, improvement %, success
(at least 10% better than the baseline, as MLAgentBench defines it, significant, and with every
integrity check passed), steps, tokens, cost, wall time — and writes it as JSON.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(tasks) == 0 {
				return usageError("--task is required (repeat it for several tasks)")
			}
			if p.PlanFile == "" && len(p.Papers) == 0 {
				return usageError("give --plan FILE (the experiment phase alone) or --paper P (full research)")
			}
			if p.PlanFile != "" {
				plan, err := research.ReadPlan(p.PlanFile)
				if err != nil {
					return usageError("%w", err)
				}
				p.Plan = plan
			}
			p.MinRelative = benchSuccess
			var rows []benchRow
			for _, dir := range tasks {
				tp := p
				abs, err := filepath.Abs(dir)
				if err != nil {
					return err
				}
				tp.Task = abs
				fmt.Fprintf(a.env.Stdout, "\n######## %s ########\n", dir)
				o, err := a.runResearch(cmd.Context(), &tp, "")
				rows = append(rows, benchRowOf(dir, o, err))
				if cmd.Context().Err() != nil {
					break
				}
			}
			printBench(a, rows)
			if out == "" {
				out = filepath.Join(a.cfg.RunsDir, "bench-"+time.Now().UTC().Format("20060102-150405")+".json")
			}
			b, _ := json.MarshalIndent(rows, "", "  ")
			if err := os.WriteFile(out, append(b, '\n'), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "\nwritten: %s\n", out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&tasks, "task", nil, "a task directory (repeat for several)")
	f.StringVar(&p.PlanFile, "plan", "", "implement this plan on every task (no idea phase)")
	f.StringArrayVar(&p.Papers, "paper", nil, "papers for the idea phase (without --plan)")
	f.IntVar(&p.N, "n", 3, "candidate ideas per task")
	f.StringVar(&p.Search, "search", "linear", "experiment search: linear or tree")
	f.IntVar(&p.MaxSteps, "max-steps", 0, "most agent steps per task (default: each task's limit)")
	f.IntVar(&p.Workers, "workers", 2, "with --search tree, parallel workers")
	f.IntSliceVar(&p.Seeds, "seeds", []int{0, 1, 2}, "validation seeds")
	f.BoolVar(&p.Offline, "offline", false, "do not query online literature services")
	f.StringVar(&out, "out", "", "JSON file to write (default <runs-dir>/bench-<time>.json)")
	cmd.AddCommand(a.benchPerfCommand())
	return cmd
}

func benchRowOf(dir string, o *research.Outcome, err error) benchRow {
	row := benchRow{Task: dir}
	if err != nil {
		row.Error = err.Error()
	}
	if o == nil {
		return row
	}
	row.Task, row.RunID, row.Metric, row.Goal = o.Task, o.RunID, o.Metric, o.Goal
	row.Steps, row.Tokens, row.CostUSD, row.PriceKnown = o.Steps, o.Tokens, o.Cost.USD, o.Cost.Unknown == 0
	row.WallSeconds = math.Round(o.Wall.Seconds()*10) / 10
	row.Expected = o.Expected
	if r := o.Result; r != nil {
		row.Baseline = r.Baseline
		if r.Best != nil {
			row.Best = r.Best.Metric
			d := *r.Best.Metric - r.Baseline
			row.Measured = &d
			if imp := relative(r.Baseline, *r.Best.Metric, r.Goal == "minimize"); !math.IsNaN(imp) {
				row.Improvement = &imp
			}
		}
	}
	if v := o.Verdict; v != nil {
		p := v.P
		row.P = &p
		if v.RelativeImprovement != nil {
			pct := math.Round(1e4**v.RelativeImprovement) / 1e2
			row.Improvement = &pct
		} else {
			row.Improvement = nil
		}
		row.Significant = p < v.Criterion.Alpha
		row.Success = v.Success
		if len(v.Baseline.Values) > 0 && len(v.Best.Values) > 0 {
			d := v.Best.Mean - v.Baseline.Mean
			row.Measured = &d
		}
		row.Where, row.RunSeconds = research.WhereSummary(v.Placements)
	}
	return row
}

// signed is a change of the metric for the table: its sign and 4
// significant digits, or a dash.
func signed(x *float64) string {
	if x == nil || math.IsNaN(*x) {
		return "-"
	}
	return fmt.Sprintf("%+.4g", *x)
}

// relative is the improvement in percent, in the goal's direction.
func relative(base, best float64, minimize bool) float64 {
	d := best - base
	if minimize {
		d = -d
	}
	if base == 0 {
		return math.NaN() // undefined; printed as such
	}
	return math.Round(1e4*d/math.Abs(base)) / 1e2
}

func printBench(a *app, rows []benchRow) {
	w := tabwriter.NewWriter(a.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nTASK\tBASELINE\tBEST\tIMPROVEMENT\tEXPECTED\tMEASURED\tSUCCESS\tSTEPS\tTOKENS\tCOST\tWALL\tRE-RUNS RAN")
	for _, r := range rows {
		best, imp := "-", "-"
		if r.Best != nil {
			best = fmt.Sprintf("%.4g", *r.Best)
		}
		if r.Improvement != nil && !math.IsNaN(*r.Improvement) {
			imp = fmt.Sprintf("%+.2f%%", *r.Improvement)
		} else if r.Best != nil {
			imp = "undefined (baseline 0)"
		}
		success := "no"
		switch {
		case r.Error != "":
			success = "error: " + research.ClipLine(r.Error, 40)
		case r.Success:
			success = "yes"
		case r.Improvement != nil && *r.Improvement >= 100*benchSuccess && !r.Significant:
			success = "no (not significant)"
		}
		cost := fmt.Sprintf("$%.4f", r.CostUSD)
		if !r.PriceKnown {
			cost += "?"
		}
		where := r.Where
		if where == "" {
			where = "-"
		}
		fmt.Fprintf(w, "%s\t%.4g\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\t%.0f s\t%s\n", r.Task, r.Baseline, best, imp, signed(r.Expected), signed(r.Measured),
			success, r.Steps, r.Tokens, cost, r.WallSeconds, where)
	}
	w.Flush()
}
