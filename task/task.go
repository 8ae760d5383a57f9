// Package task is mlrc's task format: a directory with a task.yaml that names
// the prototype code the agent starts from (the workspace), the commands that
// prepare a run's data, run one experiment and score it, the metric and its
// goal, the workspace files the agent may not change and the limits of a run.
//
// Load reads and validates a task. Setup, Run and Evaluate are the three
// steps of a run, each in a sandbox with only what it needs: prepare sees the
// task, its data and the run's directories; an experiment sees its workspace
// and nothing else; the evaluator sees everything, read-only. Check runs the
// untouched prototype once and returns the baseline score. Import converts an
// MLAgentBench task.
package task

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// FileName is the task file inside a task directory.
const FileName = "task.yaml"

// Goal says which way a metric is better.
type Goal string

// The goals a metric can have.
const (
	Maximize Goal = "maximize"
	Minimize Goal = "minimize"
)

// Metric is the number an evaluator reports and which way is better.
type Metric struct {
	Name string
	Goal Goal
}

// Commands are the shell lines of a task, as written in task.yaml, with
// their placeholders not yet expanded.
type Commands struct {
	// Prepare runs once per run before any experiment; optional.
	Prepare string
	// Run is one experiment; its working directory is the workspace.
	Run string
	// Evaluate scores the workspace's predictions.
	Evaluate string
}

// Limits bound a run. Zero values are replaced by the defaults at Load.
type Limits struct {
	RunTimeout     time.Duration // one experiment
	EvalTimeout    time.Duration // one evaluation
	PrepareTimeout time.Duration // the prepare step
	Memory         int64         // bytes, for every step
	Disk           int64         // bytes the workspace (and private/) may hold during a step
	MaxSteps       int           // agent steps in a research run
	TotalTime      time.Duration // a whole research run
}

// DefaultLimits are used for what task.yaml leaves out.
var DefaultLimits = Limits{
	RunTimeout:     10 * time.Minute,
	EvalTimeout:    5 * time.Minute,
	PrepareTimeout: 10 * time.Minute,
	Memory:         4 << 30,
	Disk:           10 << 30,
	MaxSteps:       30,
	TotalTime:      2 * time.Hour,
}

// What an experiment's runs are compared with (task.yaml's reference:).
const (
	// ReferencePrototype: the untouched prototype's score, the baseline.
	// A prototype that gives no score stops the run. The default.
	ReferencePrototype = "prototype"
	// ReferenceFirstRun: the first experiment run that the evaluator
	// scores, for a prototype that is a template and gives no score. It is
	// a reference, not a baseline: validation re-runs its code against the
	// best solution.
	ReferenceFirstRun = "first-run"
)

// CheckReference checks a reference: value (a task.yaml key or a flag);
// empty is allowed and means the default.
func CheckReference(v string) error {
	switch v {
	case "", ReferencePrototype, ReferenceFirstRun:
		return nil
	}
	return fmt.Errorf("reference %q: want %s (the untouched prototype's score, the default) or %s (the first run that yields the metric, for a prototype that is a template)", v, ReferencePrototype, ReferenceFirstRun)
}

// Task is a loaded and validated task. Paths are absolute.
type Task struct {
	Name    string
	Problem string
	// Dir is the task directory, File its task.yaml.
	Dir, File string
	// Workspace is the template copied into each run's workspace.
	Workspace string
	// Data maps the names of external inputs to their paths.
	Data     map[string]string
	Commands Commands
	Metric   Metric
	// Protected are workspace-relative, slash-separated paths the agent may
	// not modify, without trailing slashes. A path with wildcards (*, ?,
	// [set], with * matching / too) is resolved against the run's workspace
	// after prepare; a literal path that is missing then is a warning.
	Protected []string
	// Outputs are workspace files an experiment writes and the evaluator
	// scores (submission.csv): removed before every run, so a stale one is
	// never scored. Without outputs: in task.yaml, the {workspace}/ files
	// the evaluate command names that look like predictions (pred…,
	// submission…).
	Outputs []string
	// Hide are host paths experiments must not see.
	Hide []string
	// Env is extra environment for every step.
	Env    map[string]string
	Limits Limits
	// Reference is what runs are compared with: ReferencePrototype (the
	// default) or ReferenceFirstRun.
	Reference string
}

// file is task.yaml as written.
type file struct {
	Name      string            `yaml:"name"`
	Problem   string            `yaml:"problem"`
	Workspace string            `yaml:"workspace"`
	Data      map[string]string `yaml:"data,omitempty"`
	Prepare   string            `yaml:"prepare,omitempty"`
	Run       string            `yaml:"run"`
	Evaluate  string            `yaml:"evaluate"`
	Metric    fileMetric        `yaml:"metric,flow"`
	Protected []string          `yaml:"protected,omitempty"`
	Outputs   []string          `yaml:"outputs,omitempty"`
	Hide      []string          `yaml:"hide,omitempty"`
	Env       map[string]string `yaml:"env,omitempty"`
	Limits    fileLimits        `yaml:"limits"`
	Reference string            `yaml:"reference,omitempty"`
}

type fileMetric struct {
	Name string `yaml:"name"`
	Goal string `yaml:"goal"`
}

type fileLimits struct {
	RunTimeout     string `yaml:"run_timeout,omitempty"`
	EvalTimeout    string `yaml:"eval_timeout,omitempty"`
	PrepareTimeout string `yaml:"prepare_timeout,omitempty"`
	Memory         string `yaml:"memory,omitempty"`
	Disk           string `yaml:"disk,omitempty"`
	MaxSteps       int    `yaml:"max_steps,omitempty"`
	TotalTime      string `yaml:"total_time,omitempty"`
}

// yamlSections names the YAML section of each decoded type, for errors
// about unknown keys.
var yamlSections = map[string]string{"task.file": "", "task.fileMetric": "metric.", "task.fileLimits": "limits."}

// MissingDataError is returned by Load when a data path does not exist.
type MissingDataError struct {
	Name string // the key under data:
	Path string // as resolved
}

func (e *MissingDataError) Error() string {
	hint := "fix the path, or make the data available there"
	if strings.Contains(e.Path, string(filepath.Separator)+"shared"+string(filepath.Separator)) {
		hint = "the shared data folder (../shared next to the repository) may be missing"
	}
	return fmt.Sprintf("data.%s: %s does not exist: %s", e.Name, e.Path, hint)
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	dataKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)
	envKeyRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	unknownRE = regexp.MustCompile(`line (\d+): field (\S+) not found in type (\S+)`)
)

// Load reads dir/task.yaml (or the file itself when dir names one),
// resolves its paths and validates it. Errors name the file and the field
// and say what to do.
func Load(dir string) (*Task, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	fileName := filepath.Join(abs, FileName)
	if st, err := os.Stat(abs); err == nil && !st.IsDir() {
		fileName, abs = abs, filepath.Dir(abs)
	}
	b, err := os.ReadFile(fileName)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: a task is a directory with a %s (see examples/tasks/digits)", fileName, FileName)
		}
		return nil, fmt.Errorf("read task: %w", err)
	}
	var f file
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if m := unknownRE.FindAllStringSubmatch(err.Error(), -1); m != nil {
			var keys []string
			for _, x := range m {
				keys = append(keys, fmt.Sprintf("%q (line %s)", yamlSections[x[3]]+x[2], x[1]))
			}
			return nil, fmt.Errorf("%s: unknown key %s: remove it or check its spelling (the keys are name, problem, workspace, data, prepare, run, evaluate, metric, protected, outputs, hide, env, limits, reference)", fileName, strings.Join(keys, ", "))
		}
		return nil, fmt.Errorf("%s: %w", fileName, err)
	}
	t, err := f.resolve(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fileName, err)
	}
	t.File = fileName
	return t, nil
}

// resolve turns the file into a Task rooted at dir, collecting every
// problem rather than stopping at the first.
func (f *file) resolve(dir string) (*Task, error) {
	t := &Task{
		Name:     strings.TrimSpace(f.Name),
		Problem:  strings.TrimSpace(f.Problem),
		Dir:      dir,
		Data:     map[string]string{},
		Commands: Commands{Prepare: strings.TrimSpace(f.Prepare), Run: strings.TrimSpace(f.Run), Evaluate: strings.TrimSpace(f.Evaluate)},
		Metric:   Metric{Name: strings.TrimSpace(f.Metric.Name), Goal: Goal(strings.TrimSpace(f.Metric.Goal))},
		Env:      map[string]string{},
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if t.Name == "" {
		t.Name = filepath.Base(dir)
	}
	if !nameRE.MatchString(t.Name) {
		bad("name %q: use letters, digits, '.', '_' and '-', starting with a letter or digit", t.Name)
	}
	if t.Problem == "" {
		bad("problem: missing: describe the task for the agent (what to predict, the files, the metric)")
	}

	ws := f.Workspace
	if ws == "" {
		ws = "workspace"
	}
	t.Workspace = resolvePath(dir, ws)
	if st, err := os.Stat(t.Workspace); err != nil || !st.IsDir() {
		bad("workspace: %s is not a directory: create it with the prototype code (train.py) or fix the path", t.Workspace)
	}

	for _, name := range sortedKeys(f.Data) {
		if !dataKeyRE.MatchString(name) {
			bad("data.%s: a data name must be letters, digits, '_' and '-', starting with a letter", name)
			continue
		}
		p := strings.TrimSpace(f.Data[name])
		if p == "" {
			bad("data.%s: empty path", name)
			continue
		}
		p = resolvePath(dir, p)
		if _, err := os.Stat(p); err != nil {
			errs = append(errs, &MissingDataError{Name: name, Path: p})
			continue
		}
		t.Data[name] = p
	}

	if t.Commands.Run == "" {
		bad("run: missing: the command of one experiment, e.g. python3 train.py")
	}
	if t.Commands.Evaluate == "" {
		bad("evaluate: missing: the command that scores an experiment and prints a JSON object, e.g. python3 {task}/eval/eval.py --pred {workspace}/predictions.csv --labels {private}/labels.csv")
	}
	for _, c := range []struct {
		field, line string
		allowed     []string
	}{
		{"prepare", t.Commands.Prepare, stepPlaceholders},
		{"run", t.Commands.Run, runPlaceholders},
		{"evaluate", t.Commands.Evaluate, stepPlaceholders},
	} {
		if err := checkPlaceholders(c.field, c.line, c.allowed, f.Data); err != nil {
			errs = append(errs, err)
		}
	}

	if t.Metric.Name == "" {
		bad("metric.name: missing: the key of the evaluator's JSON output to optimise, e.g. accuracy")
	}
	switch t.Metric.Goal {
	case Maximize, Minimize:
	case "":
		bad("metric.goal: missing: want maximize or minimize")
	default:
		bad("metric.goal %q: want maximize or minimize", t.Metric.Goal)
	}

	seen := map[string]bool{}
	for _, p := range f.Protected {
		clean, err := cleanRelative(p)
		if err != nil {
			bad("protected: %q: %v", p, err)
			continue
		}
		if strings.ContainsAny(clean, "*?[") {
			if _, err := fnmatchRegexp(clean); err != nil {
				bad("protected: %q: %v", p, err)
				continue
			}
		}
		if !seen[clean] {
			seen[clean] = true
			t.Protected = append(t.Protected, clean)
		}
	}
	for _, p := range f.Outputs {
		clean, err := cleanRelative(p)
		if err != nil || strings.ContainsAny(clean, "*?[") {
			bad("outputs: %q: want a file the experiment writes, relative to the workspace, e.g. submission.csv", p)
			continue
		}
		if seen[clean] {
			bad("outputs: %q is also protected: an experiment could not write it", p)
			continue
		}
		t.Outputs = append(t.Outputs, clean)
	}
	if len(f.Outputs) == 0 {
		// By default, the predictions the evaluate command names.
		for _, m := range workspaceFileRE.FindAllStringSubmatch(t.Commands.Evaluate, -1) {
			c, err := cleanRelative(m[1])
			lower := strings.ToLower(path.Base(c))
			if err == nil && !seen[c] && (strings.Contains(lower, "pred") || strings.Contains(lower, "submission")) {
				t.Outputs = appendNew(t.Outputs, c)
			}
		}
	}
	for _, p := range f.Hide {
		if !filepath.IsAbs(p) {
			bad("hide: %q: want an absolute host path, e.g. /usr/share/datasets/fashion-mnist", p)
			continue
		}
		if filepath.Clean(p) == "/" {
			bad("hide: %q: cannot hide the whole system", p)
			continue
		}
		t.Hide = append(t.Hide, filepath.Clean(p))
	}
	for _, k := range sortedKeys(f.Env) {
		if !envKeyRE.MatchString(k) {
			bad("env.%s: not a valid environment variable name", k)
			continue
		}
		if k == EnvSeed {
			bad("env.%s: set by mlrc from the run's seed; remove it", k)
			continue
		}
		t.Env[k] = f.Env[k]
	}

	t.Limits = DefaultLimits
	for _, d := range []struct {
		field string
		text  string
		dst   *time.Duration
	}{
		{"limits.run_timeout", f.Limits.RunTimeout, &t.Limits.RunTimeout},
		{"limits.eval_timeout", f.Limits.EvalTimeout, &t.Limits.EvalTimeout},
		{"limits.prepare_timeout", f.Limits.PrepareTimeout, &t.Limits.PrepareTimeout},
		{"limits.total_time", f.Limits.TotalTime, &t.Limits.TotalTime},
	} {
		if d.text == "" {
			continue
		}
		v, err := time.ParseDuration(d.text)
		if err != nil || v <= 0 {
			bad("%s %q: want a positive duration such as 90s, 10m or 2h", d.field, d.text)
			continue
		}
		*d.dst = v
	}
	for _, z := range []struct {
		field, text string
		dst         *int64
	}{
		{"limits.memory", f.Limits.Memory, &t.Limits.Memory},
		{"limits.disk", f.Limits.Disk, &t.Limits.Disk},
	} {
		if z.text == "" {
			continue
		}
		v, err := ParseSize(z.text)
		if err != nil || v <= 0 {
			bad("%s %q: want a size such as 4GiB or 512MiB", z.field, z.text)
		} else {
			*z.dst = v
		}
	}
	switch {
	case f.Limits.MaxSteps < 0:
		bad("limits.max_steps %d: want a positive number of agent steps", f.Limits.MaxSteps)
	case f.Limits.MaxSteps > 0:
		t.Limits.MaxSteps = f.Limits.MaxSteps
	}
	t.Reference = strings.TrimSpace(f.Reference)
	if err := CheckReference(t.Reference); err != nil {
		errs = append(errs, err)
	}
	if t.Reference == "" {
		t.Reference = ReferencePrototype
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return t, nil
}

// resolvePath makes p absolute relative to dir.
func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, p)
}

// cleanRelative checks a workspace-relative path and returns it cleaned,
// slash-separated, without a trailing slash.
func cleanRelative(p string) (string, error) {
	p = strings.TrimSpace(filepath.ToSlash(p))
	if p == "" {
		return "", errors.New("empty path")
	}
	if path.IsAbs(p) {
		return "", errors.New("want a path relative to the workspace, e.g. data/")
	}
	c := path.Clean(p)
	if c == "." {
		return "", errors.New("the whole workspace cannot be protected: the agent must be able to edit something")
	}
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", errors.New("leaves the workspace")
	}
	return c, nil
}

// ParseSize reads a size such as "4GiB", "512MiB", "2GB" or "1048576"
// (bytes). KiB, MiB, GiB and TiB are powers of 1024; KB, MB, GB and TB
// powers of 1000; K, M, G and T are read as KiB, MiB, GiB and TiB.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := s, ""
	if i >= 0 {
		num, unit = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i:])
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("size %q: not a number", s)
	}
	return int64(v * float64(mult)), nil
}

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Better reports whether metric value a is better than b, by the task's
// goal. NaN is never better.
func (t *Task) Better(a, b float64) bool {
	if t.Metric.Goal == Minimize {
		return a < b
	}
	return a > b
}
