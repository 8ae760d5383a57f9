package task

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mlrc/mlrc/sandbox"
)

// DefaultPython runs a task's python commands when Options.Python is empty.
const DefaultPython = "/usr/bin/python3"

// EnvSeed is the environment variable that carries the run's seed to
// prepare, run and evaluate. Prototype code should read it for all its
// randomness: validation re-runs an experiment with several seeds.
const EnvSeed = "MLRC_SEED"

// EnvPerExample is the environment variable that asks an evaluator for its
// per-example output (Options.PerExample): the path of a CSV file to write
// with the columns id,label,prediction and, for a probabilistic metric
// (AUC, log loss), either score, the predicted probability of the positive
// class (binary), or one p_<class> column per class with the probabilities
// as scored (multi-class; mlrc recomputes the metric, e.g. one-vs-rest AUC,
// on each resample).
// Validation reads it for its paired bootstrap over the held-out examples.
// Evaluators that do not know it ignore it.
const EnvPerExample = "MLRC_PER_EXAMPLE"

// Layout is where one run lives on the host.
type Layout struct {
	// Workspace is the run's copy of the workspace template: the agent's
	// files, where experiments run.
	Workspace string
	// Private holds what prepare keeps from the agent (held-out labels);
	// only prepare and the evaluator see it.
	Private string
}

// Options are the settings of one invocation.
type Options struct {
	// Python is the interpreter; empty means DefaultPython.
	Python string
	// Seed is passed as {seed} and MLRC_SEED.
	Seed int
	// AllowVisibleLabels lets Check score a task whose evaluator reads
	// files from the workspace besides its outputs (see VisibleLabels).
	AllowVisibleLabels bool
	// PerExample, when set, is a host file for the evaluator's
	// per-example output (EnvPerExample); the evaluator may write its
	// directory, which must exist and hold nothing else of value.
	PerExample string
}

func (o Options) python() string {
	if o.Python == "" {
		return DefaultPython
	}
	return o.Python
}

// The placeholders each command may use. data.NAME is allowed wherever
// "data" is listed.
var (
	stepPlaceholders = []string{"task", "workspace", "private", "data", "python", "seed"}
	runPlaceholders  = []string{"workspace", "python", "seed"}
)

// placeholderRE matches {name} and {data.name}; a leading $ marks a shell
// variable (${HOME}), which is left alone.
var placeholderRE = regexp.MustCompile(`(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_-]+))?\}`)

// leadingPython matches a command's first word when it is python or python3.
var leadingPython = regexp.MustCompile(`^(\s*)(python3|python)(\s|$)`)

// checkPlaceholders reports placeholders line may not use.
func checkPlaceholders(field, line string, allowed []string, data map[string]string) error {
	for _, m := range placeholderRE.FindAllStringSubmatch(line, -1) {
		if m[1] == "$" {
			continue
		}
		name, sub := m[2], m[3]
		known := false
		for _, a := range stepPlaceholders {
			known = known || a == name
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		switch {
		case !known:
			return fmt.Errorf("%s: unknown placeholder %s: the placeholders are {task}, {workspace}, {private}, {data.NAME}, {python} and {seed}", field, m[0][len(m[1]):])
		case !ok:
			return fmt.Errorf("%s: %s is not visible to experiments: an experiment sees only its workspace; use {workspace}, {python} or {seed}, and let prepare copy what the agent may see into the workspace", field, m[0][len(m[1]):])
		case name == "data" && sub == "":
			return fmt.Errorf("%s: {data} needs a name: {data.NAME} with NAME a key of data:", field)
		case name == "data":
			if _, ok := data[sub]; !ok {
				return fmt.Errorf("%s: {data.%s} names no entry of data: (add data: {%s: PATH})", field, sub, sub)
			}
		case sub != "":
			return fmt.Errorf("%s: unknown placeholder %s: only data takes a .NAME", field, m[0][len(m[1]):])
		}
	}
	return nil
}

// vars are the values of the placeholders for a run.
func (t *Task) vars(l Layout, opt Options) map[string]string {
	v := map[string]string{
		"task":      t.Dir,
		"workspace": l.Workspace,
		"private":   l.Private,
		"python":    opt.python(),
		"seed":      strconv.Itoa(opt.Seed),
	}
	for k, p := range t.Data {
		v["data."+k] = p
	}
	return v
}

// runVars keeps the placeholders an experiment may use.
func runVars(all map[string]string) map[string]string {
	v := map[string]string{}
	for _, k := range runPlaceholders {
		v[k] = all[k]
	}
	return v
}

// Expand replaces the placeholders of line with their values for a run,
// quoted for the shell, and a leading python or python3 word with the
// configured interpreter.
func (t *Task) Expand(line string, l Layout, opt Options) string {
	return expand(line, t.vars(l, opt), opt)
}

// expand replaces the placeholders of line that vars has; others are left
// as they are.
func expand(line string, vars map[string]string, opt Options) string {
	out := placeholderRE.ReplaceAllStringFunc(line, func(m string) string {
		sm := placeholderRE.FindStringSubmatch(m)
		if sm[1] == "$" {
			return m
		}
		key := sm[2]
		if sm[3] != "" {
			key += "." + sm[3]
		}
		v, ok := vars[key]
		if !ok {
			return m
		}
		return shellQuote(v)
	})
	return leadingPython.ReplaceAllString(out, "${1}"+strings.ReplaceAll(shellQuote(opt.python()), "$", "$$")+"${3}")
}

// shellQuote quotes s for /bin/sh when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_./:=@%+,-", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// env is the whole environment of a step: nothing of mlrc's own, the
// thread settings experiments need on a small machine, the task's env and
// the seed.
func (t *Task) env(opt Options) map[string]string {
	seed := strconv.Itoa(opt.Seed)
	env := map[string]string{
		"OMP_NUM_THREADS":         "1",
		"MKL_NUM_THREADS":         "1",
		"OPENBLAS_NUM_THREADS":    "1",
		"PYTHONDONTWRITEBYTECODE": "1",
		"PYTHONHASHSEED":          seed,
		"PYTHONUNBUFFERED":        "1",
	}
	for k, v := range t.Env {
		env[k] = v
	}
	env[EnvSeed] = seed
	return env
}

func shell(line string) []string { return []string{"/bin/sh", "-c", line} }

// prepareSpec runs prepare: the task and its data read-only, the run's
// workspace and private directory writable.
func (t *Task) prepareSpec(l Layout, opt Options) sandbox.Spec {
	mounts := []sandbox.Mount{{Source: t.Dir}}
	for _, p := range t.Data {
		mounts = append(mounts, sandbox.Mount{Source: p})
	}
	mounts = append(mounts, sandbox.Mount{Source: l.Workspace, Writable: true}, sandbox.Mount{Source: l.Private, Writable: true})
	return sandbox.Spec{
		Name:    "prepare",
		Command: shell(t.Expand(t.Commands.Prepare, l, opt)),
		Dir:     t.Dir,
		Mounts:  orderMounts(mounts),
		Env:     t.env(opt),
		Limits:  sandbox.Limits{Wall: t.Limits.PrepareTimeout, Memory: t.Limits.Memory, Disk: t.Limits.Disk},
	}
}

// hideCover is what hidden paths are covered with: an empty directory
// and an empty file on the host.
type hideCover struct{ dir, file string }

// commandSpec runs line as an experiment: the workspace writable except
// its protected paths, nothing else of the task, the hidden paths covered
// by empty ones.
func (t *Task) commandSpec(line string, l Layout, opt Options, cover hideCover) (sandbox.Spec, error) {
	mounts := []sandbox.Mount{{Source: l.Workspace, Writable: true}}
	hidden, err := t.hidden(l)
	if err != nil {
		return sandbox.Spec{}, err
	}
	for _, h := range hidden {
		src := cover.dir
		if !h.dir {
			src = cover.file
		}
		mounts = append(mounts, sandbox.Mount{Source: src, Target: h.path})
	}
	var ro []string
	protected, _ := t.ProtectedPaths(l.Workspace)
	for _, p := range protected {
		ro = append(ro, filepath.Join(l.Workspace, filepath.FromSlash(p)))
	}
	return sandbox.Spec{
		Name:     "exec",
		Command:  shell(expand(line, runVars(t.vars(l, opt)), opt)),
		Dir:      l.Workspace,
		Mounts:   mounts,
		ReadOnly: ro,
		Env:      t.env(opt),
		Limits:   sandbox.Limits{Wall: t.Limits.RunTimeout, Memory: t.Limits.Memory, Disk: t.Limits.Disk},
	}, nil
}

// evaluateSpec runs the evaluator: the task, its data, the workspace and the
// private directory, all read-only; with Options.PerExample, the directory
// of that file writable.
func (t *Task) evaluateSpec(l Layout, opt Options) sandbox.Spec {
	mounts := []sandbox.Mount{{Source: t.Dir}}
	for _, p := range t.Data {
		mounts = append(mounts, sandbox.Mount{Source: p})
	}
	mounts = append(mounts, sandbox.Mount{Source: l.Workspace}, sandbox.Mount{Source: l.Private})
	env := t.env(opt)
	if opt.PerExample != "" {
		mounts = append(mounts, sandbox.Mount{Source: filepath.Dir(opt.PerExample), Writable: true})
		env[EnvPerExample] = opt.PerExample
	}
	return sandbox.Spec{
		Name:    "evaluate",
		Command: shell(t.Expand(t.Commands.Evaluate, l, opt)),
		Dir:     t.Dir,
		Mounts:  orderMounts(mounts),
		Env:     env,
		Limits:  sandbox.Limits{Wall: t.Limits.EvalTimeout, Memory: t.Limits.Memory, Disk: t.Limits.Disk},
	}
}

// orderMounts drops repeated sources and puts parents before children, so
// a writable workspace inside a read-only directory stays writable.
func orderMounts(ms []sandbox.Mount) []sandbox.Mount {
	seen := map[string]bool{}
	var out []sandbox.Mount
	for _, m := range ms {
		if seen[m.Source] {
			continue
		}
		seen[m.Source] = true
		out = append(out, m)
	}
	sort.SliceStable(out, func(i, j int) bool { return depth(out[i].Source) < depth(out[j].Source) })
	return out
}

func depth(p string) int { return strings.Count(filepath.Clean(p), string(filepath.Separator)) }

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

type hiddenPath struct {
	path string
	dir  bool
}

// hidden lists what an experiment must not see: the task's hide paths and,
// in case the sandbox shows more of the host than the workspace, the task
// directory, its data and the private directory. Paths that do not exist
// are skipped, and so are paths inside another hidden one.
func (t *Task) hidden(l Layout) ([]hiddenPath, error) {
	var cand []string
	for _, h := range t.Hide {
		if within(l.Workspace, h) || within(h, l.Workspace) {
			return nil, fmt.Errorf("hide: %s overlaps the run's workspace %s", h, l.Workspace)
		}
		cand = append(cand, h)
	}
	auto := []string{t.Dir, t.Workspace, l.Private}
	for _, p := range t.Data {
		auto = append(auto, p)
	}
	for _, p := range auto {
		if p != "" && !within(l.Workspace, p) && !within(p, l.Workspace) {
			cand = append(cand, p)
		}
	}
	sort.Strings(cand)
	var out []hiddenPath
next:
	for _, p := range cand {
		for _, h := range out {
			if within(p, h.path) {
				continue next
			}
		}
		st, err := os.Stat(p)
		if err != nil {
			continue
		}
		out = append(out, hiddenPath{path: p, dir: st.IsDir()})
	}
	return out, nil
}
