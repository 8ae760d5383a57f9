package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/validate"
)

// templateTrain is a prototype that leaves the model to the agent, as
// upstream's house-price, imdb and spaceship-titanic do: it runs, and
// writes no predictions.
const templateTrain = `"""Template: train a classifier on data/train.csv, write predictions.csv (id,label) for data/test.csv."""
import pandas as pd

train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
# TODO: train a model here and write predictions.csv
print(f"{len(train)} training rows, {len(test)} test rows")
`

// referenceTrain is the agent's first working version: logistic
// regression. improvedTrain is its improvement: an RBF SVC.
const referenceTrain = `import os
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SEED = int(os.environ.get("MLRC_SEED", "0"))
train = pd.read_csv("data/train.csv")
test = pd.read_csv("data/test.csv")
features = [c for c in train.columns if c.startswith("p")]
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))
model.fit(train[features], train["label"])
pd.DataFrame({"id": test["id"], "label": model.predict(test[features])}).to_csv("predictions.csv", index=False)
`

var improvedTrain = strings.NewReplacer(
	"from sklearn.linear_model import LogisticRegression", "from sklearn.svm import SVC",
	"make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))", `SVC(C=10, gamma="scale", random_state=SEED)`,
).Replace(referenceTrain)

// templateTask copies the digits task with a template prototype into a
// temporary directory.
func templateTask(t *testing.T) string {
	t.Helper()
	src := digitsTask(t)
	dir := filepath.Join(t.TempDir(), "digits-template")
	if out, err := exec.Command("cp", "-r", src, dir).CombinedOutput(); err != nil {
		t.Fatalf("copy the digits task: %v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace", "train.py"), []byte(templateTrain), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestResearchFirstRunReference: a task whose prototype is a template gives
// no baseline. Without --reference first-run the run stops and says why and
// how to run anyway; with it, the first working run is the reference,
// labelled as such in the run, the verdict and the report, and validation
// re-runs that run's code (not the empty template) against the best.
func TestResearchFirstRunReference(t *testing.T) {
	taskDir := templateTask(t)
	ideas := researchScript()[:4]
	args := []string{"research", "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2"}

	// Without the option: no baseline, an explanation, a report.
	srv := fakeserver.New(ideas...)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, append(args, "--runs-dir", runs)...)
	if r.code == 0 {
		t.Fatalf("a template prototype without --reference: exit 0\n%s", r.stdout)
	}
	for _, want := range []string{"gives no baseline", "the evaluator found no output", "template", "--reference first-run", "reference: first-run"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error lacks %q:\n%s", want, r.stderr)
		}
	}
	if md, err := os.ReadFile(filepath.Join(runDir(t, runs), "report.md")); err != nil || !strings.Contains(string(md), "--reference first-run") {
		t.Errorf("the stopped run's report does not say how to run anyway (%v):\n%s", err, md)
	}

	// With it.
	script := append(append([]fakeserver.Reply{}, ideas...),
		tool("write_file", map[string]any{"path": "train.py", "content": referenceTrain}),
		tool("run_experiment", map[string]any{"note": "logistic regression"}),
		tool("write_file", map[string]any{"path": "train.py", "content": improvedTrain}),
		tool("run_experiment", map[string]any{"note": "RBF SVC"}),
		tool("final_answer", map[string]any{"summary": "An RBF SVC beats logistic regression."}),
	)
	srv2 := fakeserver.New(script...)
	defer srv2.Close()
	runs = t.TempDir()
	env["OPENAI_BASE_URL"] = srv2.URL + "/v1"
	r = run(t, env, append(args, "--runs-dir", runs, "--reference", "first-run")...)
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(srv2.Requests()); n != len(script) {
		t.Errorf("the model was asked %d times, want %d", n, len(script))
	}
	ref := regexp.MustCompile(`reference accuracy = (0\.9\d*) \(reference = first working run, run 1, not a baseline`).FindStringSubmatch(r.stdout)
	if ref == nil {
		t.Fatalf("the output does not name the reference:\n%s", r.stdout)
	}
	// The agent was told: the brief, then run 1's result.
	reqs := srv2.Requests()
	if body := string(reqs[4].Raw); !strings.Contains(body, "becomes the reference") {
		t.Errorf("the experiment brief does not say the first working run becomes the reference:\n%.3000s", body)
	}
	if body := string(reqs[6].Raw); !strings.Contains(body, "this run is that reference") {
		t.Errorf("run 1's result does not say it is the reference:\n%.3000s", body)
	}

	dir := runDir(t, runs)
	var v validate.Verdict
	b, err := os.ReadFile(filepath.Join(dir, "verdict.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if v.Reference != "first working run (run 1)" || !strings.Contains(v.Summary, "reference = first working run (run 1), not a baseline") {
		t.Errorf("verdict reference %q, summary %q", v.Reference, v.Summary)
	}
	// The reference arm is the logistic regression's code re-run, not the
	// template (which would give no value at all).
	if len(v.Baseline.Values) != 3 || len(v.Baseline.Errors) != 0 || v.Baseline.Mean < 0.9 || v.Best.Mean <= v.Baseline.Mean {
		t.Errorf("arms: reference %+v, best %+v", v.Baseline, v.Best)
	}
	code, _ := os.ReadFile(filepath.Join(dir, "validation", "prototype", "train.py"))
	if !strings.Contains(string(code), "LogisticRegression") {
		t.Errorf("validation re-ran as the reference:\n%s", code)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, want := range []string{"Reference = first working run (run 1), not a baseline", "reference = first working run (run 1), not a baseline: " + ref[1][:4]} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// runDir is the directory of the only run in runs.
func runDir(t *testing.T, runs string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(runs, "*", "run.json"))
	if len(m) != 1 {
		t.Fatalf("runs in %s: %v", runs, m)
	}
	return filepath.Dir(m[0])
}

func TestReferenceFlagRejected(t *testing.T) {
	r := run(t, nil, "experiment", "--task", "x", "--reference", "first")
	if r.code != 2 || !strings.Contains(r.stderr, `reference "first": want prototype`) {
		t.Errorf("exit %d, stderr %s", r.code, r.stderr)
	}
}

// TestToleranceFlag: --tolerance out of bounds is a usage error that names
// the bound, before anything runs.
func TestToleranceFlag(t *testing.T) {
	for _, tt := range []struct{ arg, want string }{
		{"0.2", "--tolerance relative 0.2 is out of bounds: want from 0 to 0.05"},
		{"sds=9", "--tolerance sds 9 is out of bounds: want from 0 to 5"},
		{"relative=-1", "--tolerance relative -1 is out of bounds"},
		{"margin=1", `unknown key "margin"`},
	} {
		r := run(t, nil, "research", "--paper", "p.md", "--task", "x", "--tolerance", tt.arg)
		if r.code != 2 || !strings.Contains(r.stderr, tt.want) {
			t.Errorf("--tolerance %s: exit %d, stderr %s; want exit 2 and %q", tt.arg, r.code, r.stderr, tt.want)
		}
	}
}
