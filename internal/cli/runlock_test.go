package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/store"
)

// slowStep is how long the agent's experiment sleeps: the window in which
// the test kills mlrc inside that step, after its model call is recorded.
const slowStep = 5 * time.Second

// slowTask writes a task whose prototype is quick and that only needs the
// standard library.
func slowTask(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"task.yaml": `name: slow
problem: Write a score into pred.txt; higher is better.
workspace: workspace
run: python3 train.py
evaluate: python3 {task}/eval.py {workspace}/pred.txt
metric: {name: score, goal: maximize}
limits: {run_timeout: 2m, eval_timeout: 1m, max_steps: 10, total_time: 1h}
`,
		"eval.py":            "import json, sys\nprint(json.dumps({'score': float(open(sys.argv[1]).read())}))\n",
		"workspace/train.py": "open('pred.txt', 'w').write('0.5')\n",
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// slowScript: write a slow train.py, run it (the slow step), finish.
func slowScript() []fakeserver.Reply {
	code := fmt.Sprintf("import time\ntime.sleep(%g)\nopen('pred.txt', 'w').write('0.75')\n", slowStep.Seconds())
	return []fakeserver.Reply{
		tool("write_file", map[string]any{"path": "train.py", "content": code}),
		tool("run_experiment", map[string]any{"note": "the slow one"}),
		tool("final_answer", map[string]any{"summary": "A higher score, slowly."}),
	}
}

// child is mlrc run as its own process (this test binary, see TestMain).
type child struct {
	cmd    *exec.Cmd
	stdout chan string
	stderr *strings.Builder
	done   chan error
}

func startChild(t *testing.T, env map[string]string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "MLRC_TEST_AS_CLI=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdout: make(chan string, 1000), stderr: &strings.Builder{}, done: make(chan error, 1)}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.stdout <- sc.Text()
		}
		close(c.stdout)
		c.done <- cmd.Wait()
	}()
	return c
}

// waitCalls waits until the run's llm-calls.jsonl has n lines, failing if
// the child ends first.
func (c *child) waitCalls(t *testing.T, callsFile string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for countLines(callsFile) < n {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for call %d (stderr: %s)", n, c.stderr)
		}
		select {
		case err := <-c.done:
			t.Fatalf("mlrc ended (%v) before call %d was recorded\nstderr: %s", err, n, c.stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
}

// runID reads the run id from the first line mlrc prints ("run ID · …").
func (c *child) runID(t *testing.T) string {
	t.Helper()
	select {
	case l := <-c.stdout:
		if f := strings.Fields(l); len(f) > 1 && f[0] == "run" {
			return f[1]
		}
		t.Fatalf("first line %q does not name the run (stderr: %s)", l, c.stderr)
	case <-time.After(2 * time.Minute):
		t.Fatalf("no run line (stderr: %s)", c.stderr)
	}
	return ""
}

// refusedResume runs `mlrc resume id` while holder works on the run and
// checks it fails at once, naming the holder, and writes nothing: the
// holder's open step stays running and run.json is untouched.
func refusedResume(t *testing.T, env map[string]string, runs, id string, holder int) {
	t.Helper()
	dir := filepath.Join(runs, id)
	before, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := run(t, env, "resume", id, "--runs-dir", runs)
	if r.code == 0 {
		t.Fatalf("a resume while process %d works on the run succeeded:\n%s", holder, r.stdout)
	}
	if want := fmt.Sprintf("run %s is in use by process %d", id, holder); !strings.Contains(r.stderr, want) {
		t.Errorf("refused resume says %q, want %q", r.stderr, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the refused resume took %s; it must fail at once", d)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "run.json"))
	if string(after) != string(before) {
		t.Errorf("the refused resume rewrote run.json:\n%s\nwas:\n%s", after, before)
	}
	steps := readSteps(t, runs, id)
	if last := steps[len(steps)-1]; last.Status != store.StatusRunning {
		t.Errorf("after the refused resume the holder's step %d is %s, want still running", last.Seq, last.Status)
	}
}

func readSteps(t *testing.T, runs, id string) []store.StepInfo {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.Run(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	steps, err := r.Steps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return steps
}

// One writer per run, and resuming after repeated crashes: mlrc is killed
// three times in a row inside the same step (its model call recorded, its
// experiment running), then resumed to the end. A resume while a process
// works on the run — the original or another resume — is refused with the
// holder named and writes nothing, and the holder goes on to finish
// cleanly. A killed run shows as interrupted. The fake server receives
// each request once: no model call is sent twice.
// It runs against llm/fakeserver and against the separate fake server
// /work/shared/tools/fakellm.py, whose --log records every request.
func TestOneWriterAndRepeatedKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and resumes mlrc four times (about 10 s per server)")
	}
	t.Run("fakeserver", func(t *testing.T) {
		srv := fakeserver.New(slowScript()...)
		defer srv.Close()
		oneWriterAndRepeatedKills(t, srv.URL, func() [][]byte {
			var bodies [][]byte
			for _, q := range srv.Requests() {
				bodies = append(bodies, q.Raw)
			}
			return bodies
		})
	})
	t.Run("fakellm.py", func(t *testing.T) {
		url, requests := startScriptedFakeLLM(t)
		oneWriterAndRepeatedKills(t, url, requests)
	})
}

// startFakeLLM runs fakellm.py in script mode with slowScript's answers and
// returns its URL and a reader of the requests in its log.
func startScriptedFakeLLM(t *testing.T) (string, func() [][]byte) {
	t.Helper()
	tool := shared(t, "tools/fakellm.py")
	dir := t.TempDir()
	var script strings.Builder
	for _, r := range slowScript() {
		var calls []map[string]any
		for _, c := range r.Response.ToolCalls {
			calls = append(calls, map[string]any{"name": c.Name, "arguments": c.Arguments})
		}
		line, _ := json.Marshal(map[string]any{"tool_calls": calls})
		script.Write(append(line, '\n'))
	}
	scriptFile, portFile, logFile := filepath.Join(dir, "script.jsonl"), filepath.Join(dir, "port"), filepath.Join(dir, "log.jsonl")
	if err := os.WriteFile(scriptFile, []byte(script.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", tool, "--mode", "script", "--script", scriptFile, "--port-file", portFile,
		"--log", logFile, "--quiet", "--api-key", "x")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start %s: %v", tool, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	var port string
	for port == "" {
		if b, err := os.ReadFile(portFile); err == nil && strings.TrimSpace(string(b)) != "" {
			port = strings.TrimSpace(string(b))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fakellm.py wrote no port file: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "http://127.0.0.1:" + port, func() [][]byte {
		b, err := os.ReadFile(logFile)
		if err != nil {
			return nil
		}
		var bodies [][]byte
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var entry struct {
				Path    string          `json:"path"`
				Status  int             `json:"status"`
				Request json.RawMessage `json:"request"`
			}
			if json.Unmarshal([]byte(line), &entry) != nil || entry.Request == nil {
				continue
			}
			if entry.Status >= 400 {
				t.Errorf("fakellm.py refused a request (%d): %.300s", entry.Status, line)
			}
			bodies = append(bodies, entry.Request)
		}
		return bodies
	}
}

func oneWriterAndRepeatedKills(t *testing.T, url string, requests func() [][]byte) {
	taskDir := slowTask(t)
	runs := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": url + "/v1", "OPENAI_API_KEY": "x", "HF_HUB_OFFLINE": "1"}

	// The original run, inside its slow step (step 2's call recorded).
	orig := startChild(t, env, "experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini", "--task", taskDir, "--auto")
	id := orig.runID(t)
	callsFile := filepath.Join(runs, id, "llm-calls.jsonl")
	orig.waitCalls(t, callsFile, 2)
	refusedResume(t, env, runs, id, orig.cmd.Process.Pid)
	select {
	case err := <-orig.done:
		t.Fatalf("the original run ended (%v) after a refused resume; stderr: %s", err, orig.stderr)
	default:
	}
	orig.kill(t) // kill 1

	// A killed run shows as interrupted, with the command that resumes it.
	r := run(t, env, "runs", "--runs-dir", runs)
	if !strings.Contains(r.stdout, "interrupted") || !strings.Contains(r.stdout, "mlrc resume "+id) {
		t.Errorf("mlrc runs after a kill:\n%s", r.stdout)
	}
	r = run(t, env, "runs", "show", id, "--runs-dir", runs)
	if !strings.Contains(r.stdout, "status   interrupted") || !strings.Contains(r.stdout, "mlrc resume "+id) {
		t.Errorf("mlrc runs show after a kill:\n%s", r.stdout)
	}

	// Kills 2 and 3: each resume reuses the recorded answer of the slow
	// step (recorded anew, against its own step) and is killed in it.
	for kill, calls := range []int{3, 4} {
		res := startChild(t, env, "resume", id, "--runs-dir", runs)
		res.waitCalls(t, callsFile, calls)
		res.kill(t)
		t.Logf("kill %d done with %d calls recorded", kill+2, countLines(callsFile))
	}
	if n := len(requests()); n != 2 {
		t.Fatalf("after three kills the server got %d requests, want 2", n)
	}

	// The last resume, while it is in the slow step, refuses a second
	// resume, then finishes cleanly.
	last := startChild(t, env, "resume", id, "--runs-dir", runs)
	last.waitCalls(t, callsFile, 5)
	refusedResume(t, env, runs, id, last.cmd.Process.Pid)
	var lastOut []string
	for l := range last.stdout {
		lastOut = append(lastOut, l)
	}
	if err := <-last.done; err != nil {
		t.Fatalf("the resume holding the run failed: %v\nstdout:\n%s\nstderr:\n%s", err, strings.Join(lastOut, "\n"), last.stderr)
	}
	if out := strings.Join(lastOut, "\n"); !strings.Contains(out, "best     score = 0.75") {
		t.Errorf("last resume output:\n%s", out)
	}

	// The server's log: three requests, none sent twice.
	reqs := requests()
	seen := map[string]int{}
	for i, q := range reqs {
		if j, ok := seen[string(q)]; ok {
			t.Errorf("request %d repeats request %d: a model call was sent twice", i+1, j+1)
		}
		seen[string(q)] = i + 1
	}
	if len(reqs) != 3 {
		t.Errorf("the server got %d requests, want 3 (one per agent step)", len(reqs))
	}

	// The store: each agent step completed once, the slow step cut off
	// three times; its answer sent once and reused three times, each reuse
	// recorded against its own step and chained to the one before.
	steps := readSteps(t, runs, id)
	done, stopped := map[int]int{}, 0
	for _, s := range steps {
		if s.Kind != "agent" {
			continue
		}
		if s.Status != store.StatusDone {
			stopped++
			continue
		}
		var out struct {
			Step struct{ N int } `json:"step"`
		}
		json.Unmarshal(s.Output, &out)
		done[out.Step.N]++
	}
	if len(done) != 3 || done[1] != 1 || done[2] != 1 || done[3] != 1 || stopped != 3 {
		t.Errorf("agent steps completed %v, %d cut off; want steps 1-3 once each and 3 cut off", done, stopped)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(runs, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rr, _ := st.Run(ctx, id)
	calls, err := rr.Calls(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var chain []int64
	stepOf := map[int64]bool{}
	for _, c := range calls {
		if c.ReplayOf != 0 {
			chain = append(chain, c.ReplayOf)
		}
		if stepOf[c.Step] {
			t.Errorf("step %d has two calls", c.Step)
		}
		stepOf[c.Step] = true
	}
	if got, want := fmt.Sprint(chain), "[2 3 4]"; got != want || len(calls) != 6 {
		t.Errorf("calls replaying others: %s in %d calls; want %s in 6 (%s)", got, len(calls), want, callsText(calls))
	}
	sum, err := st.Summary(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Status != store.StatusDone || sum.Calls != 3 || sum.Replayed != 3 {
		t.Errorf("summary: %s, %d calls sent, %d replayed; want done, 3, 3", sum.Status, sum.Calls, sum.Replayed)
	}
}

func callsText(calls []llm.Call) string {
	var b strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&b, "#%d step %d replay_of %d; ", c.Seq, c.Step, c.ReplayOf)
	}
	return b.String()
}
