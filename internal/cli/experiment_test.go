package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/store"
)

// digitsTask returns the digits example, skipping when Python lacks sklearn.
func digitsTask(t *testing.T) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with scikit-learn and pandas (make test installs them)")
	}
	dir, err := filepath.Abs("../../examples/tasks/digits")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func tool(name string, args map[string]any) fakeserver.Reply {
	return fakeserver.Reply{Response: &scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}}
}

// The scripted session: look, break the code, see the traceback, fix it
// with a better model, see the metric improve, finish.
func digitsScript() []fakeserver.Reply {
	return []fakeserver.Reply{
		tool("list_files", nil),
		tool("read_file", map[string]any{"path": "train.py"}),
		tool("edit_file", map[string]any{"path": "train.py",
			"old_text": "make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))",
			"new_text": "SVC(C=10, gamma=\"scale\", random_state=SEED)"}),
		tool("run_experiment", map[string]any{"note": "SVC instead of logistic regression"}),
		tool("edit_file", map[string]any{"path": "train.py",
			"old_text": "from sklearn.linear_model import LogisticRegression",
			"new_text": "from sklearn.linear_model import LogisticRegression\nfrom sklearn.svm import SVC"}),
		tool("run_experiment", map[string]any{"note": "with the import"}),
		tool("final_answer", map[string]any{"summary": "Replaced logistic regression by an RBF SVC."}),
	}
}

func TestExperimentOnDigits(t *testing.T) {
	taskDir := digitsTask(t)
	srv := fakeserver.New(digitsScript()...)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}
	r := run(t, env, "experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--task", taskDir, "--auto")
	if r.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"baseline accuracy = 0.9", "best     accuracy = 0.9", "vs baseline", "ended: final after 7 steps", "step   4 │ run_experiment #1 → failed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	reqs := srv.Requests()
	if len(reqs) != 7 {
		t.Fatalf("the model was asked %d times, want 7", len(reqs))
	}
	// The failed run's traceback went back to the agent.
	if body := string(reqs[4].Raw); !strings.Contains(body, "NameError") || !strings.Contains(body, "Traceback") {
		t.Errorf("the 5th request does not carry the traceback:\n%.2000s", body)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	list, _ := st.Runs(ctx)
	if len(list) != 1 || list[0].Status != store.StatusDone {
		t.Fatalf("runs = %+v", list)
	}
	runRow, _ := st.Run(ctx, list[0].ID)
	steps, _ := runRow.Steps(ctx)
	var kinds []string
	for _, s := range steps {
		kinds = append(kinds, s.Kind+":"+s.Status)
	}
	want := "setup:done baseline:done agent:done agent:done agent:done agent:done agent:done agent:done agent:done"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("steps = %s\nwant   %s", got, want)
	}
	var out struct {
		Step struct {
			Outcomes []struct {
				IsError bool            `json:"is_error"`
				Content string          `json:"content"`
				Data    json.RawMessage `json:"data"`
			} `json:"outcomes"`
		} `json:"step"`
		Snapshot string `json:"snapshot"`
	}
	json.Unmarshal(steps[2+5].Output, &out) // agent step 6: the successful run
	var rec struct {
		OK     bool
		Metric float64
	}
	json.Unmarshal(out.Step.Outcomes[0].Data, &rec)
	var base struct{ Metric float64 }
	json.Unmarshal(steps[1].Output, &base)
	if !rec.OK || rec.Metric <= base.Metric || out.Snapshot == "" {
		t.Errorf("step 6 run = %+v (baseline %v), snapshot %q", rec, base.Metric, out.Snapshot)
	}
	calls, _ := runRow.Calls(ctx)
	if len(calls) != 7 {
		t.Errorf("%d calls recorded, want 7", len(calls))
	}
	for i, c := range calls {
		if c.Step != steps[2+i].Seq {
			t.Errorf("call %d linked to step %d, want %d", i+1, c.Step, steps[2+i].Seq)
		}
	}

	// The run directory: the best code, its diff, the snapshots.
	dir := list[0].Dir
	best, _ := os.ReadFile(filepath.Join(dir, "best", "train.py"))
	if !strings.Contains(string(best), "SVC(C=10") || !strings.Contains(string(best), "from sklearn.svm import SVC") {
		t.Errorf("best/train.py:\n%s", best)
	}
	diff, _ := os.ReadFile(filepath.Join(dir, "best.diff"))
	if !strings.Contains(string(diff), "+from sklearn.svm import SVC") {
		t.Errorf("best.diff:\n%s", diff)
	}
	// Each run's snapshot holds the code that produced it.
	git := func(args ...string) string {
		out, err := exec.Command("git", append([]string{"--git-dir", filepath.Join(dir, "snapshots.git")}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v: %s", args, err, out)
		}
		return string(out)
	}
	if code := git("show", out.Snapshot+":train.py"); !strings.Contains(code, "from sklearn.svm import SVC") {
		t.Errorf("run 2's snapshot %s has train.py:\n%s", out.Snapshot, code)
	}
	json.Unmarshal(steps[2+3].Output, &out) // agent step 4: the failed run
	json.Unmarshal(out.Step.Outcomes[0].Data, &rec)
	if code := git("show", out.Snapshot+":train.py"); rec.OK || !strings.Contains(code, "SVC(C=10") || strings.Contains(code, "import SVC") {
		t.Errorf("run 1 (ok=%v) snapshot %s has train.py:\n%s", rec.OK, out.Snapshot, code)
	}
	if log := git("log", "--format=%s"); !strings.Contains(log, "prototype") {
		t.Errorf("snapshot history:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(dir, "workspace", "data", "train.csv")); err != nil {
		t.Errorf("workspace data: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "workspace", "predictions.csv")); err != nil {
		t.Errorf("workspace predictions: %v", err)
	}

	// mlrc replay re-executes the experiments with the recorded answers:
	// no model (the server is gone), the same metrics.
	srv.Close()
	rp := run(t, nil, "replay", list[0].ID, "--runs-dir", runs)
	if rp.code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", rp.code, rp.stdout, rp.stderr)
	}
	for _, want := range []string{"every metric reproduced", "7 answers replayed", "0 unused"} {
		if !strings.Contains(rp.stdout, want) {
			t.Errorf("replay output lacks %q:\n%s", want, rp.stdout)
		}
	}
	if !regexp.MustCompile(`run 2\s+0\.9\d+\s+0\.9\d+\s+yes`).MatchString(rp.stdout) || !regexp.MustCompile(`run 1\s+failed: .*yes`).MatchString(rp.stdout) {
		t.Errorf("replay table:\n%s", rp.stdout)
	}

	// Every sandboxed command's output is in the run's logs: the failed
	// run's traceback among them.
	logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*-run.stderr"))
	var traceback bool
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		traceback = traceback || strings.Contains(string(b), "NameError")
	}
	if len(logs) < 3 || !traceback {
		t.Errorf("%d run logs (want the baseline's and both runs'), the traceback in one: %v", len(logs), traceback)
	}

	// mlrc validate validates the experiment run after the fact and
	// writes its report; mlrc report writes the report again.
	id := list[0].ID
	v := run(t, nil, "validate", id, "--seeds", "0,1", "--runs-dir", runs)
	if v.code != 0 || !strings.Contains(v.stdout, "verdict: ") {
		t.Fatalf("validate: exit %d\n%s\n%s", v.code, v.stdout, v.stderr)
	}
	for _, f := range []string{"verdict.json", "report.html", "report.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("after validate: %v", err)
		}
	}
	if r := run(t, nil, "validate", id, "--seeds", "0", "--runs-dir", runs); r.code != 2 {
		t.Errorf("validate with one seed: exit %d, want 2", r.code)
	}
	os.Remove(filepath.Join(dir, "report.html"))
	if r := run(t, nil, "report", id, "--runs-dir", runs); r.code != 0 || !strings.Contains(r.stdout, "report: ") {
		t.Errorf("report: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(html), id) {
		t.Errorf("the report written again: %v", err)
	}
	show := run(t, nil, "runs", "show", id, "--runs-dir", runs)
	for _, want := range []string{"verdict  ", "metric   accuracy ", "report   " + filepath.Join(dir, "report.html")} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("runs show lacks %q:\n%s", want, show.stdout)
		}
	}
}

// TestMain lets a test re-execute this binary as the mlrc command, so that
// a real process can be killed mid-run.
func TestMain(m *testing.M) {
	if os.Getenv("MLRC_TEST_AS_CLI") == "1" {
		os.Exit(Run(context.Background(), os.Args[1:], OSEnv()))
	}
	os.Exit(m.Run())
}

// Killing mlrc while an experiment runs, then `mlrc resume`, finishes the
// run with no step lost or repeated and no model call sent twice.
func TestKillAndResume(t *testing.T) {
	taskDir := digitsTask(t)
	srv := fakeserver.New(digitsScript()...)
	defer srv.Close()
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}

	cmd := exec.Command(os.Args[0], "experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--task", taskDir, "--auto")
	cmd.Env = append(os.Environ(), "MLRC_TEST_AS_CLI=1", "OPENAI_BASE_URL="+env["OPENAI_BASE_URL"], "OPENAI_API_KEY=x", "HF_HUB_OFFLINE=1")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Read the progress until the successful run is under way: the model has
	// answered call 6 and the answer is recorded; then kill.
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(2 * time.Minute)
	callsFile := ""
	for callsFile == "" || countLines(callsFile) < 6 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("mlrc ended before it could be killed")
			}
			if f := strings.Fields(l); len(f) > 1 && f[0] == "run" && callsFile == "" {
				callsFile = filepath.Join(runs, f[1], "llm-calls.jsonl")
			}
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			cmd.Process.Kill()
			t.Fatal("timed out waiting for the 6th call")
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	served := len(srv.Requests())
	if served != 6 {
		t.Fatalf("the server answered %d calls before the kill, want 6", served)
	}
	id := filepath.Base(filepath.Dir(callsFile))

	r := run(t, env, "resume", id, "--runs-dir", runs)
	if r.code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := len(srv.Requests()); got != 7 {
		t.Errorf("after resume the server answered %d calls in all, want 7: a call was re-sent or lost", got)
	}
	if !strings.Contains(r.stdout, "best     accuracy = 0.9") {
		t.Errorf("resume output:\n%s", r.stdout)
	}
	ctx := context.Background()
	st, _ := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	defer st.Close()
	rr, _ := st.Run(ctx, id)
	info, _ := rr.Info(ctx)
	steps, _ := rr.Steps(ctx)
	seen := map[int]int{}
	stopped := 0
	for _, s := range steps {
		if s.Kind != "agent" {
			continue
		}
		if s.Status == store.StatusStopped {
			stopped++
			continue
		}
		var out struct {
			Step struct{ N int } `json:"step"`
		}
		json.Unmarshal(s.Output, &out)
		seen[out.Step.N]++
	}
	for n := 1; n <= 7; n++ {
		if seen[n] != 1 {
			t.Errorf("agent step %d completed %d times, want once (all: %v)", n, seen[n], seen)
		}
	}
	if stopped != 1 || info.Status != store.StatusDone {
		t.Errorf("%d interrupted steps, run status %s; want 1 and done", stopped, info.Status)
	}
	// Seven calls sent, and the answer of call 6 reused by the redone step,
	// recorded against it.
	calls, _ := rr.Calls(ctx)
	var replayed []int64
	for _, c := range calls {
		if c.ReplayOf != 0 {
			replayed = append(replayed, c.ReplayOf)
		}
	}
	if len(calls) != 8 || len(replayed) != 1 || replayed[0] != 6 {
		t.Errorf("%d calls recorded, replaying %v; want 8, one replaying call 6", len(calls), replayed)
	}
}

func countLines(path string) int {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\n")
}
