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
)

// mlrc bench over two example tasks with a plan: the table and the JSON.
func TestBenchTwoTasks(t *testing.T) {
	digits := digitsTask(t)
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("needs python3-torch for the fashion-mnist task")
	}
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); err != nil {
		t.Skip("needs dataset-fashion-mnist (make test installs it)")
	}
	fashion, _ := filepath.Abs("../../examples/tasks/fashion-mnist")
	// digits: the scripted improvement; fashion-mnist: the agent gives up at once.
	replies := append(digitsScript(), tool("final_answer", map[string]any{"summary": "no change"}))
	srv := fakeserver.New(replies...)
	defer srv.Close()
	runs := t.TempDir()
	out := filepath.Join(runs, "bench.json")
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "bench", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--task", digits, "--task", fashion,
		"--plan", "../../examples/demo/plan.md", "--out", out)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// digits: accuracy 0.974 -> 0.994, 78% of the baseline's error removed
	// (accuracy is bounded, so the change is taken on 1 - accuracy):
	// significant and over MLAgentBench's 10%.
	// With a plan there is no idea, so no forecast: EXPECTED is a dash.
	if !regexp.MustCompile(`digits\s+0\.97\d*\s+0\.99\d*\s+\+78\.\d+%\s+-\s+\+0\.02\d*\s+yes\s+7\s+\d+\s+\$0\.0\d+\s+\d+ s`).MatchString(r.stdout) {
		t.Errorf("digits row:\n%s", r.stdout)
	}
	if !regexp.MustCompile(`fashion-mnist\s+0\.8\d*\s+-\s+-\s+-\s+\S+\s+no\s+1\s`).MatchString(r.stdout) {
		t.Errorf("fashion-mnist row:\n%s", r.stdout)
	}
	var rows []benchRow
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rows); err != nil || len(rows) != 2 {
		t.Fatalf("bench.json: %v\n%s", err, b)
	}
	d, f := rows[0], rows[1]
	if d.Task != "digits" || d.Best == nil || *d.Best <= d.Baseline || !d.Significant || !d.Success || d.Steps != 7 || d.Tokens == 0 {
		t.Errorf("digits row = %+v", d)
	}
	if f.Task != "fashion-mnist" || f.Best != nil || f.Success || f.Steps != 1 {
		t.Errorf("fashion-mnist row = %+v", f)
	}
}

// mlrc bench over the five example tasks with the scripted bench rehearsal
// (examples/rehearsal/bench.yaml, checked against every request's schema):
// every task runs research end to end, and the table shows each chosen
// idea's forecast change beside the change measured. This is what make
// bench-tasks runs; it takes minutes, so -short skips it.
func TestBenchExampleTasks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the five tasks take minutes (make bench-tasks runs them)")
	}
	digitsTask(t)
	shared(t, "data")
	if err := exec.Command("/usr/bin/python3", "-c", "import torch").Run(); err != nil {
		t.Skip("needs python3-torch for the fashion-mnist task")
	}
	if _, err := os.Stat("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); err != nil {
		t.Skip("needs dataset-fashion-mnist (make test installs it)")
	}
	script, _ := filepath.Abs("../../examples/rehearsal/bench.yaml")
	args := []string{"bench", "--runs-dir", t.TempDir(), "--model", "scripted/" + script, "--offline", "--n", "1",
		"--paper", "../../examples/papers/fashion-mnist.md", "--out", filepath.Join(t.TempDir(), "bench.json")}
	for _, name := range []string{"digits", "fashion-mnist", "house-price", "semrel", "spaceship-titanic"} {
		args = append(args, "--task", "../../examples/tasks/"+name)
	}
	r := run(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "error:") || strings.Contains(r.stdout, "warning:") {
		t.Errorf("a task failed or an answer was repaired:\n%s", r.stdout)
	}
	// TASK BASELINE BEST IMPROVEMENT EXPECTED MEASURED SUCCESS ...: the
	// forecast from the script beside the measured change.
	for _, row := range []string{
		`digits\s+0\.97\d*\s+0\.99\d*\s+\+78\.\d+%\s+\+0\.015\s+\+0\.02\d*\s+yes\s`,
		`fashion-mnist\s+0\.8\d*\s+-\s+-\s+\+0\.02\s+\S+\s+no\s`,
		`house-price\s+\S+\s+-\s+-\s+-1500\s+\S+\s+no\s`,
		`semrel\s+\S+\s+-\s+-\s+\+0\.03\s+\S+\s+no\s`,
		`spaceship-titanic\s+\S+\s+-\s+-\s+\+0\.01\s+\S+\s+no\s`,
	} {
		if !regexp.MustCompile(row).MatchString(r.stdout) {
			t.Errorf("no row like %s in:\n%s", row, r.stdout)
		}
	}
}
