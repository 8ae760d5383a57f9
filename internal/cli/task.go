package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

func (a *app) taskCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "task",
		Short: "Check and import tasks (prototype code, data, evaluator)",
		Long: `A task is a directory with a task.yaml: the problem, the prototype code the agent
starts from (workspace/), how to prepare a run's data, run one experiment and score it,
the metric and its goal. See examples/tasks/ for five of them.`,
	}
	cmd.AddCommand(a.taskCheckCommand(), a.taskImportCommand(), a.taskNewCommand())
	return cmd
}

func (a *app) taskCheckCommand() *cobra.Command {
	var (
		seed    int
		workdir string
		allow   bool
	)
	cmd := &cobra.Command{
		Use:   "check DIR",
		Short: "Validate a task and score its untouched prototype (the baseline)",
		Long: `check loads DIR/task.yaml, sets up a run as mlrc would (copies the workspace, runs
prepare), runs the prototype in the sandbox, evaluates it and prints the baseline score.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := task.Load(args[0])
			if err != nil {
				return err
			}
			return a.checkTask(cmd, t, seed, workdir, allow)
		},
	}
	cmd.Flags().BoolVar(&allow, "allow-visible-labels", false, "check a task whose evaluator reads files from the workspace (where the agent could read held-out labels)")
	cmd.Flags().IntVar(&seed, "seed", 0, "the run's seed (MLRC_SEED)")
	cmd.Flags().StringVar(&workdir, "workdir", "", "set the run up in this directory and keep it (default: a temporary one, removed)")
	return cmd
}

// checkTask runs t's baseline and prints one line about it.
func (a *app) checkTask(cmd *cobra.Command, t *task.Task, seed int, workdir string, allowVisibleLabels bool) error {
	runner, err := a.taskRunner()
	if err != nil {
		return err
	}
	dir := workdir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "mlrc-check-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	l := task.Layout{Workspace: filepath.Join(dir, "workspace"), Private: filepath.Join(dir, "private")}
	b, err := t.Check(cmd.Context(), runner, l, task.Options{Python: a.cfg.Python, Seed: seed, AllowVisibleLabels: allowVisibleLabels})
	for _, w := range b.Warnings {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: %s\n", w)
	}
	if err != nil {
		if workdir != "" {
			return fmt.Errorf("check %s: %w\n(the run's files are in %s)", t.Name, err, workdir)
		}
		return fmt.Errorf("check %s: %w", t.Name, err)
	}
	s := b.Score
	fmt.Fprintf(a.env.Stdout, "%s: baseline %s = %s (%s) in %s [sandbox: %s]\n",
		t.Name, s.Metric, formatValue(s.Value), s.Goal, seconds(b.Elapsed), isolationName(b.Run.Isolation))
	prep := "no prepare"
	if b.Prepare != nil {
		prep = "prepare " + seconds(b.Prepare.Duration)
	}
	hash, err := t.Hash()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.env.Stdout, "  %s, run %s, evaluate %s; task %s\n", prep, seconds(b.Run.Duration), seconds(s.Result.Duration), hash[:12])
	if workdir != "" {
		fmt.Fprintf(a.env.Stdout, "  the run's files are in %s\n", workdir)
	}
	return nil
}

func (a *app) taskImportCommand() *cobra.Command {
	var (
		opt   task.ImportOptions
		goal  string
		check bool
	)
	cmd := &cobra.Command{
		Use:   "import SRC",
		Short: "Convert an MLAgentBench task into an mlrc task",
		Long: `import converts a task in MLAgentBench's layout (SRC/env/ with train.py and the data,
SRC/scripts/ with eval.py, answer.csv, research_problem.txt and optionally prepare.py and
read_only_files.txt) into an mlrc task directory: workspace/ from env/, eval/scripts/ held
out, a wrapper that calls the benchmark's get_score, and a task.yaml.

get_score returns a bare number: name it with --metric, and say with --goal whether higher
or lower is better unless the name says it (accuracy, f1, mae, rmse, ...). Without --metric
the name is guessed from eval.py. SRC may also name an entry of a tasks.json next to it.

Before writing anything, import surveys the task: what it downloads (Kaggle, wget, Hugging
Face, torchvision, input()) with the command to run once on a machine with network access,
the Python packages its scripts import against what is installed, workspace modules the
evaluator imports (run against clean copies), and files the evaluator reads from env/
(refused unless --allow-visible-labels). An existing scripts/prepared marker, or data already
in env/, means prepare.py is not run again.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch goal {
			case "", "maximize", "minimize":
				opt.Goal = task.Goal(goal)
			default:
				return usageError("--goal %q: want maximize or minimize", goal)
			}
			if opt.Out == "" {
				abs, err := filepath.Abs(args[0])
				if err != nil {
					return err
				}
				opt.Out = filepath.Base(abs)
			}
			imp, err := task.Import(args[0], opt)
			if err != nil {
				return err
			}
			t := imp.Task
			fmt.Fprintf(a.env.Stdout, "imported %s into %s: task %s, metric %s (%s), %d protected path(s); %s\n",
				args[0], t.Dir, t.Name, t.Metric.Name, t.Metric.Goal, len(t.Protected), imp.Survey.Class)
			if len(imp.Survey.Packages) > 0 {
				fmt.Fprintf(a.env.Stdout, "  python packages (%s):\n", task.DefaultPython)
				for _, p := range imp.Survey.Packages {
					state, who := "installed", "the prototype (the agent may work around it)"
					if !p.Installed {
						state = "MISSING"
					}
					if p.Evaluator {
						who = "the evaluator (fatal when missing)"
					}
					fmt.Fprintf(a.env.Stdout, "    %-9s %-20s needed by %s\n", state, p.Name, who)
				}
			}
			for _, n := range imp.Notes {
				fmt.Fprintf(a.env.Stdout, "  note: %s\n", n)
			}
			if !check {
				fmt.Fprintf(a.env.Stdout, "next: mlrc task check %s\n", opt.Out)
				return nil
			}
			return a.checkTask(cmd, t, 0, "", opt.AllowVisibleLabels)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.Out, "out", "", "the task directory to write (default: ./<name of SRC>)")
	f.StringVar(&opt.Name, "name", "", "the task's name (default: the name of SRC)")
	f.StringVar(&opt.Metric, "metric", "", "the name of get_score's value, e.g. accuracy or mae (default: score)")
	f.StringVar(&goal, "goal", "", "maximize or minimize (default: from the metric's name)")
	f.StringVar(&opt.Run, "run", "", "the experiment command (default: python3 train.py)")
	f.BoolVar(&check, "check", false, "check the imported task: run its baseline")
	f.BoolVar(&opt.NoPrepare, "no-prepare", false, "never run the benchmark's prepare.py")
	f.BoolVar(&opt.AllowVisibleLabels, "allow-visible-labels", false, "import a task whose eval.py reads files (held-out labels) from env/, where the agent can read them")
	return cmd
}

func (a *app) taskNewCommand() *cobra.Command {
	var (
		opt   task.NewOptions
		check bool
	)
	cmd := &cobra.Command{
		Use:   "new --csv FILE --target COL --metric M",
		Short: "Make a complete task from one CSV file, then check it",
		Long: `new writes a task directory for a CSV file: prepare.py splits it with a fixed seed
(train.csv and test.csv for the agent, the test labels held out), eval.py scores
predictions.csv with the standard metrics (accuracy, f1, auc, log_loss for classification;
rmse, mae, r2 for regression), workspace/train.py is a simple baseline (a linear model;
TF-IDF of --text), and a README. Then it runs task check on it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opt.CSV == "" || opt.Target == "" || opt.Metric == "" {
				return usageError("--csv, --target and --metric are required, e.g. mlrc task new --csv data.csv --target label --metric accuracy")
			}
			if opt.Out == "" {
				base := strings.TrimSuffix(filepath.Base(opt.CSV), filepath.Ext(opt.CSV))
				opt.Out = base + "-task"
			}
			t, err := task.New(opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.env.Stdout, "wrote task %s into %s: metric %s (%s)\n", t.Name, t.Dir, t.Metric.Name, t.Metric.Goal)
			if !check {
				fmt.Fprintf(a.env.Stdout, "next: mlrc task check %s\n", t.Dir)
				return nil
			}
			return a.checkTask(cmd, t, 0, "", false)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opt.CSV, "csv", "", "the data: one row per example, with a header")
	f.StringVar(&opt.Target, "target", "", "the column to predict")
	metrics := make([]string, 0, len(task.NewMetrics))
	for m := range task.NewMetrics {
		metrics = append(metrics, m)
	}
	sort.Strings(metrics)
	f.StringVar(&opt.Metric, "metric", "", "the metric to optimise: "+strings.Join(metrics, ", "))
	f.StringVar(&opt.ID, "id", "", "an id column (default: row numbers)")
	f.StringVar(&opt.Text, "text", "", "a free-text column (TF-IDF features in the baseline)")
	f.Float64Var(&opt.TestSize, "test-size", 0.2, "the fraction of rows held out for scoring")
	f.StringVar(&opt.Out, "out", "", "the task directory to write (default: ./<csv name>-task)")
	f.StringVar(&opt.Name, "name", "", "the task's name (default: the directory's name)")
	f.BoolVar(&check, "check", true, "run task check on the new task")
	return cmd
}

// taskRunner returns the configured sandbox, warning when its isolation is
// weaker than asked.
func (a *app) taskRunner() (sandbox.Runner, error) {
	r, isolation, err := a.sandbox()
	if err != nil {
		return nil, err
	}
	if isolation != a.cfg.Sandbox {
		fmt.Fprintf(a.env.Stderr, "mlrc: warning: %s\n", isolation)
	}
	return r, nil
}

// isolationName is the sandbox's name: "bwrap" or "fallback", without the
// details that follow it.
func isolationName(iso string) string {
	name, _, _ := strings.Cut(iso, ":")
	return name
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }

// formatValue prints a metric with four decimals, or as a whole number
// with two when it is large (an error in dollars).
func formatValue(v float64) string {
	if v >= 1000 || v <= -1000 {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.4f", v)
}
