package task

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The generated wrappers of an imported MLAgentBench task.
var (
	//go:embed mlab/mlab_eval.py
	mlabEval []byte
	//go:embed mlab/mlab_prepare.py
	mlabPrepare []byte
)

// ImportOptions say how to convert an MLAgentBench task.
type ImportOptions struct {
	// Out is the task directory to write; it must not exist or be empty.
	Out string
	// Name is the task's name; empty means the source directory's name.
	Name string
	// Metric names the score get_score returns; empty means "score".
	Metric string
	// Goal is required unless the metric's name says it (accuracy, mae, …).
	Goal Goal
	// Run is the experiment command; empty means "python3 train.py".
	Run string
	// NoPrepare leaves scripts/prepare.py out even when it would run.
	NoPrepare bool
	// AllowVisibleLabels imports a task whose evaluator reads files the
	// agent can read too (held-out labels in env/); refused otherwise.
	AllowVisibleLabels bool
	// Installed says which Python modules exist; nil asks DefaultPython.
	Installed Installed
}

// Imported is a converted task.
type Imported struct {
	Task *Task
	// Notes are decisions the user should know about, as sentences.
	Notes []string
	// Survey is what the task's scripts need and do.
	Survey *Survey
}

// Goals of well-known metric names, for ImportOptions.Goal.
var metricGoals = map[string]Goal{
	"accuracy": Maximize, "acc": Maximize, "f1": Maximize, "auc": Maximize, "roc_auc": Maximize, "r2": Maximize,
	"spearman": Maximize, "pearson": Maximize, "precision": Maximize, "recall": Maximize, "map": Maximize,
	"ndcg": Maximize, "bleu": Maximize, "rouge": Maximize, "iou": Maximize, "dice": Maximize,
	"mae": Minimize, "mse": Minimize, "rmse": Minimize, "rmsle": Minimize, "loss": Minimize, "error": Minimize,
	"logloss": Minimize, "log_loss": Minimize, "mape": Minimize, "smape": Minimize, "wer": Minimize,
	"cer": Minimize, "perplexity": Minimize,
}

// GoalOf returns the goal of a well-known metric name, or "".
func GoalOf(metric string) Goal { return metricGoals[strings.ToLower(metric)] }

// Import converts an MLAgentBench task directory into an mlrc task:
//
//	src/env/                      → out/workspace/ (the agent's files)
//	src/scripts/                  → out/eval/scripts/ (held out: eval.py, answer.csv, …)
//	src/scripts/research_problem.txt → problem:
//	src/scripts/read_only_files.txt  → protected:
//	src/scripts/prepare.py        → prepare: (only when answer.csv is absent)
//
// plus out/eval/mlab_eval.py, which calls the benchmark's
// get_score(workspace) and prints {"<metric>": score}, and out/task.yaml.
// The result is loaded and validated before it is returned.
func Import(src string, opt ImportOptions) (*Imported, error) {
	src, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	variant, err := tasksJSONVariant(src)
	if err != nil {
		return nil, err
	}
	if variant != nil {
		if opt.Name == "" {
			opt.Name = filepath.Base(src)
		}
		src = filepath.Join(filepath.Dir(src), variant.Folder)
	}
	env, scripts := filepath.Join(src, "env"), filepath.Join(src, "scripts")
	for _, need := range []string{env, filepath.Join(scripts, "research_problem.txt")} {
		if _, err := os.Stat(need); err != nil {
			return nil, fmt.Errorf("import %s: %s is missing: an MLAgentBench task has env/ (the agent's files), scripts/eval.py (with get_score) and scripts/research_problem.txt", src, need)
		}
	}
	problem, err := os.ReadFile(filepath.Join(scripts, "research_problem.txt"))
	if err != nil {
		return nil, err
	}
	if variant != nil && strings.TrimSpace(variant.Problem) != "" {
		problem = []byte(variant.Problem)
	}
	if opt.Installed == nil {
		opt.Installed = PythonInstalled(DefaultPython)
	}
	survey, err := Inspect(src, opt.Installed)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}
	if !survey.Evaluator {
		return nil, fmt.Errorf("import %s: scripts/eval.py is missing or defines no get_score(submission_folder): the task has no evaluator, so nothing can score it; write one (see examples/tasks)", src)
	}
	if len(survey.VisibleLabels) > 0 && !opt.AllowVisibleLabels {
		return nil, fmt.Errorf("import %s: get_score reads %s from the submission folder (env/), which the agent can read: held-out labels there let it score itself perfectly. Move them to scripts/ and read them from there, or import anyway with --allow-visible-labels", src, strings.Join(survey.VisibleLabels, ", "))
	}
	if strings.TrimSpace(string(problem)) == "" {
		return nil, fmt.Errorf("import %s: scripts/research_problem.txt is empty", src)
	}

	imp := &Imported{Survey: survey}
	note := func(format string, args ...any) { imp.Notes = append(imp.Notes, fmt.Sprintf(format, args...)) }

	if opt.Name == "" {
		opt.Name = regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(filepath.Base(src), "-")
	}
	if opt.Metric == "" && survey.Metric != "" {
		opt.Metric = survey.Metric
		if opt.Goal == "" {
			opt.Goal = survey.Goal
		}
		note("metric %s (%s): guessed from scripts/eval.py; say --metric and --goal if that is wrong", opt.Metric, opt.Goal)
	}
	if opt.Metric == "" {
		opt.Metric = "score"
	}
	if len(survey.VisibleLabels) > 0 {
		note("WARNING: get_score reads %s from the agent's folder (imported with --allow-visible-labels)", strings.Join(survey.VisibleLabels, ", "))
	}
	if variant != nil {
		note("variant %s of tasks.json: the task in %s, with its own research problem", opt.Name, variant.Folder)
	}
	if opt.Goal == "" {
		opt.Goal = GoalOf(opt.Metric)
		if opt.Goal == "" {
			return nil, fmt.Errorf("import %s: is a higher or a lower %q better? Say --goal maximize or --goal minimize (or name the metric with --metric, e.g. accuracy or mae)", src, opt.Metric)
		}
		note("metric %s: goal %s, from its name", opt.Metric, opt.Goal)
	}
	if opt.Goal != Maximize && opt.Goal != Minimize {
		return nil, fmt.Errorf("import: goal %q: want maximize or minimize", opt.Goal)
	}
	if opt.Run == "" {
		opt.Run = "python3 train.py"
		if _, err := os.Stat(filepath.Join(env, "train.py")); err != nil {
			return nil, fmt.Errorf("import %s: env/train.py is missing: say which command runs an experiment with --run", src)
		}
	}
	if opt.Out == "" {
		return nil, errors.New("import: no output directory")
	}
	out, err := filepath.Abs(opt.Out)
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("import: %s is not empty: choose a new directory with --out", out)
	}

	protected, err := readOnlyFiles(env, filepath.Join(scripts, "read_only_files.txt"), note)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", src, err)
	}

	f := file{
		Name:      opt.Name,
		Problem:   strings.TrimSpace(string(problem)) + "\n",
		Workspace: "workspace",
		Run:       opt.Run,
		Evaluate:  "python3 {task}/eval/mlab_eval.py --scripts {task}/eval/scripts --vendor {task}/eval/vendor --workspace {workspace} --private {private} --metric " + shellQuote(opt.Metric),
		Metric:    fileMetric{Name: opt.Metric, Goal: string(opt.Goal)},
		Protected: protected,
		Outputs:   survey.Outputs,
		Limits: fileLimits{
			RunTimeout:  shortDuration(DefaultLimits.RunTimeout),
			EvalTimeout: shortDuration(DefaultLimits.EvalTimeout),
			Memory:      "4GiB",
			MaxSteps:    DefaultLimits.MaxSteps,
			TotalTime:   shortDuration(DefaultLimits.TotalTime),
		},
	}
	if variant != nil {
		if variant.MaxSteps > 0 {
			f.Limits.MaxSteps = variant.MaxSteps
		}
		if variant.MaxTime > 0 {
			f.Limits.TotalTime = shortDuration(time.Duration(variant.MaxTime) * time.Second)
		}
	}
	if len(f.Outputs) == 0 {
		note("get_score names no submission file: no output is removed before each run, so a stale file could be scored; add outputs: to task.yaml")
	}
	_, errAnswer := os.Stat(filepath.Join(scripts, "answer.csv"))
	_, errPrepare := os.Stat(filepath.Join(scripts, "prepare.py"))
	switch {
	case errPrepare != nil:
		if errAnswer != nil {
			note("scripts/answer.csv is missing: eval.py must find its labels some other way")
		}
	case opt.NoPrepare:
		note("--no-prepare: scripts/prepare.py is not run (it is kept in eval/scripts)")
	case survey.Prepared:
		note("the data is already prepared (scripts/prepared, or the files prepare makes are in env/): scripts/prepare.py is not run again, so it cannot destroy them")
	case len(survey.Downloads) > 0:
		note("scripts/prepare.py is not run: it needs the network, which runs never have")
	case errAnswer == nil:
		note("scripts/answer.csv exists, so scripts/prepare.py is not run (it is kept in eval/scripts)")
	default:
		f.Prepare = "python3 {task}/eval/mlab_prepare.py --scripts {task}/eval/scripts --workspace {workspace} --private {private}"
		note("scripts/prepare.py runs at the start of every run, without network or input; files it writes into scripts/ are held out for the evaluator")
	}
	if len(survey.Downloads) > 0 && !survey.Prepared {
		var what []string
		for _, d := range survey.Downloads {
			what = append(what, d.Kind+": "+d.What+" ("+d.File+")")
		}
		note("NEEDS DOWNLOAD: %s. Once, on a machine with network access: cd %s && python3 prepare.py && touch prepared; then import the task again", strings.Join(what, "; "), scripts)
	}
	if m := survey.MissingEvaluatorPackages(); len(m) > 0 {
		note("MISSING PACKAGES the evaluator needs (fatal): %s; install them for %s", strings.Join(m, ", "), DefaultPython)
	}
	if m := survey.MissingAgentPackages(); len(m) > 0 {
		note("packages only the prototype imports, not installed: %s (the agent may work around them)", strings.Join(m, ", "))
	}
	if survey.Template {
		note("train.py is a template that leaves the model to the agent: it produces no submission, so task check has no baseline. Run anyway with `mlrc research --reference first-run` (or `mlrc experiment --reference first-run`, or `reference: first-run` in task.yaml): the first working run becomes the reference, not a baseline, and validation compares the best against its code")
	}
	if len(survey.WorkspaceModules) > 0 {
		note("the evaluator imports %s from the workspace: it runs against clean copies in eval/vendor, so the agent's edits cannot change the metric", strings.Join(survey.WorkspaceModules, ", "))
	}

	if err := os.MkdirAll(filepath.Join(out, "eval"), 0o755); err != nil {
		return nil, err
	}
	if err := CopyDir(filepath.Join(out, "workspace"), env); err != nil {
		return nil, fmt.Errorf("import: copy env/: %w", err)
	}
	if err := CopyDir(filepath.Join(out, "eval", "scripts"), scripts); err != nil {
		return nil, fmt.Errorf("import: copy scripts/: %w", err)
	}
	if err := os.WriteFile(filepath.Join(out, "eval", "mlab_eval.py"), mlabEval, 0o644); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(out, "eval", "vendor"), 0o755); err != nil {
		return nil, err
	}
	for _, m := range survey.WorkspaceModules {
		if err := CopyFile(filepath.Join(out, "eval", "vendor", m), filepath.Join(env, m), 0o644); err != nil {
			return nil, fmt.Errorf("import: vendor %s: %w", m, err)
		}
	}
	if f.Prepare != "" {
		if err := os.WriteFile(filepath.Join(out, "eval", "mlab_prepare.py"), mlabPrepare, 0o644); err != nil {
			return nil, err
		}
	}
	var y bytes.Buffer
	enc := yaml.NewEncoder(&y)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, err
	}
	header := fmt.Sprintf("# Imported from the MLAgentBench task %s by `mlrc task import`.\n"+
		"# workspace/ is its env/; eval/scripts/ its scripts/ (held out: never visible to experiments).\n"+
		"# eval/mlab_eval.py calls scripts/eval.py's get_score on the run's workspace; the workspace modules\n"+
		"# eval.py imports come from eval/vendor/ (clean copies), never from the workspace.\n", src)
	if err := os.WriteFile(filepath.Join(out, FileName), append([]byte(header), y.Bytes()...), 0o644); err != nil {
		return nil, err
	}
	if imp.Task, err = Load(out); err != nil {
		return nil, fmt.Errorf("import: the generated task does not load: %w", err)
	}
	return imp, nil
}

// variant is an entry of MLAgentBench's benchmarks/tasks.json: a task
// name for a benchmark folder with its own research problem and limits.
type variant struct {
	Folder   string `json:"benchmark_folder_name"`
	Problem  string `json:"research_problem"`
	MaxSteps int    `json:"max_steps"`
	MaxTime  int    `json:"max_time"` // seconds
}

// tasksJSONVariant returns the variant src names when src is not a
// directory but its parent's tasks.json has an entry for its name.
func tasksJSONVariant(src string) (*variant, error) {
	if _, err := os.Stat(src); err == nil {
		return nil, nil
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(src), "tasks.json"))
	if err != nil {
		return nil, nil
	}
	var all map[string]variant
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, fmt.Errorf("import: %s: %w", filepath.Join(filepath.Dir(src), "tasks.json"), err)
	}
	v, ok := all[filepath.Base(src)]
	if !ok {
		return nil, nil
	}
	if v.Folder == "" || strings.ContainsAny(v.Folder, `/\`) {
		return nil, fmt.Errorf("import: tasks.json: %s: benchmark_folder_name %q: want a folder next to tasks.json", filepath.Base(src), v.Folder)
	}
	return &v, nil
}

// readOnlyFiles turns MLAgentBench's read_only_files.txt into protected
// paths. Each line is a shell pattern matched (like Python's fnmatch, where
// * also matches /) against the files of env/, with or without a leading
// "./". Patterns are kept as written and resolved in each run after
// prepare; a literal name is kept even when env/ lacks the file (prepare
// may create it; if not, it is a warning, not an error). Without the file, every file of env/ except
// code and the usual submission files is protected.
func readOnlyFiles(env, list string, note func(string, ...any)) ([]string, error) {
	var files []string
	err := filepath.WalkDir(env, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(env, p)
		if skipFile(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	b, err := os.ReadFile(list)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		for _, f := range files {
			switch strings.ToLower(filepath.Ext(f)) {
			case ".py", ".sh", ".ipynb", ".md":
				continue
			}
			if base := filepath.Base(f); base == "submission.csv" || base == "predictions.csv" {
				continue
			}
			set[f] = true
		}
		if len(set) > 0 {
			note("no scripts/read_only_files.txt: protecting every data file of env/ (%d); edit protected: in task.yaml to change that", len(set))
		}
	case err != nil:
		return nil, err
	default:
		for _, line := range strings.Split(string(b), "\n") {
			pat := strings.TrimSpace(line)
			if pat == "" || strings.HasPrefix(pat, "#") {
				continue
			}
			pat = strings.TrimPrefix(pat, "./")
			if !strings.ContainsAny(pat, "*?[") {
				if c, err := cleanRelative(pat); err == nil {
					set[c] = true
				} else {
					note("read_only_files.txt: %q left out: %v", line, err)
				}
				continue
			}
			if _, err := fnmatchRegexp(pat); err != nil {
				note("read_only_files.txt: %q left out: %v", line, err)
				continue
			}
			// Kept as a pattern: resolved in each run's workspace after
			// prepare, which usually makes the files it matches.
			set[pat] = true
		}
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out, nil
}

// matchFiles returns the files under root (slash-separated, relative)
// that the fnmatch pattern pat matches.
func matchFiles(root, pat string) ([]string, error) {
	re, err := fnmatchRegexp(pat)
	if err != nil {
		return nil, err
	}
	var out []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if skipFile(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && re.MatchString(filepath.ToSlash(rel)) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	return out, err
}

// fnmatchRegexp translates a Python fnmatch pattern: * matches anything,
// / included; ? one character; [seq] and [!seq] sets.
func fnmatchRegexp(pat string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pat[i+1:], ']')
			if j < 0 {
				b.WriteString(`\[`)
				continue
			}
			set := pat[i+1 : i+1+j]
			if strings.HasPrefix(set, "!") {
				set = "^" + set[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(set, `\`, `\\`) + "]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// shortDuration writes d as task.yaml does: 10m, 2h, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
