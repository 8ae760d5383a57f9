package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/idea"
	"github.com/mlrc/mlrc/lit"
	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/store"
)

// noveltyWorks is a small literature index for the digits task: two works
// on the topic, one off it.
var noveltyWorks = []lit.Work{
	{ID: "2501.00001", Source: "index", Title: "Kernel support vector machines for handwritten digit classification", Abstract: "An RBF-kernel SVM on raw pixels of small digit images beats linear classifiers."},
	{ID: "2501.00002", Source: "index", Title: "Nearest neighbour baselines for small image classification benchmarks", Abstract: "k-nearest neighbours with distance weights on digit images."},
	{ID: "2501.00003", Source: "index", Title: "Emotion classification of Spanish tweets", Abstract: "Classification of emotions in social media text."},
}

// proposeDigits proposes two ideas citing the first work the prompt lists.
func proposeDigits(req fakeserver.Request) fakeserver.Reply {
	m := listedWork.FindStringSubmatch(promptText(req))
	var refs []any
	if m != nil {
		refs = []any{map[string]any{"work": m[1], "how": "compares with it"}}
	}
	var ideas []any
	for _, title := range []string{"An RBF-kernel SVM on standardized pixels", "A k-nearest-neighbour vote"} {
		ideas = append(ideas, map[string]any{"title": title, "problem": "linear models underfit strokes", "rationale": "kernels capture non-linearity",
			"hypothesis": title + " beats logistic regression on test accuracy", "method": "replace the classifier", "builds_on": refs,
			"experiment_plan": map[string]any{"datasets": []string{"data/train.csv"}, "models": []string{"SVC"}, "baselines": []string{"logistic regression"},
				"metrics": []string{"accuracy"}, "ablations": []string{"no scaling"}, "steps": []string{"swap the model", "run"},
				"success_criterion": "accuracy above the baseline", "compute_estimate": "1 CPU-minute"}})
	}
	return tool("propose_ideas", map[string]any{"ideas": ideas})
}

// TestResearchNoveltyCheck: a research run with a literature index checks
// each idea's novelty with the model's searches; the queries, the hits of
// each round and the decision are recorded (ideas.json, the store's
// novelty steps) and rendered in report.md and report.html.
func TestResearchNoveltyCheck(t *testing.T) {
	taskDir := digitsTask(t)
	runs := t.TempDir()
	ctx := context.Background()
	ix, err := lit.OpenIndex(ctx, filepath.Join(runs, "literature.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Add(ctx, noveltyWorks...); err != nil {
		t.Fatal(err)
	}
	ix.Close()
	judge := func(req fakeserver.Request) fakeserver.Reply {
		var verdicts []any
		for _, m := range listedWork.FindAllStringSubmatch(promptText(req), -1) {
			verdicts = append(verdicts, map[string]any{"work": m[1], "relevant": !strings.Contains(m[2], "Emotion"), "reason": "judged on the title"})
		}
		return tool("judge_relevance", map[string]any{"verdicts": verdicts})
	}
	script := []fakeserver.Reply{
		tool("research_elements", map[string]any{"research_tasks": []string{"benchmark image classifiers"},
			"research_gaps": []string{"simple baselines dominate small image benchmarks"}, "keywords": []string{"image classification", "benchmark"}}),
		tool("search_queries", map[string]any{"queries": []string{"handwritten digit classification", "small image classification benchmarks", "emotion classification"}}),
		{Dynamic: judge},
		{Dynamic: proposeDigits},
		tool("novelty_queries", map[string]any{"queries": []string{"kernel SVM handwritten digits"}}),
		tool("novelty_decision", map[string]any{"decision": "known", "queries": []string{}, "reason": "an RBF-kernel SVM on digit pixels is published",
			"closest": []any{map[string]any{"work": "index:2501.00001", "how": "the same model on the same kind of data"}}}),
		tool("novelty_queries", map[string]any{"queries": []string{"nearest neighbour vote digits"}}),
		tool("novelty_decision", map[string]any{"decision": "search_more", "queries": []string{"distance weighted kNN images"}, "closest": []any{}, "reason": ""}),
		tool("novelty_decision", map[string]any{"decision": "incremental", "queries": []string{}, "reason": "kNN baselines exist; the tuning is new here",
			"closest": []any{map[string]any{"work": "index:2501.00002", "how": "kNN on digits without tuning k"}}}),
		reviewReply(5), reviewReply(3),
	}
	srv := fakeserver.New(append(script, digitsScript()...)...)
	defer srv.Close()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	if len(list) != 1 {
		t.Fatalf("runs = %+v", list)
	}
	dir := list[0].Dir
	res, err := idea.Read(filepath.Join(dir, "ideas.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range res.Retrieved {
		if w.ID == "2501.00003" {
			t.Errorf("the off-topic work reached the proposer")
		}
	}
	var knn *idea.Novelty
	for _, i := range res.Ideas {
		if i.Title == "A k-nearest-neighbour vote" {
			knn = i.Novelty
		}
	}
	if knn == nil || knn.Decision != idea.Incremental || len(knn.Rounds) != 2 || knn.Rounds[1].Queries[0] != "distance weighted kNN images" ||
		len(knn.Rounds[0].Hits) == 0 || knn.Closest[0].Work.Title != noveltyWorks[1].Title {
		t.Errorf("the kNN idea's novelty check: %+v", knn)
	}
	// Each check is a step of the run, with its output.
	run, _ := st.Run(ctx, list[0].ID)
	steps, _ := run.Steps(ctx)
	checks := 0
	for _, s := range steps {
		if s.Kind == "novelty" && strings.Contains(string(s.Output), `"decision"`) && strings.Contains(string(s.Output), `"rounds"`) {
			checks++
		}
	}
	if checks != 2 {
		t.Errorf("%d novelty steps with their output, want 2", checks)
	}
	// The chosen idea (the SVM, reviewed 5) is rendered with its check.
	md, _ := os.ReadFile(filepath.Join(dir, "report.md"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, want := range []string{"Novelty check: known.", "an RBF-kernel SVM on digit pixels is published", "the same model on the same kind of data",
		"Round 1 searched kernel SVM handwritten digits", noveltyWorks[0].Title, "incremental"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
		if !strings.Contains(string(html), want) && want != "Novelty check: known." {
			t.Errorf("report.html lacks %q", want)
		}
	}
}
