package task

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const fixture = "testdata/mlab-fixture"

func TestImportFixture(t *testing.T) {
	needPython(t)
	out := filepath.Join(t.TempDir(), "toy")
	imp, err := Import(fixture, ImportOptions{Out: out, Metric: "accuracy"})
	if err != nil {
		t.Fatal(err)
	}
	tk := imp.Task
	if got, want := tk.Name, "mlab-fixture"; got != want {
		t.Errorf("name %q, want %q", got, want)
	}
	if got, want := tk.Metric, (Metric{Name: "accuracy", Goal: Maximize}); got != want {
		t.Errorf("metric %+v, want %+v", got, want)
	}
	if got, want := strings.Join(tk.Protected, ","), "test.csv,train.csv"; got != want {
		t.Errorf("protected %q, want %q (from read_only_files.txt)", got, want)
	}
	if !strings.HasPrefix(tk.Problem, "Go through train.csv") {
		t.Errorf("problem %q, want research_problem.txt", tk.Problem)
	}
	if tk.Commands.Prepare != "" {
		t.Errorf("prepare %q, want none: answer.csv exists", tk.Commands.Prepare)
	}
	if _, err := os.Stat(filepath.Join(out, "workspace", "answer.csv")); err == nil {
		t.Error("answer.csv is in the workspace")
	}
	if _, err := os.Stat(filepath.Join(out, "eval", "scripts", "answer.csv")); err != nil {
		t.Errorf("held-out answer.csv not copied: %v", err)
	}

	b, err := Check(context.Background(), out, runner(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Score.Value; !(v > 0.8 && v <= 1) {
		t.Errorf("imported baseline accuracy %v, want in (0.8, 1]", v)
	}

	// A broken submission reaches the agent as the benchmark's own error.
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	if _, err := tk.Setup(context.Background(), runner(t), l, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Workspace, "submission.csv"), []byte("id,label\n1001,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = tk.Evaluate(context.Background(), runner(t), l, Options{})
	var se *StepError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "submission has 1 rows, want 80") {
		t.Errorf("err = %v, want a *StepError with the benchmark's message", err)
	}
	os.Remove(filepath.Join(l.Workspace, "submission.csv"))
	if _, err = tk.Evaluate(context.Background(), runner(t), l, Options{}); err == nil || !strings.Contains(err.Error(), "submission.csv does not exist") {
		t.Errorf("no submission: err = %v, want one naming submission.csv", err)
	}
}

// TestImportWithPrepare converts a task whose answers come from its
// prepare.py, run for every run.
func TestImportWithPrepare(t *testing.T) {
	needPython(t)
	src := filepath.Join(t.TempDir(), "prep-task")
	if err := CopyDir(src, fixture); err != nil {
		t.Fatal(err)
	}
	// prepare.py makes env/test.csv and scripts/answer.csv from all.csv.
	if err := os.Rename(filepath.Join(src, "scripts", "answer.csv"), filepath.Join(src, "scripts", "all.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(src, "env", "test.csv"), filepath.Join(src, "scripts", "test_features.csv")); err != nil {
		t.Fatal(err)
	}
	prep := `import shutil
shutil.copy("test_features.csv", "../env/test.csv")
shutil.copy("all.csv", "answer.csv")
`
	if err := os.WriteFile(filepath.Join(src, "scripts", "prepare.py"), []byte(prep), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	imp, err := Import(src, ImportOptions{Out: out, Metric: "acc_score", Goal: Maximize})
	if err != nil {
		t.Fatal(err)
	}
	if imp.Task.Commands.Prepare == "" {
		t.Fatal("no prepare step, want the benchmark's prepare.py")
	}
	if !strings.Contains(strings.Join(imp.Notes, "\n"), "prepare.py runs at the start of every run") {
		t.Errorf("notes %q do not mention prepare", imp.Notes)
	}
	l := Layout{Workspace: filepath.Join(t.TempDir(), "w"), Private: filepath.Join(t.TempDir(), "p")}
	b, err := imp.Task.Check(context.Background(), runner(t), l, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if v := b.Score.Value; !(v > 0.8 && v <= 1) {
		t.Errorf("baseline %v, want in (0.8, 1]", v)
	}
	if _, err := os.Stat(filepath.Join(l.Private, "answer.csv")); err != nil {
		t.Errorf("prepare's answer.csv is not in the private directory: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "eval", "scripts", "answer.csv")); err == nil {
		t.Errorf("prepare wrote into the task directory")
	}
}

func TestImportErrors(t *testing.T) {
	if _, err := Import(fixture, ImportOptions{Out: t.TempDir() + "/x"}); err == nil || !strings.Contains(err.Error(), "--goal") {
		t.Errorf("no metric or goal: err = %v, want one asking for --goal", err)
	}
	if _, err := Import(t.TempDir(), ImportOptions{Out: t.TempDir() + "/x", Metric: "mae"}); err == nil || !strings.Contains(err.Error(), "env") {
		t.Errorf("not an MLAgentBench task: err = %v, want one naming env/", err)
	}
	busy := t.TempDir()
	os.WriteFile(filepath.Join(busy, "f"), nil, 0o644)
	if _, err := Import(fixture, ImportOptions{Out: busy, Metric: "mae"}); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty out: err = %v, want one saying it is not empty", err)
	}
}

func TestReadOnlyPatterns(t *testing.T) {
	env := t.TempDir()
	for _, f := range []string{"train.py", "data/a.csv", "data/sub/b.csv", "notes.txt"} {
		os.MkdirAll(filepath.Dir(filepath.Join(env, f)), 0o755)
		os.WriteFile(filepath.Join(env, f), nil, 0o644)
	}
	list := filepath.Join(t.TempDir(), "read_only_files.txt")
	os.WriteFile(list, []byte("./data/*\n./made_by_prepare.csv\n*.md\n"), 0o644)
	var notes []string
	got, err := readOnlyFiles(env, list, func(f string, a ...any) { notes = append(notes, f) })
	if err != nil {
		t.Fatal(err)
	}
	// Patterns stay patterns, resolved in each run after prepare.
	if got, want := strings.Join(got, ","), "*.md,data/*,made_by_prepare.csv"; got != want {
		t.Errorf("protected %q, want %q", got, want)
	}
	if len(notes) != 0 {
		t.Errorf("notes %q, want none", notes)
	}
	// Without the list: every data file.
	got, _ = readOnlyFiles(env, filepath.Join(env, "absent"), func(string, ...any) {})
	if got, want := strings.Join(got, ","), "data/a.csv,data/sub/b.csv,notes.txt"; got != want {
		t.Errorf("default protected %q, want %q", got, want)
	}
}
