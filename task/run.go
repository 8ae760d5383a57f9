package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mlrc/mlrc/sandbox"
)

// Executor runs one sandboxed command somewhere: in the local sandbox
// (a sandbox.Runner), as a Slurm batch job or as a Kubernetes Job. What
// the command does is in the Result; an error is a failure of the
// executor itself.
type Executor interface {
	Run(ctx context.Context, spec sandbox.Spec) (*sandbox.Result, error)
}

// StepError is a step of a run that did not succeed: prepare or the
// experiment failed, or the evaluator failed or printed no usable score.
// Its message ends with the tail of the step's output, so it can be shown
// to the agent as it is.
type StepError struct {
	Step   string // "prepare", "run" or "evaluate"
	Reason string
	Result *sandbox.Result // nil when the step did not start
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Step, e.Reason)
	if e.Result == nil {
		return b.String()
	}
	for _, n := range e.Result.Notes {
		fmt.Fprintf(&b, "\n(%s)", n)
	}
	stream, text := "stderr", e.Result.Stderr.Text
	if strings.TrimSpace(text) == "" {
		stream, text = "stdout", e.Result.Stdout.Text
	}
	if tail := Tail(text, 20, 2000); tail != "" {
		fmt.Fprintf(&b, "\n%s (last lines):\n%s", stream, tail)
	}
	return b.String()
}

// Tail returns the last lines of s, at most maxLines lines and about
// maxBytes bytes, each indented by two spaces.
func Tail(s string, maxLines, maxBytes int) string {
	s = strings.TrimRight(s, "\n\r\t ")
	if s == "" {
		return ""
	}
	if len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		if i := strings.IndexByte(s, '\n'); i >= 0 && i < len(s)-1 {
			s = s[i+1:]
		}
		s = "…" + s
	}
	lines := strings.Split(s, "\n")
	if len(lines) > maxLines {
		lines = append([]string{"…"}, lines[len(lines)-maxLines:]...)
	}
	return "  " + strings.Join(lines, "\n  ")
}

// failure describes why a finished command did not succeed.
func failure(r *sandbox.Result, limit string) string {
	switch {
	case r.TimedOut:
		return fmt.Sprintf("timed out after %s (%s)", r.Duration.Round(100*time.Millisecond), limit)
	case r.OOM:
		return "ran out of memory (limits.memory)"
	case r.DiskExceeded:
		return "wrote more than its disk quota (limits.disk)"
	case r.Signal != "":
		return "killed by signal " + r.Signal
	default:
		return fmt.Sprintf("exited with code %d", r.ExitCode)
	}
}

func (l Layout) abs() (Layout, error) {
	if l.Workspace == "" || l.Private == "" {
		return l, errors.New("task layout: Workspace and Private must both be set")
	}
	var err error
	if l.Workspace, err = filepath.Abs(l.Workspace); err != nil {
		return l, err
	}
	if l.Private, err = filepath.Abs(l.Private); err != nil {
		return l, err
	}
	if within(l.Private, l.Workspace) || within(l.Workspace, l.Private) {
		return l, fmt.Errorf("task layout: the private directory %s and the workspace %s must not contain each other", l.Private, l.Workspace)
	}
	return l, nil
}

// Setup makes a run's directories: a fresh copy of the workspace template
// in l.Workspace (which must not exist or be empty), an empty l.Private,
// then runs prepare in the sandbox. It returns prepare's result, or nil
// when the task has no prepare step. A prepare that fails is a *StepError.
func (t *Task) Setup(ctx context.Context, x Executor, l Layout, opt Options) (*sandbox.Result, error) {
	l, err := l.abs()
	if err != nil {
		return nil, err
	}
	if entries, err := os.ReadDir(l.Workspace); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("set up %s: workspace %s is not empty: each run needs a fresh one", t.Name, l.Workspace)
	}
	if err := CopyDir(l.Workspace, t.Workspace); err != nil {
		return nil, fmt.Errorf("set up %s: copy the workspace template: %w", t.Name, err)
	}
	if err := os.MkdirAll(l.Private, 0o700); err != nil {
		return nil, fmt.Errorf("set up %s: %w", t.Name, err)
	}
	var res *sandbox.Result
	if t.Commands.Prepare != "" {
		res, err = x.Run(ctx, t.prepareSpec(l, opt))
		if err != nil {
			return nil, fmt.Errorf("set up %s: prepare: %w", t.Name, err)
		}
		if !res.OK() {
			return res, &StepError{Step: "prepare", Reason: failure(res, "limits.prepare_timeout"), Result: res}
		}
	}
	return res, nil
}

// Run runs one experiment: the task's run command in the workspace. The
// experiment sees its workspace (protected paths read-only) and the system,
// nothing of the task, its data or the private directory, and not the
// task's hide paths. What the command does (a non-zero exit, a timeout) is
// in the Result; an error means the sandbox itself failed.
//
// The task's outputs are removed first: what the evaluator scores is
// always this run's.
func (t *Task) Run(ctx context.Context, x Executor, l Layout, opt Options) (*sandbox.Result, error) {
	if err := t.RemoveOutputs(l); err != nil {
		return nil, err
	}
	return t.Exec(ctx, x, l, opt, t.Commands.Run)
}

// RemoveOutputs deletes the task's declared outputs from the run's
// workspace.
func (t *Task) RemoveOutputs(l Layout) error {
	for _, o := range t.Outputs {
		p := filepath.Join(l.Workspace, filepath.FromSlash(o))
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove the previous output %s: %w", o, err)
		}
	}
	return nil
}

// ProtectedPaths resolves the task's protected patterns against the run's
// workspace: the workspace-relative paths to protect, and the literal
// paths that are missing (worth a warning: a typo, or prepare did not make
// them).
func (t *Task) ProtectedPaths(workspace string) (paths, missing []string) {
	for _, p := range t.Protected {
		if strings.ContainsAny(p, "*?[") {
			got, err := matchFiles(workspace, p)
			if err == nil {
				paths = append(paths, got...)
			}
			continue
		}
		if _, err := os.Lstat(filepath.Join(workspace, filepath.FromSlash(p))); err != nil {
			missing = append(missing, p)
			continue
		}
		paths = append(paths, p)
	}
	return paths, missing
}

// Exec runs any command line as an experiment, with the same isolation and
// limits as Run. {workspace}, {python} and {seed} are expanded as in run:;
// other placeholders are left as written.
func (t *Task) Exec(ctx context.Context, x Executor, l Layout, opt Options, line string) (*sandbox.Result, error) {
	l, err := l.abs()
	if err != nil {
		return nil, err
	}
	// An empty directory and an empty file to mount over hidden paths.
	empty, err := os.MkdirTemp("", "mlrc-hidden-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(empty)
	cover := hideCover{dir: filepath.Join(empty, "dir"), file: filepath.Join(empty, "file")}
	if err := os.Mkdir(cover.dir, 0o555); err != nil {
		return nil, err
	}
	if err := os.WriteFile(cover.file, nil, 0o444); err != nil {
		return nil, err
	}
	spec, err := t.commandSpec(line, l, opt, cover)
	if err != nil {
		return nil, err
	}
	if line == t.Commands.Run {
		spec.Name = "run"
	}
	return x.Run(ctx, spec)
}

// Score is an evaluation: the task's metric and everything the evaluator
// printed.
type Score struct {
	Metric string
	Value  float64
	Goal   Goal
	// Raw is the evaluator's JSON object.
	Raw    map[string]any
	Result *sandbox.Result
}

// Evaluate runs the evaluator in the sandbox and reads the metric from
// the JSON object on the last line of its output. An evaluator that fails
// (typically because the experiment's predictions are malformed), prints
// no JSON object or no finite value for the metric gives a *StepError
// that says why and ends with the evaluator's output.
func (t *Task) Evaluate(ctx context.Context, x Executor, l Layout, opt Options) (*Score, error) {
	l, err := l.abs()
	if err != nil {
		return nil, err
	}
	if err := escapingLinks(l.Workspace); err != nil {
		return nil, &StepError{Step: "evaluate", Reason: err.Error()}
	}
	res, err := x.Run(ctx, t.evaluateSpec(l, opt))
	if err != nil {
		return nil, fmt.Errorf("evaluate %s: %w", t.Name, err)
	}
	if !res.OK() {
		return nil, &StepError{Step: "evaluate", Reason: "the evaluator " + failure(res, "limits.eval_timeout"), Result: res}
	}
	raw, err := lastJSON(res.Stdout.Text)
	if err != nil {
		return nil, &StepError{Step: "evaluate", Reason: err.Error(), Result: res}
	}
	v, ok := raw[t.Metric.Name]
	if !ok {
		return nil, &StepError{Step: "evaluate", Reason: fmt.Sprintf("the evaluator's output has no %q: got %s", t.Metric.Name, compactJSON(raw)), Result: res}
	}
	f, ok := v.(float64)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, &StepError{Step: "evaluate", Reason: fmt.Sprintf("the evaluator's %q is %v, not a finite number", t.Metric.Name, v), Result: res}
	}
	return &Score{Metric: t.Metric.Name, Value: f, Goal: t.Metric.Goal, Raw: raw, Result: res}, nil
}

// lastJSON parses the last non-empty line of out as a JSON object.
func lastJSON(out string) (map[string]any, error) {
	lines := strings.Split(strings.TrimRight(out, "\n\r\t "), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return nil, errors.New("the evaluator printed nothing: it must print a JSON object such as {\"accuracy\": 0.97} on its last line")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(last), &raw); err != nil {
		if strings.Contains(last, "NaN") || strings.Contains(last, "Infinity") {
			return nil, fmt.Errorf("the evaluator's score is not a finite number: %s", truncate(last, 200))
		}
		return nil, fmt.Errorf("the evaluator's last output line is not a JSON object: %s", truncate(last, 200))
	}
	return raw, nil
}

func compactJSON(v any) string {
	b, _ := json.Marshal(v)
	return truncate(string(b), 200)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// CopyDir copies the tree at src into dst, creating dst. Regular files keep
// their permission bits, symbolic links are copied as links; Python caches
// are left out.
func CopyDir(dst, src string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if skipFile(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case info.Mode()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Mode().IsRegular():
			return CopyFile(target, p, info.Mode().Perm()|0o600)
		default:
			return nil // devices, sockets, pipes
		}
	})
}

// skipFile reports files that are not part of a task: caches and version
// control.
func skipFile(rel string, d fs.DirEntry) bool {
	name := d.Name()
	if d.IsDir() {
		return name == "__pycache__" || name == ".git" || name == ".ipynb_checkpoints"
	}
	return strings.HasSuffix(name, ".pyc")
}

// CopyFile copies src to dst, a new file with mode perm.
func CopyFile(dst, src string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// escapingLinks refuses a workspace holding a symbolic link that leads out
// of it. The evaluator sees the held-out labels; an experiment must not
// hand it, say, predictions.csv -> ../private/labels.csv.
func escapingLinks(workspace string) error {
	root, err := filepath.EvalSymlinks(workspace)
	if err != nil {
		return err
	}
	return filepath.WalkDir(workspace, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return err
		}
		rel, _ := filepath.Rel(workspace, path)
		target, err := filepath.EvalSymlinks(path)
		if err != nil {
			// A dangling link cannot leak anything, but it cannot be scored either.
			return fmt.Errorf("the workspace's %s is a symbolic link that leads nowhere: write real files", rel)
		}
		if target != root && !strings.HasPrefix(target, root+string(filepath.Separator)) {
			return fmt.Errorf("the workspace's %s is a symbolic link leading outside the workspace: the evaluator scores only real files inside it", rel)
		}
		return nil
	})
}
