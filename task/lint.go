package task

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// workspaceFileRE matches {workspace}/PATH in a command line.
var workspaceFileRE = regexp.MustCompile(`\{workspace\}/([^\s'"]+)`)

// VisibleLabels lists files the evaluator reads from the workspace other
// than the task's outputs: where the agent can read them too, so held-out
// labels there let it score itself. For an imported MLAgentBench task it
// reads eval/scripts/eval.py's get_score; otherwise the evaluate command.
func (t *Task) VisibleLabels() []string {
	var out []string
	if _, err := os.Stat(filepath.Join(t.Dir, "eval", "mlab_eval.py")); err == nil {
		if b, err := os.ReadFile(filepath.Join(t.Dir, "eval", "scripts", "eval.py")); err == nil {
			out = append(out, evaluatorReads(string(b)).labels...)
		}
	}
	outputs := map[string]bool{}
	for _, o := range t.Outputs {
		outputs[o] = true
	}
	for _, m := range workspaceFileRE.FindAllStringSubmatch(t.Commands.Evaluate, -1) {
		p := strings.TrimSuffix(m[1], "/")
		if !outputs[p] && !strings.Contains(strings.ToLower(p), "pred") && !strings.Contains(strings.ToLower(p), "submission") {
			out = appendNew(out, p)
		}
	}
	return out
}

// VisibleLabelsError is Check's refusal of a task whose evaluator reads
// files the agent can read.
type VisibleLabelsError struct {
	Task  string
	Files []string
}

func (e *VisibleLabelsError) Error() string {
	return fmt.Sprintf("%s: the evaluator reads %s from the workspace, which the agent can read: held-out labels there let it score itself perfectly. Have prepare put them in {private} and read them from there, or check anyway with --allow-visible-labels", e.Task, strings.Join(e.Files, ", "))
}

// systemDataDirs are where a Python installation keeps datasets of its
// own that an experiment could read: scikit-learn's bundled sets.
func systemDataDirs(python string) []string {
	out, err := exec.Command(python, "-I", "-c", `import importlib.util, os
s = importlib.util.find_spec("sklearn")
if s and s.submodule_search_locations:
    print(os.path.join(list(s.submodule_search_locations)[0], "datasets", "data"))`).Output()
	if err != nil {
		return nil
	}
	var dirs []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			dirs = append(dirs, l)
		}
	}
	return dirs
}

// SystemCopies looks for the rows of the run's held-out files (l.Private)
// and the task's data in datasets the system keeps where experiments can
// read them (dirs; nil means scikit-learn's bundled sets for python). It
// returns a warning per system file that holds most of a file's rows and
// is not covered by the task's hide: paths.
func (t *Task) SystemCopies(l Layout, python string, dirs []string) []string {
	if dirs == nil {
		dirs = systemDataDirs(python)
	}
	var files []string
	add := func(root string) {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && isTable(p) {
				files = append(files, p)
			}
			return nil
		})
	}
	add(l.Private)
	for _, p := range t.Data {
		add(p)
	}
	var system []string
	for _, d := range dirs {
		if t.hides(d) {
			continue
		}
		_ = filepath.WalkDir(d, func(p string, e fs.DirEntry, err error) error {
			if err == nil && !e.IsDir() && isTable(p) && !t.hides(p) {
				system = append(system, p)
			}
			return nil
		})
	}
	if len(files) == 0 || len(system) == 0 {
		return nil
	}
	sort.Strings(system)
	index := map[string]map[string]bool{}
	for _, s := range system {
		index[s] = rowKeys(s, 0)
	}
	var warn []string
	for _, f := range files {
		sample := rowKeys(f, 200)
		if len(sample) < 5 {
			continue
		}
		for _, s := range system {
			n := 0
			for k := range sample {
				if index[s][k] {
					n++
				}
			}
			if 2*n >= len(sample) {
				warn = append(warn, fmt.Sprintf("%d of %d sampled rows of %s are in %s, which experiments can read: the agent could look the answers up; add it to hide: in task.yaml (hide: [%s])", n, len(sample), filepath.Base(f), s, filepath.Dir(s)))
			}
		}
	}
	return warn
}

func (t *Task) hides(p string) bool {
	for _, h := range t.Hide {
		if within(p, h) {
			return true
		}
	}
	return false
}

func isTable(p string) bool {
	p = strings.TrimSuffix(strings.ToLower(p), ".gz")
	return strings.HasSuffix(p, ".csv") || strings.HasSuffix(p, ".tsv") || strings.HasSuffix(p, ".txt")
}

// rowKeys reads up to max rows (0: all) of a table and returns, for each
// row with at least three numbers, its numbers sorted and printed the same
// way: a key that survives reordered columns, added ids and formatting.
func rowKeys(p string, max int) map[string]bool {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(p, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil
		}
		r = gz
	}
	keys := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() && (max == 0 || len(keys) < max) {
		var nums []float64
		for _, field := range strings.FieldsFunc(sc.Text(), func(r rune) bool { return r == ',' || r == '\t' || r == ' ' || r == ';' }) {
			if v, err := strconv.ParseFloat(strings.Trim(field, `"`), 64); err == nil {
				nums = append(nums, v)
			}
		}
		if len(nums) < 3 {
			continue
		}
		sort.Float64s(nums)
		parts := make([]string, len(nums))
		for i, v := range nums {
			parts[i] = strconv.FormatFloat(v, 'g', 6, 64)
		}
		keys[strings.Join(parts, ",")] = true
	}
	return keys
}
