package task

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// upstream holds minimal stand-ins for the 16 tasks of MLAgentBench and
// MLR-Copilot, each with its upstream layout and the behaviours that matter
// to import (see testdata/README.md).
const upstream = "testdata/upstream"

// debianPython is what a Debian host's python3 has: scientific packages,
// nothing of the Hugging Face or graph stacks.
func debianPython(names []string) (map[string]bool, error) {
	have := map[string]bool{"numpy": true, "pandas": true, "sklearn": true, "scipy": true, "torch": true, "requests": true, "xgboost": true}
	out := map[string]bool{}
	for _, n := range names {
		out[n] = have[n]
	}
	return out, nil
}

func TestUpstreamTasks(t *testing.T) {
	for _, c := range []struct {
		name      string
		class     Class
		downloads string // kinds, comma-separated
		modules   string // workspace modules the evaluator imports
		missing   string // evaluator packages not installed
		metric    string // guessed
		template  bool
		labels    bool // evaluator reads labels from env/
		noOutput  bool // get_score reads no submission file
	}{
		{name: "CLRS", class: MissingPackages, downloads: "http", modules: "baselines.py", missing: "clrs,jax", metric: "accuracy", noOutput: true},
		{name: "amp-parkinsons-disease-progression-prediction", class: NeedsDownload, downloads: "kaggle,input()", modules: "public_timeseries_testing_util.py,train.py", metric: "smape"},
		{name: "babylm", class: MissingPackages, downloads: "wget", missing: "datasets,evaluate,transformers", metric: "perplexity", noOutput: true},
		{name: "bibtex-generation", class: NoEvaluator},
		{name: "cifar10", class: MissingPackages, downloads: "torchvision,torchvision", missing: "torchvision", metric: "accuracy"},
		{name: "fathomnet", class: NeedsDownload, downloads: "kaggle,input()", modules: "metric.py"},
		{name: "feedback", class: OK, downloads: "kaggle,input()", modules: "train.py"},
		{name: "house-price", class: NeedsDownload, downloads: "kaggle,input()", metric: "mae", template: true},
		{name: "identify-contrails", class: NeedsDownload, downloads: "kaggle,input()", modules: "encode.py", metric: "dice"},
		{name: "imdb", class: MissingPackages, downloads: "hugging face", missing: "datasets", metric: "accuracy", template: true},
		{name: "literature-review-tool", class: NoEvaluator},
		{name: "llama-inference", class: NoEvaluator},
		{name: "ogbn-arxiv", class: MissingPackages, downloads: "ogb", missing: "ogb,torch_geometric", metric: "accuracy"},
		{name: "semeval24", class: OK, downloads: "hugging face", metric: "pearson", labels: true},
		{name: "spaceship-titanic", class: MissingPackages, downloads: "kaggle,input()", missing: "datasets", metric: "accuracy", template: true},
		{name: "vectorization", class: OK, metric: "runtime_s"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Inspect(filepath.Join(upstream, c.name), debianPython)
			if err != nil {
				t.Fatal(err)
			}
			if s.Class != c.class {
				t.Errorf("class %q, want %q (survey %+v)", s.Class, c.class, s)
			}
			var kinds []string
			for _, d := range s.Downloads {
				kinds = append(kinds, d.Kind)
			}
			if got := strings.Join(kinds, ","); got != c.downloads {
				t.Errorf("downloads %q, want %q (%+v)", got, c.downloads, s.Downloads)
			}
			if got := strings.Join(s.WorkspaceModules, ","); got != c.modules {
				t.Errorf("workspace modules %q, want %q", got, c.modules)
			}
			if got := strings.Join(s.MissingEvaluatorPackages(), ","); got != c.missing {
				t.Errorf("missing evaluator packages %q, want %q", got, c.missing)
			}
			if s.Metric != c.metric {
				t.Errorf("metric %q, want %q", s.Metric, c.metric)
			}
			if s.Template != c.template {
				t.Errorf("template %v, want %v", s.Template, c.template)
			}
			if c.labels && strings.Join(s.VisibleLabels, ",") != "data/{lang}/{lang}_test.csv" {
				t.Errorf("visible labels %q, want data/{lang}/{lang}_test.csv", s.VisibleLabels)
			}
			if got := len(s.VisibleLabels) > 0; got != c.labels {
				t.Errorf("visible labels %q, want %v", s.VisibleLabels, c.labels)
			}

			// Import: refused without an evaluator or with visible labels,
			// otherwise a task that loads, with the survey's findings as notes.
			out := filepath.Join(t.TempDir(), "out")
			imp, err := Import(filepath.Join(upstream, c.name), ImportOptions{Out: out, Installed: debianPython, Goal: Minimize})
			switch {
			case c.class == NoEvaluator:
				if err == nil || !strings.Contains(err.Error(), "no evaluator") {
					t.Errorf("import err = %v, want one saying there is no evaluator", err)
				}
				return
			case c.labels:
				if err == nil || !strings.Contains(err.Error(), "--allow-visible-labels") {
					t.Errorf("import err = %v, want a refusal naming --allow-visible-labels", err)
				}
				imp, err = Import(filepath.Join(upstream, c.name), ImportOptions{Out: out, Installed: debianPython, AllowVisibleLabels: true})
			}
			if err != nil {
				t.Fatal(err)
			}
			notes := strings.Join(imp.Notes, "\n")
			if c.class == NeedsDownload && !strings.Contains(notes, "NEEDS DOWNLOAD") || c.class == NeedsDownload && !strings.Contains(notes, "python3 prepare.py && touch prepared") {
				t.Errorf("notes do not give the download command:\n%s", notes)
			}
			if c.class == MissingPackages && !strings.Contains(notes, "MISSING PACKAGES the evaluator needs (fatal): "+strings.ReplaceAll(c.missing, ",", ", ")) {
				t.Errorf("notes do not list the missing packages:\n%s", notes)
			}
			if c.template && !strings.Contains(notes, "first working run becomes the reference") {
				t.Errorf("notes do not explain the template:\n%s", notes)
			}
			if imp.Task.Commands.Prepare != "" {
				t.Errorf("prepare %q: every upstream prepare downloads or is already done", imp.Task.Commands.Prepare)
			}
			if got, want := strings.Join(imp.Task.Outputs, ","), "submission.csv"; got != want && !c.noOutput {
				t.Errorf("outputs %q, want %q", got, want)
			}
			for _, m := range s.WorkspaceModules {
				if _, err := os.Stat(filepath.Join(out, "eval", "vendor", m)); err != nil {
					t.Errorf("%s not vendored: %v", m, err)
				}
			}
		})
	}
}

// TestImportReadOnlyPatterns: amp's wildcard survives import and literal
// typos do not make setup fail.
func TestImportReadOnlyPatterns(t *testing.T) {
	needPython(t)
	src := filepath.Join(t.TempDir(), "amp")
	if err := CopyDir(src, filepath.Join(upstream, "amp-parkinsons-disease-progression-prediction")); err != nil {
		t.Fatal(err)
	}
	// The data a networked machine's prepare left behind, and its marker.
	for _, f := range []string{"example_test_files/test.csv", "train_clinical_data.csv", "supplemental_clinical_data.csv"} {
		os.MkdirAll(filepath.Dir(filepath.Join(src, "env", f)), 0o755)
		os.WriteFile(filepath.Join(src, "env", f), []byte("a\n1\n"), 0o644)
	}
	os.WriteFile(filepath.Join(src, "scripts", "prepared"), nil, 0o644)
	os.WriteFile(filepath.Join(src, "scripts", "answer.csv"), []byte("rating\n1\n2\n"), 0o644)
	imp, err := Import(src, ImportOptions{Out: filepath.Join(t.TempDir(), "out"), Installed: debianPython})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Survey.Class != OK {
		t.Errorf("prepared amp: class %q, want ok", imp.Survey.Class)
	}
	if got, want := strings.Join(imp.Task.Protected, ","), "example_test_files/*,supplemental_clinical_data.csv,train_clinical_data.csv,train_peptide.csv,train_protein.csv"; got != want {
		t.Errorf("protected %q, want %q", got, want)
	}
	if imp.Task.Commands.Prepare != "" {
		t.Errorf("prepare %q on prepared data, want none", imp.Task.Commands.Prepare)
	}
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	if _, err := imp.Task.Setup(context.Background(), runner(t), l, Options{}); err != nil {
		t.Fatalf("setup fails on the typo'd names: %v", err)
	}
	paths, missing := imp.Task.ProtectedPaths(l.Workspace)
	if got, want := strings.Join(paths, ","), "example_test_files/test.csv,supplemental_clinical_data.csv,train_clinical_data.csv"; got != want {
		t.Errorf("protected in the run %q, want %q", got, want)
	}
	if got, want := strings.Join(missing, ","), "train_peptide.csv,train_protein.csv"; got != want {
		t.Errorf("missing %q, want %q", got, want)
	}
	// The wildcard's file is read-only to experiments.
	res, err := imp.Task.Exec(context.Background(), runner(t), l, Options{}, "echo x > example_test_files/test.csv")
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Error("an experiment could write example_test_files/test.csv, protected by the pattern example_test_files/*")
	}
}

// TestImportWorkspaceModuleCannotSetMetric: feedback's eval.py imports
// train.py from the workspace; an experiment that redefines the metric
// there must not change the score.
func TestImportWorkspaceModuleCannotSetMetric(t *testing.T) {
	needPython(t)
	imp, err := Import(filepath.Join(upstream, "feedback"), ImportOptions{Out: filepath.Join(t.TempDir(), "out"), Metric: "mcrmse", Goal: Minimize, Installed: debianPython})
	if err != nil {
		t.Fatal(err)
	}
	tk := imp.Task
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	b, err := tk.Check(context.Background(), runner(t), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	honest := b.Score.Value
	if !(honest > 0.3 && honest < 2) {
		t.Fatalf("baseline mcrmse %v, want the prototype's honest error", honest)
	}
	cheat := `
import numpy as np
import pandas as pd
DIMENSIONS = ["cohesion", "syntax"]
def compute_metrics_for_regression(y_test, y_test_pred):
    return {"rmse": 0.0}
if __name__ == "__main__":
    test = pd.read_csv("test.csv")
    sub = pd.DataFrame({"text_id": test["text_id"]})
    for d in DIMENSIONS:
        sub[d] = 3.0
    sub.to_csv("submission.csv", index=False)
`
	if err := os.WriteFile(filepath.Join(l.Workspace, "train.py"), []byte(cheat), 0o644); err != nil {
		t.Fatal(err)
	}
	if res, err := tk.Run(context.Background(), runner(t), l, Options{}); err != nil || !res.OK() {
		t.Fatalf("run: %v %+v", err, res)
	}
	s, err := tk.Evaluate(context.Background(), runner(t), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Value < 0.3 {
		t.Errorf("mcrmse %v after the workspace's train.py redefined the metric: the agent set its own score", s.Value)
	}
	// Nor can a module of the workspace shadow one the evaluator imports
	// (eval.py puts env/ first on sys.path).
	if err := os.WriteFile(filepath.Join(l.Workspace, "numpy.py"), []byte("raise SystemExit('the workspace numpy.py was imported')\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.Evaluate(context.Background(), runner(t), l, Options{}); err != nil {
		t.Errorf("a workspace numpy.py reached the evaluator: %v", err)
	}
}

// TestImportStaleOutputNotScored: semeval24 ships a submission.csv; a run
// that fails must not be scored on it.
func TestImportStaleOutputNotScored(t *testing.T) {
	needPython(t)
	imp, err := Import(filepath.Join(upstream, "semeval24"), ImportOptions{Out: filepath.Join(t.TempDir(), "out"), Installed: debianPython, AllowVisibleLabels: true, Run: "python3 train.py fail"})
	if err != nil {
		t.Fatal(err)
	}
	tk := imp.Task
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	if _, err := tk.Setup(context.Background(), runner(t), l, Options{}); err != nil {
		t.Fatal(err)
	}
	res, err := tk.Run(context.Background(), runner(t), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() {
		t.Fatal("the failing prototype succeeded")
	}
	s, err := tk.Evaluate(context.Background(), runner(t), l, Options{})
	var se *StepError
	if !errors.As(err, &se) {
		t.Fatalf("the shipped submission.csv was scored after a failed run: %+v, err %v", s, err)
	}
}

// TestImportTasksJSONVariant: a name in tasks.json imports its benchmark
// folder with the variant's research problem and limits.
func TestImportTasksJSONVariant(t *testing.T) {
	imp, err := Import(filepath.Join(upstream, "debug"), ImportOptions{Out: filepath.Join(t.TempDir(), "out"), Installed: debianPython})
	if err != nil {
		t.Fatal(err)
	}
	tk := imp.Task
	if tk.Name != "debug" || !strings.HasPrefix(tk.Problem, "Improve the model of train.py with one simple change") {
		t.Errorf("name %q, problem %q: want the variant's", tk.Name, tk.Problem)
	}
	if got, want := tk.Limits.MaxSteps, 5; got != want {
		t.Errorf("max_steps %d, want %d (the variant's)", got, want)
	}
	if got, want := tk.Metric, (Metric{Name: "accuracy", Goal: Maximize}); got != want {
		t.Errorf("metric %+v, want %+v (guessed from cifar10's eval.py)", got, want)
	}
}
