package validate

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mlrc/mlrc/sandbox"
	"github.com/mlrc/mlrc/task"
)

// The digits example runs in seconds; these tests re-run it in the real
// sandbox. One fixture, made once, plays the part of an experiment run: the
// prototype as set up, the baseline's metric, and an agent's better
// solution (an SVC) with the metric its run reported.

const digitsDir = "../examples/tasks/digits"

// svcTrain is a genuinely better train.py: an RBF SVC on scaled pixels.
const svcTrain = `import os
import pandas as pd
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

SEED = int(os.environ.get("MLRC_SEED", "0"))
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
features = [c for c in train.columns if c.startswith("p")]
model = make_pipeline(StandardScaler(), SVC(C=10, gamma="scale", random_state=SEED))
model.fit(train[features], train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(test[features])}).to_csv("predictions.csv", index=False)
`

type digitsFixture struct {
	task      *task.Task
	runner    sandbox.Runner
	taskHash  string
	protected map[string]string
	// prototype is the untouched workspace; svc the better solution, with
	// the predictions.csv its run left.
	prototype, svc      string
	baseline, svcMetric float64
}

var (
	fixtureOnce sync.Once
	fixture     *digitsFixture
	fixtureSkip string
	fixtureErr  error
	fixtureDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fixtureDir != "" {
		os.RemoveAll(fixtureDir)
	}
	os.Exit(code)
}

// digits returns the shared fixture, skipping the test when the sandbox
// or scikit-learn is missing.
func digits(t *testing.T) *digitsFixture {
	t.Helper()
	if testing.Short() {
		t.Skip("re-runs the digits example in the sandbox")
	}
	fixtureOnce.Do(func() { fixture, fixtureSkip, fixtureErr = makeFixture() })
	if fixtureSkip != "" {
		t.Skip(fixtureSkip)
	}
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture
}

func makeFixture() (*digitsFixture, string, error) {
	if out, err := exec.Command(task.DefaultPython, "-c", "import numpy, pandas, sklearn").CombinedOutput(); err != nil {
		return nil, "needs " + task.DefaultPython + " with numpy, pandas and sklearn: " + strings.TrimSpace(string(out)), nil
	}
	r, warning, err := sandbox.New("bwrap")
	if err != nil {
		return nil, "", err
	}
	if warning != "" {
		return nil, "needs bubblewrap: " + warning, nil
	}
	tk, err := task.Load(digitsDir)
	if err != nil {
		return nil, "", err
	}
	f := &digitsFixture{task: tk, runner: r}
	if f.taskHash, err = tk.Hash(); err != nil {
		return nil, "", err
	}
	if fixtureDir, err = os.MkdirTemp("", "mlrc-validate-test-"); err != nil {
		return nil, "", err
	}
	ctx := context.Background()
	l := task.Layout{Workspace: filepath.Join(fixtureDir, "run", "workspace"), Private: filepath.Join(fixtureDir, "run", "private")}
	if _, err := tk.Setup(ctx, r, l, task.Options{}); err != nil {
		return nil, "", err
	}
	f.prototype = filepath.Join(fixtureDir, "prototype")
	if err := task.CopyDir(f.prototype, l.Workspace); err != nil {
		return nil, "", err
	}
	if f.protected, err = HashProtected(l.Workspace, tk.Protected); err != nil {
		return nil, "", err
	}
	if f.baseline, err = runOnce(ctx, tk, r, l); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(l.Workspace, "train.py"), []byte(svcTrain), 0o644); err != nil {
		return nil, "", err
	}
	if f.svcMetric, err = runOnce(ctx, tk, r, l); err != nil {
		return nil, "", err
	}
	f.svc = l.Workspace
	return f, "", nil
}

// runOnce is an agent's run_experiment at seed 0.
func runOnce(ctx context.Context, tk *task.Task, r sandbox.Runner, l task.Layout) (float64, error) {
	res, err := tk.Run(ctx, r, l, task.Options{})
	if err != nil {
		return 0, err
	}
	if !res.OK() {
		return 0, errors.New("run failed: " + res.Stderr.Text)
	}
	s, err := tk.Evaluate(ctx, r, l, task.Options{})
	if err != nil {
		return 0, err
	}
	return s.Value, nil
}

// config is a validation of best as the run that reported reported.
func (f *digitsFixture) config(t *testing.T, best string, reported float64, seeds ...int) Config {
	return Config{
		Task: f.task, Sandbox: f.runner, Seeds: seeds,
		Prototype: f.prototype, Best: best, WorkDir: t.TempDir(),
		Reported: &reported, TaskHash: f.taskHash, ProtectedHashes: f.protected,
		Progress: func(s string) { t.Log(s) },
	}
}

// variant copies dir and writes files over the copy.
func variant(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "best")
	if err := task.CopyDir(out, dir); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, out, files)
	return out
}

func validate(t *testing.T, cfg Config) *Verdict {
	t.Helper()
	v, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	t.Logf("verdict:\n%s", b)
	return v
}

// wantFailed checks that the verdict is no success and that exactly the
// named checks failed.
func wantFailed(t *testing.T, v *Verdict, names ...string) {
	t.Helper()
	if v.Success {
		t.Errorf("success, want none: %s", v.Summary)
	}
	var failed []string
	for _, c := range v.Failed() {
		failed = append(failed, c.Name)
	}
	if strings.Join(failed, "|") != strings.Join(names, "|") {
		t.Errorf("failed checks %q, want %q", failed, names)
	}
	if !strings.HasPrefix(v.Summary, "not a success: check") {
		t.Errorf("summary %q does not name the failed check", v.Summary)
	}
}

// TestDeterministicSeedsUseBootstrap: the SVC is 6 test examples better
// than the baseline at every seed, with no variation across seeds. The
// seeds cannot test that; the paired bootstrap over the 540 held-out
// examples decides, and the verdict shows its p.
func TestDeterministicSeedsUseBootstrap(t *testing.T) {
	t.Parallel()
	f := digits(t)
	v := validate(t, f.config(t, f.svc, f.svcMetric))
	if len(v.Failed()) > 0 || len(v.Checks) != 6 {
		t.Errorf("checks %+v: want 6, all passed", v.Checks)
	}
	if got, want := len(v.Best.Values)+len(v.Baseline.Values), 6; got != want {
		t.Errorf("%d values, want %d", got, want)
	}
	if !(v.Improvement > 0) || v.Improvement != v.Best.Mean-v.Baseline.Mean {
		t.Errorf("improvement %v (means %v → %v): want positive", v.Improvement, v.Baseline.Mean, v.Best.Mean)
	}
	if v.Test.Note != NoteExact {
		t.Fatalf("note %q: want the seeds not to vary", v.Test.Note)
	}
	b := v.Bootstrap
	if b == nil || b.P == nil || b.Examples != 540 {
		t.Fatalf("bootstrap %+v: want a p over 540 examples", b)
	}
	if v.DecidedBy != b.Name || v.P != *b.P || !strings.Contains(v.Summary, b.Name) {
		t.Errorf("decided by %q with p %v, summary %q: want the bootstrap's p %v", v.DecidedBy, v.P, v.Summary, *b.P)
	}
	if v.Success != (*b.P < 0.05) {
		t.Errorf("success %v with bootstrap p %v", v.Success, *b.P)
	}
	if v.Baseline.Values[0] != f.baseline {
		t.Errorf("baseline at seed 0 = %v, the run's baseline %v", v.Baseline.Values[0], f.baseline)
	}
}

// TestNondeterministicReportPasses: a reported metric off by 1e-5 relative,
// as liblinear's is, reproduces.
func TestNondeterministicReportPasses(t *testing.T) {
	t.Parallel()
	f := digits(t)
	v := validate(t, f.config(t, f.svc, f.svcMetric*(1+1e-5), 0))
	if c := v.Check(CheckReproduces); c == nil || !c.Passed {
		t.Errorf("check %+v: want passed", c)
	}
}

func TestBaselineAsBestIsNoSuccess(t *testing.T) {
	t.Parallel()
	f := digits(t)
	v := validate(t, f.config(t, f.prototype, f.baseline, 0, 1))
	if v.Success || len(v.Failed()) > 0 {
		t.Fatalf("success %v, failed checks %+v: want no success with every check passed", v.Success, v.Failed())
	}
	if v.Improvement != 0 || v.Test.P != 1 || !strings.Contains(v.Summary, "not better than the baseline") {
		t.Errorf("improvement %v, p %v, summary %q", v.Improvement, v.Test.P, v.Summary)
	}
}

func TestOverwrittenProtectedFileIsCaught(t *testing.T) {
	t.Parallel()
	f := digits(t)
	train, err := os.ReadFile(filepath.Join(f.svc, "data", "train.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// The agent kept half the training rows.
	lines := strings.SplitAfter(string(train), "\n")
	best := variant(t, f.svc, map[string]string{"data/train.csv": strings.Join(lines[:len(lines)/2], "")})
	v := validate(t, f.config(t, best, f.svcMetric, 0))
	wantFailed(t, v, CheckProtected)
	if c := v.Check(CheckProtected); !strings.Contains(c.Detail, "data/train.csv changed") {
		t.Errorf("detail %q does not name data/train.csv", c.Detail)
	}
}

func TestChangedEvaluatorIsCaught(t *testing.T) {
	t.Parallel()
	f := digits(t)
	dir := filepath.Join(t.TempDir(), "digits")
	if err := task.CopyDir(dir, digitsDir); err != nil {
		t.Fatal(err)
	}
	tk, err := task.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := tk.Hash()
	if err != nil {
		t.Fatal(err)
	}
	ev, err := os.OpenFile(filepath.Join(dir, "eval", "eval.py"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev.WriteString("print(json.dumps({\"accuracy\": 1.0}))\n")
	ev.Close()
	cfg := f.config(t, f.svc, f.svcMetric, 0)
	cfg.Task, cfg.TaskHash = tk, hash
	v := validate(t, cfg)
	// The doctored evaluator scores 1.0, which is not what was reported.
	wantFailed(t, v, CheckTask, CheckReproduces)
}

func TestFakeMetricIsCaught(t *testing.T) {
	t.Parallel()
	f := digits(t)
	train, err := os.ReadFile(filepath.Join(f.prototype, "train.py"))
	if err != nil {
		t.Fatal(err)
	}
	best := variant(t, f.prototype, map[string]string{"train.py": string(train) + "\nimport json\nprint(json.dumps({\"accuracy\": 1.0}))\n"})
	v := validate(t, f.config(t, best, 1.0, 0))
	wantFailed(t, v, CheckReproduces)
	if c := v.Check(CheckReproduces); !strings.Contains(c.Detail, "reported 1,") || !strings.Contains(c.Detail, "give 0.9") {
		t.Errorf("detail %q: want both numbers", c.Detail)
	}
}

// TestLinkToLabelsIsCaught: predictions.csv made a link to the held-out
// labels, which the evaluator (it sees the private directory) would follow.
func TestLinkToLabelsIsCaught(t *testing.T) {
	t.Parallel()
	f := digits(t)
	best := variant(t, f.svc, map[string]string{"train.py": svcTrain +
		"os.remove('predictions.csv')\nos.symlink('../private/labels.csv', 'predictions.csv')\n"})
	v := validate(t, f.config(t, best, 1.0, 0))
	wantFailed(t, v, CheckHeldOut, CheckEvaluator, CheckReproduces, CheckReruns)
	if c := v.Check(CheckHeldOut); !strings.Contains(c.Detail, "predictions.csv links to") {
		t.Errorf("detail %q", c.Detail)
	}
}
