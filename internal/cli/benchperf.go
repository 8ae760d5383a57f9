package cli

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/internal/perf"
	"github.com/mlrc/mlrc/paper"
	"github.com/mlrc/mlrc/report"
	"github.com/mlrc/mlrc/research"
	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/task"
)

// perfParams are mlrc bench perf's settings.
type perfParams struct {
	Runs  int
	Steps int
	Seeds []int
	Task  string
	PDF   string
	Reps  int // python -c pass per run and way
}

func (a *app) benchPerfCommand() *cobra.Command {
	p := perfParams{}
	cmd := &cobra.Command{
		Use:   "perf [--runs 5] [--steps 30] [--task DIR] [--pdf FILE]",
		Short: "Measure mlrc's performance figures as ratios and print them with their goals",
		Long: `Measures, each --runs times: mlrc's own time per agent step (a --steps step run on the task with an
instant scripted model, step time minus sandboxed time), the whole run's wall time over its summed
sandboxed time, python -c pass in the sandbox over bare (and bwrap alone over bare, for reference),
validation's wall time over its re-runs' summed time per core, the report phase, the first PDF read
in a fresh HOME (after a first use on the machine), and the binary's size. Prints a table: figure,
goal, median, min, max, runs, pass or FAIL. No model or network is needed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if p.Runs < 1 || p.Steps < 2 || p.Reps < 1 {
				return usageError("--runs and --reps must be at least 1, --steps at least 2")
			}
			figs, phases, err := a.benchPerf(cmd.Context(), p)
			if figs != nil {
				fmt.Fprintln(a.env.Stdout)
				perf.Print(a.env.Stdout, figs)
			}
			if len(phases) > 0 {
				fmt.Fprintf(a.env.Stdout, "\nsandbox start, median per phase (python -c pass, last run): %s\n", phases)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.Runs, "runs", 5, "runs of each figure (the median is judged)")
	f.IntVar(&p.Steps, "steps", 30, "agent steps of the scripted experiment run")
	f.IntSliceVar(&p.Seeds, "seeds", []int{0, 1, 2}, "validation seeds (two arms each)")
	f.IntVar(&p.Reps, "reps", 10, "python -c pass per run, each way")
	f.StringVar(&p.Task, "task", "examples/tasks/digits", "task for the experiment and validation figures")
	f.StringVar(&p.PDF, "pdf", "", "PDF for the first-PDF figure (default: the first in ../shared/papers)")
	cmd.AddCommand(a.pdfChildCommand())
	return cmd
}

// pdfChildCommand reads one PDF and exits: the process bench perf times
// in a fresh HOME.
func (a *app) pdfChildCommand() *cobra.Command {
	return &cobra.Command{
		Use:    "pdf-child FILE",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := paper.Load(cmd.Context(), args[0], paper.Options{Offline: true})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "%s: %d characters\n", args[0], len(p.Text))
			return nil
		},
	}
}

// The figures, in the table's order, with the goals.
const (
	figStep     = "own time per agent step"
	figWall     = "run wall ÷ sandboxed time"
	figSandbox  = "python -c pass: sandbox ÷ bare"
	figBwrap    = "  (bwrap alone ÷ bare)"
	figOverBw   = "  (sandbox ÷ bwrap alone)"
	figValidate = "validation wall ÷ (re-runs ÷ cores)"
	figReport   = "report phase"
	figPDF      = "first PDF, fresh HOME"
	figBinary   = "binary size"
)

// binaryGoal is the size the release binary (stripped) is held to: what
// the chosen libraries take today, so that growth shows.
const binaryGoal = 85

func (a *app) benchPerf(ctx context.Context, p perfParams) (figs []perf.Figure, phases string, err error) {
	figs = []perf.Figure{
		{Name: figStep, Limit: 5, Unit: "ms", Note: fmt.Sprintf("%d-step run, instant scripted model, median over steps", p.Steps)},
		{Name: figWall, Limit: 1.03, Unit: "×"},
		{Name: figSandbox, Limit: 1.45, Unit: "×"},
		{Name: figBwrap, Limit: math.NaN(), Unit: "×", Note: "reference: what bwrap itself costs"},
		{Name: figOverBw, Limit: math.NaN(), Unit: "×", Note: "reference: what mlrc adds to bwrap (shim, uid, limits, seccomp)"},
		{Name: figValidate, Limit: 1.15, Unit: "×", Note: fmt.Sprintf("%d seeds × 2 arms, %d cores", len(p.Seeds), perf.Cores())},
		{Name: figReport, Limit: 0.5, Unit: "s"},
		{Name: figPDF, Limit: 1, Unit: "s", Note: "after a first use on the machine"},
		{Name: figBinary, Limit: binaryGoal, Unit: "MB"},
	}
	fig := func(name string) *perf.Figure {
		for i := range figs {
			if figs[i].Name == name {
				return &figs[i]
			}
		}
		panic("no figure " + name)
	}
	progress := func(format string, args ...any) {
		fmt.Fprintf(a.env.Stderr, "bench perf: "+format+"\n", args...)
	}

	// Binary: once; it does not vary.
	if exe, err := os.Executable(); err == nil {
		if mb, symbols, err := perf.Binary(exe); err == nil {
			f := fig(figBinary)
			f.Values = []float64{mb}
			f.Note = "stripped (make build)"
			if symbols {
				f.Note = "NOT stripped: build with make build (-s -w)"
			}
		}
	}

	t, err := task.Load(p.Task)
	if err != nil {
		return figs, phases, usageError("--task: %w", err)
	}
	runner, isolation, err := a.sandbox()
	if err != nil {
		return figs, phases, err
	}
	dir, err := os.MkdirTemp("", "mlrc-bench-perf-")
	if err != nil {
		return figs, phases, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "mlrc.db"))
	if err != nil {
		return figs, phases, err
	}
	defer st.Close()
	lab := perf.Lab{Task: t, Runner: runner, Isolation: isolation, Python: a.cfg.Python, Dir: dir, Store: st}
	bw, _ := runner.(*sandbox.Bwrap)
	if bw == nil {
		fig(figSandbox).Note = "bwrap is not in use: " + isolation
	}
	fixture, err := perf.Setup(ctx, lab)
	if err != nil {
		return figs, phases, fmt.Errorf("set up %s: %w", p.Task, err)
	}

	pdf := p.PDF
	if pdf == "" {
		pdf, _ = perf.SharedPDF(sharedPapersDir())
	}
	var self []string
	if exe, err := os.Executable(); err == nil && pdf != "" {
		self = []string{exe, "bench", "perf", "pdf-child"}
		// The first use on the machine, not counted.
		if _, err := perf.FirstPDF(ctx, self, pdf); err != nil {
			fig(figPDF).Note = err.Error()
			self = nil
		}
	} else {
		fig(figPDF).Note = "no PDF: pass --pdf FILE"
	}

	for i := range p.Runs {
		progress("run %d of %d", i+1, p.Runs)
		sr, err := perf.Steps(ctx, lab, p.Steps)
		if err != nil {
			return figs, phases, fmt.Errorf("experiment run: %w", err)
		}
		f := fig(figStep)
		f.Values = append(f.Values, median(sr.Overhead))
		f = fig(figWall)
		f.Values = append(f.Values, sr.Wall.Seconds()/sr.Sandboxed.Seconds())
		var inSteps float64
		for _, o := range sr.Overhead {
			inSteps += o
		}
		own := (sr.Wall - sr.Sandboxed).Seconds() * 1000
		progress("experiment run: wall %.2f s, sandboxed %.2f s; mlrc's own %.0f ms: %.0f ms in the agent steps "+
			"(snapshots of what a step wrote or ran), %.0f ms around them (setup, prototype snapshot, restores, best code, store)",
			sr.Wall.Seconds(), sr.Sandboxed.Seconds(), own, inSteps, own-inSteps)

		start := time.Now()
		if err := a.benchReport(ctx, sr, t, fixture.TaskHash, isolation); err != nil {
			return figs, phases, fmt.Errorf("report phase: %w", err)
		}
		f = fig(figReport)
		f.Values = append(f.Values, time.Since(start).Seconds())

		best := sr.Result.BestDir
		if _, err := os.Stat(best); err != nil {
			best = sr.Result.Workspace
		}
		ratio, err := perf.Validation(ctx, lab, fixture, best, p.Seeds)
		if err != nil {
			return figs, phases, fmt.Errorf("validation: %w", err)
		}
		f = fig(figValidate)
		f.Values = append(f.Values, ratio)

		if bw != nil {
			c, err := perf.MeasureSandbox(ctx, runner, bw, a.cfg.Python, p.Reps)
			if err != nil {
				return figs, phases, fmt.Errorf("sandbox cost: %w", err)
			}
			fig(figSandbox).Values = append(fig(figSandbox).Values, c.Sandbox)
			fig(figBwrap).Values = append(fig(figBwrap).Values, c.Bwrap)
			fig(figOverBw).Values = append(fig(figOverBw).Values, c.Sandbox/c.Bwrap)
			var parts []string
			for _, ph := range c.Phases {
				parts = append(parts, fmt.Sprintf("%s %.1f ms", ph.Name, ph.Took.Seconds()*1000))
			}
			phases = strings.Join(parts, ", ")
		}
		if self != nil {
			s, err := perf.FirstPDF(ctx, self, pdf)
			if err != nil {
				return figs, phases, err
			}
			fig(figPDF).Values = append(fig(figPDF).Values, s)
		}
	}
	return figs, phases, nil
}

// benchReport is the report phase of the bench's experiment run: the
// report's data, the manifest (Python's packages) included, written as
// report.md and report.html.
func (a *app) benchReport(ctx context.Context, sr *perf.StepRun, t *task.Task, taskHash, isolation string) error {
	p := &research.Params{Task: t.Dir, Model: "scripted/instant", Search: "linear", Seeds: []int{0}}
	r := research.New(research.Options{Store: sr.Run, Task: t, Isolation: isolation, Python: a.cfg.Python, Packages: pythonPackages})
	d, err := r.ReportData(ctx, p, &research.State{Result: sr.Result, TaskHash: taskHash})
	if err != nil {
		return err
	}
	return report.Write(sr.Run.Dir, d)
}

func median(xs []float64) float64 { return perf.Figure{Values: xs}.Median() }

// sharedPapersDir is ../shared/papers beside the working directory, where
// the project's sample papers live.
func sharedPapersDir() string {
	if abs, err := filepath.Abs(filepath.Join("..", "shared", "papers")); err == nil {
		return abs
	}
	return ""
}
