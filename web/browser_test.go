package web_test

// Real-browser tests: headless Chromium (Debian's chromium) driven over the
// DevTools protocol by chromedp, against a real server and a real run of
// mlrc experiment whose model is a script served over HTTP
// (llm/fakeserver). They skip, saying why, where chromium or the
// experiment's Python is missing.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/mlrc/mlrc/internal/cli"
	"github.com/mlrc/mlrc/llm/fakeserver"
	"github.com/mlrc/mlrc/llm/scripted"
	"github.com/mlrc/mlrc/secret"
	"github.com/mlrc/mlrc/store"
	"github.com/mlrc/mlrc/web"
)

const testKey = "sk-test-browser-5d4c3b2a19f8e7d6"

func TestMain(m *testing.M) {
	// The test binary is also mlrc, for runs in a process of their own.
	if os.Getenv("MLRC_WEB_TEST_AS_CLI") == "1" {
		os.Exit(cli.Run(context.Background(), os.Args[1:], cli.OSEnv()))
	}
	os.Exit(m.Run())
}

// chromium returns the browser's path, or skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("chromium is not installed (apt-get install chromium; make test installs it): browser tests skipped")
	return ""
}

func digits(t *testing.T) string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import sklearn, pandas").Run(); err != nil {
		t.Skip("needs /usr/bin/python3 with scikit-learn and pandas (make test installs them)")
	}
	if _, err := exec.LookPath("bwrap"); err != nil {
		t.Skip("needs bubblewrap (make test installs it)")
	}
	dir, err := filepath.Abs("../examples/tasks/digits")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// artifacts is where screenshots go: $MLRC_TEST_ARTIFACTS, else a directory
// under the system's temporary directory that outlives the test.
func artifacts(t *testing.T) string {
	dir := os.Getenv("MLRC_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "mlrc-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func tool(name string, args map[string]any) fakeserver.Reply {
	return fakeserver.Reply{Response: &scripted.Response{ToolCalls: []scripted.ToolCall{{Name: name, Arguments: args}}}}
}

// page is a browser tab with what it requested and what it logged.
type page struct {
	ctx context.Context

	mu       sync.Mutex
	requests []string
	errors   []string
}

func (p *page) errorsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.errors...)
}

func (p *page) requestsSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

func newPage(t *testing.T, timeout time.Duration) *page {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 1600))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, timeout)
	t.Cleanup(cancel3)
	p := &page{ctx: ctx}
	err := chromedp.Listen(ctx, func(ev any) {
		p.mu.Lock()
		defer p.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			p.requests = append(p.requests, e.Request.URL)
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			p.errors = append(p.errors, fmt.Sprintf("exception: %s at %s:%d", msg, d.URL, d.LineNumber))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				p.errors = append(p.errors, "console."+string(e.Type)+": "+strings.Join(args, " "))
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				p.errors = append(p.errors, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// chromedp enables the runtime, log and network domains of the tab.
	return p
}

// screenshot saves the page as name.png under the artifacts directory and
// logs where.
func (p *page) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Errorf("screenshot: %v", err)
		return
	}
	path := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// checkClean fails on a request that left the server or an error the page
// logged.
func (p *page) checkClean(t *testing.T, base string) {
	t.Helper()
	reqs := p.requestsSeen()
	if len(reqs) == 0 {
		t.Error("no request seen: the network listener did not work")
	}
	for _, u := range reqs {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page requested %s, outside %s", u, base)
		}
	}
	for _, e := range p.errorsSeen() {
		t.Errorf("the page logged an error: %s", e)
	}
}

// serve starts the web server on a store of its own (as mlrc serve would,
// in another process) and returns its base URL.
func serve(t *testing.T, db string) string {
	t.Helper()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err := web.New(web.Options{Store: st, Addr: "127.0.0.1:0", Redact: secret.New(testKey), Poll: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// waitRun waits for the store to hold a run and returns its id.
func waitRun(t *testing.T, db string) string {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if st, err := store.Open(context.Background(), db); err == nil {
			runs, _ := st.Runs(context.Background())
			st.Close()
			if len(runs) > 0 {
				return runs[0].ID
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no run appeared in the store")
	return ""
}

// syncBuffer collects a run's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A run with human gates, followed in the browser from its start: the page
// updates live (no reload) while steps happen, each gate is answered by
// clicking in the page, the guidance typed there reaches the model, and the
// terminal that started the run is told. The page requests nothing from
// elsewhere and logs no error.
func TestBrowserFollowsRunAndAnswersGates(t *testing.T) {
	chromium(t)
	taskDir := digits(t)
	srv := fakeserver.New(
		tool("edit_file", map[string]any{"path": "train.py",
			"old_text": "from sklearn.linear_model import LogisticRegression",
			"new_text": "from sklearn.linear_model import LogisticRegression\nfrom sklearn.svm import SVC"}),
		tool("edit_file", map[string]any{"path": "train.py",
			"old_text": "make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=SEED))",
			"new_text": "SVC(C=10, gamma=\"scale\", random_state=SEED)"}),
		tool("run_experiment", map[string]any{"note": "an RBF SVC"}),
		tool("final_answer", map[string]any{"summary": "An RBF SVC beats logistic regression."}),
	)
	defer srv.Close()
	runs := t.TempDir()
	db := filepath.Join(runs, "mlrc.db")
	base := serve(t, db)

	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": testKey, "HF_HUB_OFFLINE": "1"}
	stdin, stdinW := io.Pipe() // a terminal where nobody types
	defer stdinW.Close()
	out := &syncBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- cli.Run(context.Background(), []string{"experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini",
			"--task", taskDir, "--human", "--gate-every", "2", "--max-steps", "6"},
			cli.Env{Stdin: stdin, Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] }})
	}()
	id := waitRun(t, db)

	p := newPage(t, 8*time.Minute)
	err := chromedp.Do(p.ctx, chromedp.Navigate(base+"/runs/"+id), chromedp.WaitVisible("#status"))
	var first string
	if err == nil {
		// A mark that a reload would wipe: every later change came live.
		first, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](`window.mlrcMark = "kept"; document.querySelector("#part-steps .steps")?.dataset.count || "0"`))
	}
	if err != nil {
		t.Fatalf("open the run page: %v\nrun output:\n%s", err, out.String())
	}

	// The gates, in the order the run opens them: the checkpoint after
	// two steps (guidance typed in the page), the first experiment, the
	// final answer.
	for seq, guidance := range []string{"look at the pixels", "", ""} {
		sel := fmt.Sprintf(`.gate.open[data-gate="%d"]`, seq+1)
		tasks := []chromedp.Action[chromedp.Void]{chromedp.WaitVisible(sel)}
		if guidance != "" {
			tasks = append(tasks, chromedp.SendKeys(sel+" textarea", guidance))
		}
		tasks = append(tasks, chromedp.Click(sel+` button[data-answer="go"]`),
			chromedp.WaitVisible(fmt.Sprintf(`.gate-log li[data-gate="%d"]`, seq+1)))
		if err := chromedp.Do(p.ctx, tasks...); err != nil {
			p.screenshot(t, "run-page-failed")
			t.Fatalf("gate %d: %v\nrun output:\n%s", seq+1, err, out.String())
		}
	}
	var mark, steps, points string
	err = chromedp.Do(p.ctx, chromedp.WaitVisible(`#status [data-status="done"]`), chromedp.WaitVisible(`#metric svg polyline`))
	if err == nil {
		mark, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](`window.mlrcMark || "reloaded"`))
	}
	if err == nil {
		steps, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector("#part-steps .steps").dataset.count`))
	}
	if err == nil {
		points, err = chromedp.Run(p.ctx, chromedp.Evaluate[string](`String(document.querySelectorAll("#metric circle.metric").length)`))
	}
	if err != nil {
		p.screenshot(t, "run-page-failed")
		t.Fatalf("the run's end on the page: %v\nrun output:\n%s", err, out.String())
	}
	p.screenshot(t, "run-page")
	if c := <-code; c != 0 {
		t.Fatalf("mlrc experiment exited %d:\n%s", c, out.String())
	}
	if mark != "kept" {
		t.Errorf("the page was reloaded; it should update live")
	}
	if first == steps || steps != "6" { // setup, baseline, four agent steps
		t.Errorf("steps on the page: %s at first, %s at the end; want them to grow live to 6", first, steps)
	}
	if points != "1" {
		t.Errorf("%s metric points on the chart, want 1 (one run)", points)
	}

	// The guidance typed in the browser reached the model, and the terminal
	// was told each gate was answered from the web.
	reqs := srv.Requests()
	if len(reqs) != 4 {
		t.Fatalf("the model was asked %d times, want 4", len(reqs))
	}
	if body := string(reqs[2].Raw); !strings.Contains(body, "Guidance from the researcher supervising you: look at the pixels") {
		t.Errorf("the third request lacks the guidance typed in the browser:\n%.1500s", body)
	}
	if n := strings.Count(out.String(), "answered from the web:"); n != 3 {
		t.Errorf("the terminal was told %d times that the web answered, want 3:\n%s", n, out.String())
	}
	if !strings.Contains(out.String(), "answered from the web: guidance: look at the pixels") {
		t.Errorf("the terminal was not told the guidance:\n%s", out.String())
	}
	p.checkClean(t, base)
}

// The runs list, the compare page and a run's validation-free page load
// with no error and no request elsewhere; a process killed while its run
// waits at a gate shows as interrupted on the open page.
func TestBrowserShowsKilledRunInterrupted(t *testing.T) {
	chromium(t)
	taskDir := digits(t)
	srv := fakeserver.New(tool("run_experiment", nil), tool("final_answer", map[string]any{"summary": "s"}))
	defer srv.Close()
	runs := t.TempDir()
	db := filepath.Join(runs, "mlrc.db")
	base := serve(t, db)

	// The run in a process of its own, with no terminal: it waits at the
	// first gate for the web.
	cmd := exec.Command(os.Args[0], "experiment", "--runs-dir", runs, "--model", "openai/gpt-4o-mini",
		"--task", taskDir, "--human")
	cmd.Env = append(os.Environ(), "MLRC_WEB_TEST_AS_CLI=1", "OPENAI_BASE_URL="+srv.URL+"/v1", "OPENAI_API_KEY="+testKey, "HF_HUB_OFFLINE=1")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	id := waitRun(t, db)

	p := newPage(t, 5*time.Minute)
	err := chromedp.Do(p.ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(fmt.Sprintf(`#runs tr[data-run="%s"]`, id)),
		chromedp.Navigate(base+"/runs/"+id),
		chromedp.WaitVisible(`#status [data-status="running"]`),
		chromedp.WaitVisible(`.gate.open[data-gate="1"]`),
	)
	if err != nil {
		t.Fatalf("the running run: %v\nrun output:\n%s", err, out.String())
	}
	cmd.Process.Kill() // kill -9: the run records nothing
	cmd.Wait()
	var text string
	err = chromedp.Do(p.ctx, chromedp.WaitVisible(`#status [data-status="interrupted"]`))
	if err == nil {
		text, err = chromedp.Run(p.ctx, chromedp.Text(`#part-head p.interrupted`))
	}
	if err != nil {
		p.screenshot(t, "interrupted-failed")
		t.Fatalf("after the kill: %v", err)
	}
	if !strings.Contains(text, "mlrc resume "+id) {
		t.Errorf("the page says %q, want the resume command", text)
	}
	gateForms, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`String(document.querySelectorAll(".gate.open").length)`))
	if gateForms != "0" {
		t.Errorf("%s gate forms still offered on an interrupted run", gateForms)
	}
	p.screenshot(t, "interrupted")
	if err := chromedp.Do(p.ctx, chromedp.Navigate(base+"/compare?a="+id+"&b="+id), chromedp.WaitVisible("#cmp-config")); err != nil {
		t.Fatalf("compare: %v", err)
	}
	p.checkClean(t, base)
}

func listen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// A whole research run (the rehearsal: a scripted model, everything else
// real) on its page: the ideas with their scores and reviews, the
// plan, the metric chart, validation with its plots, the report, the cost
// per phase and the code; the runs list filters it by task and status; the
// comparison page shows it. No error, no request elsewhere.
func TestBrowserResearchRunPage(t *testing.T) {
	chromium(t)
	taskDir := digits(t)
	runs := t.TempDir()
	db := filepath.Join(runs, "mlrc.db")
	out := &syncBuffer{}
	code := cli.Run(context.Background(), []string{"research", "--runs-dir", runs, "--rehearsal", "../examples/rehearsal/digits.yaml",
		"--offline", "--paper", "../examples/papers/fashion-mnist.md", "--task", taskDir, "--auto"},
		cli.Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Getenv: func(string) string { return "" }})
	if code != 0 {
		t.Fatalf("the rehearsal exited %d:\n%s", code, out.String())
	}
	id := waitRun(t, db)
	base := serve(t, db)

	p := newPage(t, 4*time.Minute)
	err := chromedp.Do(p.ctx, chromedp.Navigate(base+"/runs/"+id),
		chromedp.WaitVisible(`#status [data-status="done"]`),
		chromedp.WaitVisible(`#ideas .idea`),
		chromedp.WaitVisible(`#plan pre`),
		chromedp.WaitVisible(`#metric svg polyline`),
		chromedp.WaitVisible(`#validation .verdict.ok`),
		chromedp.WaitVisible(`#validation .plots img`),
		chromedp.WaitVisible(`#report iframe[data-loaded="1"]`),
		chromedp.WaitVisible(`#cost table`),
		chromedp.WaitVisible(`#diff pre`),
	)
	if err != nil {
		p.screenshot(t, "research-failed")
		t.Fatalf("the research run's page: %v", err)
	}
	// Wait for the images and the report to load, then read what shows.
	checks := map[string]string{
		"ideas":         `String(document.querySelectorAll("#ideas .idea").length)`,
		"review":        `String(document.querySelector("#ideas .review").textContent.includes("feasibility 5"))`,
		"plots loaded":  `String([...document.querySelectorAll("#validation .plots img")].every(i => i.complete && i.naturalWidth > 0))`,
		"phases":        `[...document.querySelectorAll("#phases li")].map(l => l.dataset.phase).join(",")`,
		"cost rows":     `String(document.querySelectorAll("#cost tbody tr").length)`,
		"report loaded": `String(document.querySelector("#report iframe").contentDocument === null)`,
	}
	time.Sleep(time.Second)
	got := map[string]string{}
	for name, expr := range checks {
		v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got[name] = v
	}
	if got["ideas"] == "0" || got["ideas"] == "1" {
		t.Errorf("%s ideas shown, want the ranking", got["ideas"])
	}
	if got["review"] != "true" || got["plots loaded"] != "true" {
		t.Errorf("review scores shown %s, plots loaded %s", got["review"], got["plots loaded"])
	}
	if got["phases"] != "idea,experiment,validation,report" {
		t.Errorf("phases = %s", got["phases"])
	}
	if got["cost rows"] == "0" {
		t.Errorf("no cost per phase")
	}
	// The report is in a sandboxed frame: the page cannot reach into it.
	if got["report loaded"] != "true" {
		t.Errorf("the report's frame is reachable from the page (contentDocument not null): not sandboxed")
	}
	p.screenshot(t, "research-run")

	err = chromedp.Do(p.ctx, chromedp.Navigate(base+"/?task=digits&status=done"),
		chromedp.WaitVisible(fmt.Sprintf(`#runs tr[data-run="%s"]`, id)),
		chromedp.Navigate(base+"/?status=failed"),
		chromedp.WaitVisible(`main p.muted`),
		chromedp.Navigate(base+"/compare?a="+id+"&b="+id),
		chromedp.WaitVisible(`#cmp-metrics table`),
		chromedp.WaitVisible(`#cmp-code pre`),
	)
	if err != nil {
		t.Fatalf("runs list and compare: %v", err)
	}
	p.screenshot(t, "compare")
	p.checkClean(t, base)
}

// A tree-search run's page from events as experiment.Tree records them,
// written while the page is open: the tree grows live with the path to the
// best node marked, an event type the page does not know shows as it is,
// and the ideas show their novelty evidence.
func TestBrowserTreeLive(t *testing.T) {
	chromium(t)
	ctx := context.Background()
	runs := t.TempDir()
	db := filepath.Join(runs, "mlrc.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	run, err := st.CreateRun(ctx, store.NewRun{Kind: "experiment", RunsDir: runs,
		Config: map[string]any{"experiment": map[string]any{"task": "/x/digits", "search": "tree"}}})
	if err != nil {
		t.Fatal(err)
	}
	ideas := `{"schema":"mlrc.ideas/v1","ideas":[{"id":"i1","title":"Wider trees","hypothesis":"h","method":"m","score":3.5,"rank":1,
		"novelty":{"score":0.31,"closest":[{"work":{"id":"arxiv:1234.5678","title":"Random forests revisited"},"similarity":0.69}]}}]}`
	if err := os.WriteFile(filepath.Join(run.Dir, "ideas.json"), []byte(ideas), 0o644); err != nil {
		t.Fatal(err)
	}
	node := func(id, parent int, op string, metric any) {
		run.Emit(ctx, "node", map[string]any{"node": id, "parent": parent, "operator": op, "status": store.StatusRunning})
		run.Emit(ctx, "node", map[string]any{"node": id, "parent": parent, "operator": op, "status": store.StatusDone, "metric": metric})
	}
	node(1, 0, "draft", 0.95)
	node(2, 0, "draft", 0.90)
	base := serve(t, db)
	p := newPage(t, time.Minute)
	err = chromedp.Do(p.ctx, chromedp.Navigate(base+"/runs/"+run.ID),
		chromedp.WaitVisible(`#tree li[data-node="1"].best-path`),
		chromedp.WaitVisible(`#ideas .idea`))
	if err != nil {
		t.Fatalf("the tree: %v", err)
	}
	ideaText, err := chromedp.Run(p.ctx, chromedp.Text(`#ideas .idea`))
	if err != nil || !strings.Contains(ideaText, "Random forests revisited") || !strings.Contains(ideaText, "similarity 0.69") {
		t.Errorf("the idea's novelty evidence: %q, %v", ideaText, err)
	}

	// While the page is open: node 3 improves on node 1, and an event of a
	// type the page does not know arrives.
	node(3, 1, "improve", 0.97)
	run.Emit(ctx, "experiment_output", map[string]string{"line": "epoch 3/10 loss 0.41"})
	err = chromedp.Do(p.ctx,
		chromedp.WaitVisible(`#tree li[data-node="1"] li[data-node="3"].best-path`),
		chromedp.WaitVisible(`#events li[data-type="experiment_output"]`))
	if err != nil {
		t.Fatalf("live updates: %v", err)
	}
	dots, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`String(document.querySelectorAll("#metric circle.metric").length)`))
	if dots != "3" {
		t.Errorf("%s node metrics on the chart, want 3", dots)
	}
	line, _ := chromedp.Run(p.ctx, chromedp.Text(`#events li[data-type="experiment_output"]`))
	if !strings.Contains(line, "epoch 3/10 loss 0.41") {
		t.Errorf("the unknown event shows %q", line)
	}
	off, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector('#tree li[data-node="2"]').className`))
	if off == "best-path" {
		t.Errorf("node 2 is marked on the path to the best")
	}
	p.screenshot(t, "tree")
	p.checkClean(t, base)
}
