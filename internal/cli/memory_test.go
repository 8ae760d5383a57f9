package cli

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/store"
)

// choiceScript: elements, two ideas whose reviews tie on the six criteria,
// the second expected to gain more, then the digits experiment.
func choiceScript(secret string) []fakeserver.Reply {
	r := researchScript()
	ideas := r[1].Response.ToolCalls[0].Arguments.(map[string]any)["ideas"].([]any)
	knnIdea, svmIdea := ideas[1].(map[string]any), ideas[0].(map[string]any)
	svmIdea["title"] = strings.TrimSpace("An RBF-kernel SVM on standardized pixels " + secret)
	ideas[0], ideas[1] = knnIdea, svmIdea
	knn, svm := reviewReply(4), reviewReply(4)
	knn.Response.ToolCalls[0].Arguments.(map[string]any)["expected"] = expected(0.004, "low", 2)
	svm.Response.ToolCalls[0].Arguments.(map[string]any)["expected"] = expected(0.015, "medium", 4)
	r[2], r[3] = knn, svm
	return r
}

// Choose by expected gain, and remember: a research run on digits chooses
// the idea with the higher expected gain when the criteria tie and says why
// in its report; a second run on the same task is told the first run's
// result in the proposer's prompt and in the ExperimentAgent's brief; mlrc
// memory lists and clears it; the API key never enters it.
func TestResearchChoosesByGainAndRemembers(t *testing.T) {
	taskDir := digitsTask(t)
	const key = "sk-memorytest-0123456789abcdef"
	first := fakeserver.New(choiceScript(key)...)
	defer first.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": first.URL + "/v1", "OPENAI_API_KEY": key, "HF_HUB_OFFLINE": "1"}
	args := []string{"research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2"}
	r := run(t, env, args...)
	if r.code != 0 {
		t.Fatalf("first run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "chosen: An RBF-kernel SVM") {
		t.Errorf("the idea with the higher expected gain was not chosen:\n%s", r.stdout)
	}
	id := regexp.MustCompile(`research run (\S+)`).FindStringSubmatch(r.stdout)[1]
	md, err := os.ReadFile(filepath.Join(runs, id, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	// svm: 0.015 × 0.5 ÷ max(4/30, 0.25) = 0.03; knn: 0.004 × 0.8 ÷ 0.25 = 0.0128.
	for _, want := range []string{"### Why this idea", "idea-2 has the highest expected gain per unit of budget, 0.03 (accuracy +0.015 × chance 0.5 ÷ budget share 0.25)",
		"against 0.0128 for idea-1 (the six criteria tie at 3.57)", "| **chosen** | An RBF-kernel SVM", "| +0.015 accuracy | medium | 4 steps × 20 s (0.13 of the budget) | 0.03 |",
		"| A k-nearest-neighbour vote | +0.004 accuracy | low |", "Rule: ideas with validity and feasibility of at least 3 rank first"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	html, _ := os.ReadFile(filepath.Join(runs, id, "report.html"))
	if !strings.Contains(string(html), "<h3>Why this idea</h3>") || !strings.Contains(string(html), "highest expected gain per unit of budget") {
		t.Errorf("report.html lacks why the idea was chosen")
	}

	// The second run: its proposer and its ExperimentAgent are told.
	second := fakeserver.New(append(choiceScript("")[:4], fakeserver.Error(401, "key revoked", nil))...)
	defer second.Close()
	env["OPENAI_BASE_URL"] = second.URL + "/v1"
	r = run(t, env, args...)
	if r.code == 0 || !strings.Contains(r.stdout, "memory: 1 earlier result(s) on this task and data") {
		t.Fatalf("second run: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	reqs := second.Requests()
	if len(reqs) != 5 {
		t.Fatalf("second run: %d requests, want 5", len(reqs))
	}
	recalled := regexp.MustCompile(`idea \\"An RBF-kernel SVM on standardized pixels \[REDACTED[^\]]*\]\\": accuracy 0\.97\d* → 0\.99\d* \(\+\d+% of the error, in the goal's direction\), validated; changes: train\.py \+\d+ -\d+ \(run ` + id + `\)`)
	for i, what := range map[int]string{1: "the proposer's prompt", 2: "the reviewer's prompt", 4: "the ExperimentAgent's brief"} {
		if body := string(reqs[i].Raw); !recalled.MatchString(body) {
			t.Errorf("%s lacks the first run's result:\n%s", what, body)
		}
	}
	if body := string(reqs[1].Raw); !strings.Contains(body, "What earlier research runs on this task and data tried") {
		t.Errorf("the proposer's prompt lacks the memory's heading")
	}

	// mlrc memory lists it (the stopped second run added nothing: it
	// stopped before its experiment ended); clear forgets it.
	r = run(t, nil, "memory", "--runs-dir", runs, "--task", "digits")
	if r.code != 0 || strings.Count(r.stdout, "\ndigits ") != 1 || !strings.Contains(r.stdout, id) || !strings.Contains(r.stdout, "validated") {
		t.Errorf("mlrc memory: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := st.Memories(ctx, "", "")
	st.Close()
	for _, m := range ms {
		if strings.Contains(m.Idea+m.Changes+m.Verdict, key) {
			t.Errorf("the API key entered the memory: %+v", m)
		}
	}
	if r = run(t, nil, "memory", "clear", "--runs-dir", runs, "--task", "other"); !strings.Contains(r.stdout, "cleared the research memory of task other: 0 entries") {
		t.Errorf("clear other: %s%s", r.stdout, r.stderr)
	}
	if r = run(t, nil, "memory", "clear", "--runs-dir", runs, "--task", "digits"); !strings.Contains(r.stdout, "cleared the research memory of task digits: 1 entries") {
		t.Errorf("clear digits: %s%s", r.stdout, r.stderr)
	}
	if r = run(t, nil, "memory", "--runs-dir", runs); !strings.Contains(r.stdout, "holds nothing yet") {
		t.Errorf("after clear: %s", r.stdout)
	}
}
