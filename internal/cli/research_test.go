package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/validate"
)

// researchScript: elements, two ideas, two reviews, then the digits
// experiment (a failed run, a fix, a better run, the final answer).
func researchScript() []fakeserver.Reply {
	idea := func(title string) map[string]any {
		return map[string]any{"title": title, "problem": "linear models underfit strokes", "rationale": "kernels capture non-linearity",
			"hypothesis": title + " beats logistic regression on test accuracy", "method": "replace the classifier",
			"builds_on": []any{},
			"experiment_plan": map[string]any{"datasets": []string{"data/train.csv"}, "models": []string{"SVC"}, "baselines": []string{"logistic regression"},
				"metrics": []string{"accuracy"}, "ablations": []string{"no scaling"}, "steps": []string{"swap the model", "run"},
				"success_criterion": "accuracy above the baseline", "compute_estimate": "1 CPU-minute"}}
	}
	r := []fakeserver.Reply{
		tool("research_elements", map[string]any{"research_tasks": []string{"benchmark image classifiers"},
			"research_gaps": []string{"simple baselines dominate small image benchmarks"}, "keywords": []string{"image classification", "benchmark"}}),
		tool("propose_ideas", map[string]any{"ideas": []any{idea("An RBF-kernel SVM on standardized pixels"), idea("A k-nearest-neighbour vote")}}),
		reviewReply(5), reviewReply(3),
	}
	return append(r, digitsScript()...)
}

func TestResearchOnDigits(t *testing.T) {
	taskDir := digitsTask(t)
	srv := fakeserver.New(researchScript()...)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"phase 1/4: ideas", "phase 2/4: experiment", "phase 3/4: validation", "phase 4/4: report", "verdict: SUCCESS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(srv.Requests()); n != 11 {
		t.Errorf("the model was asked %d times, want 11", n)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	if len(list) != 1 || list[0].Status != store.StatusDone || list[0].Kind != "research" {
		t.Fatalf("runs = %+v", list)
	}
	sum, _ := st.Summary(ctx, list[0].ID)
	var phases []string
	for _, p := range sum.Phases {
		phases = append(phases, p.Name+":"+p.Status)
	}
	if got := strings.Join(phases, " "); got != "idea:done experiment:done validation:done report:done" {
		t.Errorf("phases = %s", got)
	}
	dir := list[0].Dir
	for _, f := range []string{"report.md", "report.html", "plots/metric.svg", "plots/seeds.svg", "verdict.json", "ideas.json", "best.diff"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}

	// The report's numbers are the store's.
	var v validate.Verdict
	b, _ := os.ReadFile(filepath.Join(dir, "verdict.json"))
	json.Unmarshal(b, &v)
	if !v.Success || len(v.Baseline.Values) != 3 || len(v.Best.Values) != 3 {
		t.Fatalf("verdict = %+v", v)
	}
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	steps, _ := (func() ([]store.StepInfo, error) { r, _ := st.Run(ctx, list[0].ID); return r.Steps(ctx) })()
	var baseline struct{ Metric float64 }
	for _, s := range steps {
		if s.Kind == "baseline" {
			json.Unmarshal(s.Output, &baseline)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("%.4f", v.Baseline.Mean), fmt.Sprintf("%.4f", v.Best.Mean), fmt.Sprintf("%.4f", baseline.Metric),
		"An RBF-kernel SVM on standardized pixels", "A k-nearest-neighbour vote", "from sklearn.svm import SVC",
		fmt.Sprint(sum.Usage.InputTokens), list[0].ID,
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q (from the store)", want)
		}
		if !strings.Contains(string(html), want) {
			t.Errorf("report.html lacks %q (from the store)", want)
		}
	}
	if !regexp.MustCompile(`(?s)<svg.*</svg>.*<svg.*</svg>`).Match(html) || regexp.MustCompile(`(src|href)="(https?:)?//`).Match(html) {
		t.Errorf("report.html must hold both plots inline and load nothing")
	}
}

// A research run that fails in its experiment phase resumes there: the idea
// phase is not redone and no answered call is asked again.
func TestResearchResume(t *testing.T) {
	taskDir := digitsTask(t)
	script := researchScript()
	first := fakeserver.New(append(append([]fakeserver.Reply{}, script[:7]...), fakeserver.Error(401, "key revoked", nil))...)
	defer first.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": first.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2")
	if r.code == 0 || !regexp.MustCompile(`401`).MatchString(r.stderr) {
		t.Fatalf("first attempt: exit %d, stderr %s", r.code, r.stderr)
	}
	id := regexp.MustCompile(`research run (\S+)`).FindStringSubmatch(r.stdout)[1]

	second := fakeserver.New(script[7:]...)
	defer second.Close()
	env["OPENAI_BASE_URL"] = second.URL + "/v1"
	r = run(t, env, "resume", id, "--runs-dir", runs)
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if n := len(second.Requests()); n != len(script)-7 {
		t.Errorf("the resumed run asked %d times, want %d", n, len(script)-7)
	}
	for _, want := range []string{"ideas already chosen: An RBF-kernel SVM", "verdict: SUCCESS"} {
		if !regexp.MustCompile(regexp.QuoteMeta(want)).MatchString(r.stdout) {
			t.Errorf("resume output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// mlrc research --plan implements the plan: no idea phase, no paper.
func TestResearchWithPlan(t *testing.T) {
	taskDir := digitsTask(t)
	srv := fakeserver.New(digitsScript()...)
	defer srv.Close()
	runs := t.TempDir()
	plan := filepath.Join(t.TempDir(), "plan.md")
	os.WriteFile(plan, []byte("Replace the logistic regression with an RBF-kernel SVM on scaled pixels.\n"), 0o644)
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	if r := run(t, env, "research", "--runs-dir", runs, "--plan", plan, "--paper", "x.md", "--task", taskDir); r.code != 2 {
		t.Errorf("--plan with --paper: exit %d, want 2", r.code)
	}
	r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--plan", plan,
		"--task", taskDir, "--auto", "--offline", "--seeds", "0,1")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"a plan was given (" + plan + "): no idea phase", "phase 4/4: report", "verdict: "} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(srv.Requests()); n != 7 {
		t.Errorf("the model was asked %d times, want 7 (the experiment's only)", n)
	}
	if body := string(srv.Requests()[0].Raw); !strings.Contains(body, "RBF-kernel SVM on scaled pixels") {
		t.Errorf("the plan is not in the agent's brief:\n%.1500s", body)
	}
	ideas, _ := filepath.Glob(filepath.Join(runs, "*", "ideas.json"))
	reports, _ := filepath.Glob(filepath.Join(runs, "*", "report.html"))
	if len(ideas) != 0 || len(reports) != 1 {
		t.Errorf("%d ideas.json (want none), %d reports (want 1)", len(ideas), len(reports))
	}
}
