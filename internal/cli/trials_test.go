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

// --n-experiments 2: the first-ranked idea's experiment gives up at once,
// the second's improves the metric in an experiment run of its own; the
// second is validated, and the report lists each idea's outcome.
func TestResearchTwoExperiments(t *testing.T) {
	taskDir := digitsTask(t)
	script := choiceScript("")
	// ranked first: the SVM idea (higher expected gain); it gives up.
	replies := append(append([]fakeserver.Reply{}, script[:4]...), tool("final_answer", map[string]any{"summary": "nothing tried"}))
	replies = append(replies, digitsScript()...)
	srv := fakeserver.New(replies...)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "research", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--paper", "../../examples/papers/fashion-mnist.md",
		"--task", taskDir, "--auto", "--offline", "--n", "2", "--n-experiments", "2", "--max-steps", "16", "--no-memory")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"experiment 1/2: An RBF-kernel SVM on standardized pixels (8 steps each)", "== experiment 2/2: A k-nearest-neighbour vote ==",
		"verdict: SUCCESS"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if n := len(srv.Requests()); n != len(replies) {
		t.Errorf("%d requests, want %d", n, len(replies))
	}
	id := regexp.MustCompile(`research run (\S+)`).FindStringSubmatch(r.stdout)[1]
	child := regexp.MustCompile(`experiment run (\S+)`).FindStringSubmatch(r.stdout)[1]
	md, _ := os.ReadFile(filepath.Join(runs, id, "report.md"))
	for _, want := range []string{"### Ideas tried", "| `idea-2` | An RBF-kernel SVM on standardized pixels | `" + id + "` | 0.9741 | — | 1 | no run beat the baseline |",
		"| **validated** | `idea-1` | A k-nearest-neighbour vote | `" + child + "` | 0.9741 | 0.9944 | 7 | measured best: validated |",
		"idea-1 measured best of the 2 ideas tried", "from sklearn.svm import SVC"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q\n%s", want, md)
		}
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	kinds := map[string]string{}
	for _, l := range list {
		kinds[l.ID] = l.Kind + ":" + string(l.Status)
	}
	if kinds[id] != "research:done" || kinds[child] != "experiment:done" || len(list) != 2 {
		t.Errorf("runs = %v", kinds)
	}
	// --no-memory: nothing was remembered, and the run says so.
	if ms, _ := st.Memories(ctx, "", ""); len(ms) != 0 {
		t.Errorf("--no-memory remembered %+v", ms)
	}
	if b, _ := os.ReadFile(filepath.Join(runs, id, "memory.json")); !strings.Contains(string(b), `"off": true`) {
		t.Errorf("memory.json = %s", b)
	}
}
