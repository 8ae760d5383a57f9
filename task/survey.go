package task

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Class is what stands between an imported task and its baseline.
type Class string

// The classes of a surveyed task, worst first.
const (
	// NoEvaluator: scripts/eval.py with get_score is missing; nothing can
	// score the task.
	NoEvaluator Class = "no evaluator"
	// MissingPackages: a package the evaluator imports is not installed.
	MissingPackages Class = "missing packages"
	// NeedsDownload: the data is not there and prepare (or the evaluator)
	// fetches it from the network.
	NeedsDownload Class = "needs download"
	// OK: nothing known stands in the way.
	OK Class = "ok"
)

// Download is one thing a task's scripts fetch from the network.
type Download struct {
	Kind string // kaggle, wget, hugging face, torchvision, ogb, http, input()
	What string // the competition, URL or dataset, as written
	File string // the script, relative to the task source
}

// Package is a Python module a task's scripts import.
type Package struct {
	Name      string // the top-level import name
	Evaluator bool   // needed by the evaluator or prepare: fatal when missing
	Installed bool
}

// Survey is what Inspect finds in an MLAgentBench-layout task source.
type Survey struct {
	Class Class
	// Evaluator says scripts/eval.py defines get_score.
	Evaluator bool
	// Prepared: upstream's scripts/prepared marker exists, or the files
	// prepare makes are already in env/.
	Prepared bool
	// Downloads are what prepare.py and eval.py fetch.
	Downloads []Download
	// Packages are the third-party imports of every script, sorted.
	Packages []Package
	// WorkspaceModules are env/ modules the evaluator imports (directly or
	// through each other): the agent could change the metric through them.
	WorkspaceModules []string
	// Outputs are the files get_score reads from the submission folder.
	Outputs []string
	// VisibleLabels are other files the evaluator reads from the
	// submission folder, which the agent can read too.
	VisibleLabels []string
	// Template says train.py is an unfinished prototype that cannot produce
	// a submission (the agent must write the model first).
	Template bool
	// Metric and Goal are guessed from get_score; empty when unknown.
	Metric string
	Goal   Goal
}

// MissingEvaluatorPackages are the evaluator's packages that are not installed.
func (s *Survey) MissingEvaluatorPackages() []string { return s.missing(true) }

// MissingAgentPackages are packages only train.py and friends import: the
// agent may work around them.
func (s *Survey) MissingAgentPackages() []string { return s.missing(false) }

func (s *Survey) downloadsIn(file string) bool {
	for _, d := range s.Downloads {
		if d.File == file {
			return true
		}
	}
	return false
}

func (s *Survey) missing(evaluator bool) []string {
	var out []string
	for _, p := range s.Packages {
		if !p.Installed && p.Evaluator == evaluator {
			out = append(out, p.Name)
		}
	}
	return out
}

// Installed reports which of the top-level module names python can import.
type Installed func(names []string) (map[string]bool, error)

// PythonInstalled asks python (importlib.util.find_spec, which imports
// nothing) which modules it has.
func PythonInstalled(python string) Installed {
	return func(names []string) (map[string]bool, error) {
		const prog = `import importlib.util, json, sys
out = {}
for n in json.load(sys.stdin):
    try:
        out[n] = importlib.util.find_spec(n) is not None
    except Exception:
        out[n] = False
print(json.dumps(out))`
		in, _ := json.Marshal(names)
		cmd := exec.Command(python, "-I", "-c", prog)
		cmd.Stdin = bytes.NewReader(in)
		b, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("ask %s which packages are installed: %w", python, err)
		}
		got := map[string]bool{}
		if err := json.Unmarshal(b, &got); err != nil {
			return nil, fmt.Errorf("ask %s which packages are installed: %w", python, err)
		}
		return got, nil
	}
}

var (
	importRE     = regexp.MustCompile(`(?m)^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w.]*(?:\s*(?:as\s+\w+\s*)?,\s*[A-Za-z_][\w.]*)*))`)
	kaggleRE     = regexp.MustCompile(`kaggle["',\s]+competitions["',\s]+download["',\s]+-c["',\s]+([\w{}-]+)`)
	tasknameRE   = regexp.MustCompile(`(?m)^\s*taskname\s*=\s*["']([^"']+)["']`)
	urlRE        = regexp.MustCompile(`https?://[^\s"'()]+`)
	hfRE         = regexp.MustCompile(`(?:^|[^\w.])load_dataset\(\s*["']([^"']+)["']`)
	tvRE         = regexp.MustCompile(`datasets\.(\w+)\([^)]*download\s*=\s*True`)
	ogbRE        = regexp.MustCompile(`(PygNodePropPredDataset|NodePropPredDataset)\(`)
	inputRE      = regexp.MustCompile(`(?m)^[^#\n]*\binput\(`)
	getScoreRE   = regexp.MustCompile(`(?m)^def get_score\((\w+)`)
	returnRE     = regexp.MustCompile(`(?m)^\s+return\s+([A-Za-z_]\w*)\s*$`)
	joinFolderRE = regexp.MustCompile(`os\.path\.join\(\s*(\w+)\s*,\s*([^)]*)\)`)
	strLitRE     = regexp.MustCompile(`f?["']([^"']+)["']`)
)

// Standard-library modules scripts commonly import; the rest are checked.
var stdlib = map[string]bool{}

func init() {
	for _, m := range strings.Fields(`__future__ abc argparse ast asyncio atexit base64 bisect builtins collections
		concurrent contextlib copy csv ctypes dataclasses datetime decimal difflib enum errno functools gc getpass
		glob gzip hashlib heapq hmac html http importlib inspect io itertools json logging lzma math multiprocessing
		operator os pathlib pickle platform pprint queue random re shlex shutil signal socket sqlite3 statistics
		string struct subprocess sys tarfile tempfile textwrap threading time timeit traceback types typing
		unicodedata unittest urllib uuid warnings weakref zipfile zlib`) {
		stdlib[m] = true
	}
}

// pythonImports returns the top-level modules src imports.
func pythonImports(src string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range importRE.FindAllStringSubmatch(src, -1) {
		names := []string{m[1]}
		if m[1] == "" {
			names = strings.Split(m[2], ",")
		}
		for _, n := range names {
			n = strings.TrimSpace(strings.Fields(strings.TrimSpace(n) + " ")[0])
			top, _, _ := strings.Cut(n, ".")
			if top != "" && !seen[top] {
				seen[top] = true
				out = append(out, top)
			}
		}
	}
	return out
}

// Inspect surveys the MLAgentBench-layout task at src (env/ and scripts/)
// without running any of it: what it downloads, which packages it needs
// (asked of installed), which workspace modules its evaluator imports,
// what the evaluator reads from the agent's folder, and its metric.
func Inspect(src string, installed Installed) (*Survey, error) {
	env, scripts := filepath.Join(src, "env"), filepath.Join(src, "scripts")
	if _, err := os.Stat(env); err != nil {
		return nil, fmt.Errorf("survey %s: env/ is missing: an MLAgentBench task has env/ and scripts/", src)
	}
	s := &Survey{}
	read := func(p string) string { b, _ := os.ReadFile(p); return string(b) }
	evalSrc, prepSrc := read(filepath.Join(scripts, "eval.py")), read(filepath.Join(scripts, "prepare.py"))
	fn := getScoreRE.FindStringSubmatch(evalSrc)
	s.Evaluator = fn != nil

	// Workspace modules the evaluator imports, transitively.
	envModule := func(name string) bool {
		st, err := os.Stat(filepath.Join(env, name+".py"))
		return err == nil && st.Mode().IsRegular()
	}
	queue := pythonImports(evalSrc)
	seenMod := map[string]bool{}
	evalImports := map[string]bool{}
	for len(queue) > 0 {
		m := queue[0]
		queue = queue[1:]
		if seenMod[m] {
			continue
		}
		seenMod[m] = true
		if !envModule(m) {
			evalImports[m] = true
			continue
		}
		s.WorkspaceModules = append(s.WorkspaceModules, m+".py")
		queue = append(queue, pythonImports(read(filepath.Join(env, m+".py")))...)
	}
	sort.Strings(s.WorkspaceModules)

	// Downloads.
	for _, f := range []struct{ name, src string }{{"scripts/prepare.py", prepSrc}, {"scripts/eval.py", evalSrc}} {
		add := func(kind, what string) {
			s.Downloads = append(s.Downloads, Download{Kind: kind, What: what, File: f.name})
		}
		for _, m := range kaggleRE.FindAllStringSubmatch(f.src, -1) {
			what := m[1]
			if t := tasknameRE.FindStringSubmatch(f.src); t != nil && strings.Contains(what, "taskname") {
				what = t[1]
			}
			add("kaggle", "competition "+strings.Trim(what, "{}"))
		}
		for _, u := range urlRE.FindAllString(f.src, -1) {
			if strings.Contains(u, "kaggle.com") {
				continue
			}
			if strings.Contains(f.src, "wget") {
				add("wget", u)
			} else if strings.Contains(f.src, "requests.get") || strings.Contains(f.src, "urlretrieve") {
				add("http", u)
			}
		}
		for _, m := range hfRE.FindAllStringSubmatch(f.src, -1) {
			if !strings.HasSuffix(m[1], ".py") {
				add("hugging face", "dataset "+m[1])
			}
		}
		for _, m := range tvRE.FindAllStringSubmatch(f.src, -1) {
			add("torchvision", "dataset "+m[1])
		}
		if ogbRE.MatchString(f.src) {
			add("ogb", "an Open Graph Benchmark dataset")
		}
		if inputRE.MatchString(f.src) {
			add("input()", "waits for a person to confirm (e.g. accepting a competition's rules)")
		}
	}
	s.Downloads = dedupeDownloads(s.Downloads)

	// Prepared: the marker, or every literal read-only file already in env/.
	if _, err := os.Stat(filepath.Join(scripts, "prepared")); err == nil {
		s.Prepared = true
	} else if prepSrc != "" {
		s.Prepared = dataPresent(env, read(filepath.Join(scripts, "read_only_files.txt")))
	}

	// Packages: the evaluator's (and prepare's) are fatal, the rest not.
	pkgs := map[string]bool{} // name → evaluator
	for m := range evalImports {
		pkgs[m] = true
	}
	// prepare's only count when it will run here: nothing to download
	// and not prepared yet.
	if prepSrc != "" && !s.Prepared && !s.downloadsIn("scripts/prepare.py") {
		for _, m := range pythonImports(prepSrc) {
			pkgs[m] = true
		}
	}
	_ = filepath.WalkDir(env, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".py" {
			return nil
		}
		for _, m := range pythonImports(read(p)) {
			if _, ok := pkgs[m]; !ok && !envModule(m) {
				pkgs[m] = false
			}
		}
		return nil
	})
	var names []string
	for n := range pkgs {
		if !stdlib[n] && !envModule(n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	have := map[string]bool{}
	if len(names) > 0 && installed != nil {
		var err error
		if have, err = installed(names); err != nil {
			return nil, err
		}
	}
	for _, n := range names {
		s.Packages = append(s.Packages, Package{Name: n, Evaluator: pkgs[n], Installed: have[n]})
	}

	// What get_score reads from the submission folder.
	if fn != nil {
		r := evaluatorReads(evalSrc)
		s.Outputs, s.VisibleLabels = r.outputs, r.labels
		s.Metric, s.Goal = guessMetric(functionBody(evalSrc, "get_score"), read(filepath.Join(scripts, "research_problem.txt")))
	}

	train := read(filepath.Join(env, "train.py"))
	s.Template = regexp.MustCompile(`(?i)TODO|\*{10,}|In this part of the code, write`).MatchString(train)

	switch {
	case !s.Evaluator:
		s.Class = NoEvaluator
	case len(s.MissingEvaluatorPackages()) > 0:
		s.Class = MissingPackages
	case len(s.Downloads) > 0 && !s.Prepared:
		s.Class = NeedsDownload
	default:
		s.Class = OK
	}
	return s, nil
}

type reads struct{ outputs, labels []string }

// evaluatorReads lists the files an MLAgentBench eval.py's get_score
// joins onto its submission folder: submission files, and the rest.
func evaluatorReads(src string) reads {
	var r reads
	fn := getScoreRE.FindStringSubmatch(src)
	if fn == nil {
		return r
	}
	for _, m := range joinFolderRE.FindAllStringSubmatch(functionBody(src, "get_score"), -1) {
		if m[1] != fn[1] {
			continue
		}
		var parts []string
		literal := false
		for _, arg := range strings.Split(m[2], ",") {
			arg = strings.TrimSpace(arg)
			if l := strLitRE.FindStringSubmatch(arg); l != nil {
				parts = append(parts, l[1])
				literal = true
			} else if arg != "" {
				parts = append(parts, "{"+arg+"}")
			}
		}
		if !literal {
			continue
		}
		p := strings.Join(parts, "/")
		if strings.Contains(strings.ToLower(p), "submission") {
			r.outputs = appendNew(r.outputs, p)
		} else {
			r.labels = appendNew(r.labels, p)
		}
	}
	return r
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func dedupeDownloads(ds []Download) []Download {
	seen := map[Download]bool{}
	var out []Download
	for _, d := range ds {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// dataPresent reports whether every line of read_only_files.txt already
// has a file in env/: what prepare would make is there.
func dataPresent(env, list string) bool {
	n := 0
	for _, line := range strings.Split(list, "\n") {
		pat := strings.TrimPrefix(strings.TrimSpace(line), "./")
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		n++
		if !strings.ContainsAny(pat, "*?[") {
			if _, err := os.Stat(filepath.Join(env, filepath.FromSlash(pat))); err != nil {
				return false
			}
			continue
		}
		got, err := matchFiles(env, pat)
		if err != nil || len(got) == 0 {
			return false
		}
	}
	return n > 0
}

// functionBody returns the indented lines after "def name(".
func functionBody(src, name string) string {
	i := strings.Index(src, "def "+name+"(")
	if i < 0 {
		return ""
	}
	lines := strings.Split(src[i:], "\n")
	var b strings.Builder
	for j, l := range lines {
		if j > 0 && strings.TrimSpace(l) != "" && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			break
		}
		b.WriteString(l + "\n")
	}
	return b.String()
}

// metricWords map words found in an evaluator to a metric, most specific
// first.
var metricWords = []struct{ word, metric string }{
	{"smape", "smape"}, {"rmse", "rmse"}, {"mae", "mae"}, {"mean_absolute_error", "mae"}, {"mse", "mse"},
	{"spearman", "spearman"}, {"pearson", "pearson"}, {"corrcoef", "pearson"}, {"f1", "f1"}, {"auc", "auc"},
	{"dice", "dice"}, {"perplexity", "perplexity"}, {"acc", "accuracy"},
}

// guessMetric names get_score's number from the variable it returns or
// the functions it calls; a task scored by time is runtime_s, minimized.
func guessMetric(body, problem string) (string, Goal) {
	var cands []string
	for _, m := range returnRE.FindAllStringSubmatch(body, -1) {
		cands = append(cands, strings.ToLower(m[1]))
	}
	cands = append(cands, strings.ToLower(body))
	for _, c := range cands {
		for _, w := range metricWords {
			if strings.Contains(c, w.word) {
				return w.metric, GoalOf(w.metric)
			}
		}
	}
	p := strings.ToLower(problem)
	if strings.Contains(p, "run time") || strings.Contains(p, "execution speed") || strings.Contains(p, "runtime") {
		return "runtime_s", Minimize
	}
	return "", ""
}
