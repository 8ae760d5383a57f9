package web

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/secret"
	"github.com/mlrc/mlrc/store"
)

func testStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "mlrc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, filepath.Join(dir, "runs")
}

func testServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	opts.Poll = 20 * time.Millisecond
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

func get(t *testing.T, c *http.Client, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if c == nil {
		c = http.DefaultClient
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func post(t *testing.T, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func TestNeedsTokenBeyondLoopback(t *testing.T) {
	st, _ := testStore(t)
	for _, addr := range []string{"0.0.0.0:8765", "192.0.2.1:80", ":8765"} {
		if _, err := New(Options{Store: st, Addr: addr}); !errors.Is(err, ErrNeedToken) {
			t.Errorf("New(%s) without a token: %v, want ErrNeedToken", addr, err)
		}
		if _, err := New(Options{Store: st, Addr: addr, Token: "t"}); err != nil {
			t.Errorf("New(%s) with a token: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "localhost:8765", "[::1]:8765"} {
		if _, err := New(Options{Store: st, Addr: addr}); err != nil {
			t.Errorf("New(%s): %v", addr, err)
		}
	}
	if _, err := New(Options{Store: st, Addr: "nonsense"}); err == nil || !strings.Contains(err.Error(), "host:port") {
		t.Errorf("New(nonsense): %v", err)
	}
}

func TestToken(t *testing.T) {
	st, _ := testStore(t)
	_, ts := testServer(t, Options{Store: st, Addr: "0.0.0.0:0", Token: "s3cret-token"})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, _ := get(t, noRedirect, ts.URL+"/api/runs", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d, want 401", res.StatusCode)
	}
	if res, _ := get(t, noRedirect, ts.URL+"/?token=wrong", nil); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", res.StatusCode)
	}
	res, _ := get(t, noRedirect, ts.URL+"/?token=s3cret-token", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("?token=: %d to %q, want 303 to / (the token off the address)", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == tokenCookie {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("token cookie = %+v, want HttpOnly and SameSite=Strict", cookie)
	}
	if res, _ := get(t, nil, ts.URL+"/api/runs", map[string]string{"Cookie": tokenCookie + "=s3cret-token"}); res.StatusCode != 200 {
		t.Errorf("with the cookie: %d", res.StatusCode)
	}
	if res, _ := get(t, nil, ts.URL+"/api/runs", map[string]string{"Authorization": "Bearer s3cret-token"}); res.StatusCode != 200 {
		t.Errorf("with a bearer token: %d", res.StatusCode)
	}
}

// A loopback server answers only to loopback names: a page elsewhere that
// rebinds its name to 127.0.0.1 is refused.
func TestHostCheck(t *testing.T) {
	st, _ := testStore(t)
	_, ts := testServer(t, Options{Store: st, Addr: "127.0.0.1:0"})
	req, _ := http.NewRequest("GET", ts.URL+"/api/runs", nil)
	req.Host = "evil.example:8765"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host evil.example: %d, want 421", res.StatusCode)
	}
}

// pageCSRF reads the CSRF token the page carries.
func pageCSRF(t *testing.T, url string) string {
	_, body := get(t, nil, url+"/", nil)
	m := regexp.MustCompile(`name="csrf" content="([0-9a-f]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf meta in the page:\n%s", body)
	}
	return m[1]
}

func TestAnswerGate(t *testing.T) {
	ctx := context.Background()
	st, runs := testStore(t)
	run, err := st.CreateRun(ctx, store.NewRun{ID: "r1", Kind: "experiment", RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.OpenGate(ctx, store.GateCheckpoint, "5 steps done", nil); err != nil {
		t.Fatal(err)
	}
	_, ts := testServer(t, Options{Store: st})
	csrf := pageCSRF(t, ts.URL)
	url := ts.URL + "/api/runs/r1/gates/1"
	good := map[string]string{"Content-Type": "application/json", "X-MLRC-CSRF": csrf}
	tests := []struct {
		name   string
		body   string
		header map[string]string
		want   int
	}{
		{"no csrf header", `{"answer":{}}`, map[string]string{"Content-Type": "application/json"}, 403},
		{"wrong csrf", `{"answer":{}}`, map[string]string{"Content-Type": "application/json", "X-MLRC-CSRF": "00"}, 403},
		{"cross-site", `{"answer":{}}`, map[string]string{"Content-Type": "application/json", "X-MLRC-CSRF": csrf, "Sec-Fetch-Site": "cross-site"}, 403},
		{"other origin", `{"answer":{}}`, map[string]string{"Content-Type": "application/json", "X-MLRC-CSRF": csrf, "Origin": "http://evil.example"}, 403},
		{"a form", `answer=x`, map[string]string{"Content-Type": "application/x-www-form-urlencoded", "X-MLRC-CSRF": csrf}, 415},
		{"a bad answer", `{"answer":{"approve":true}}`, good, 400},
		{"the answer", `{"answer":{"guidance":"try an SVC"}}`, good, 200},
		{"too late", `{"answer":{"stop":true}}`, good, 409},
	}
	for _, tt := range tests {
		res, body := post(t, url, tt.body, tt.header)
		if res.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, res.StatusCode, body, tt.want)
		}
		if tt.name == "too late" && !strings.Contains(body, "already answered from the web") {
			t.Errorf("late answer says %s", body)
		}
	}
	g, _ := st.Gate(ctx, "r1", 1)
	if g.AnsweredBy != store.ByWeb || string(g.Answer) != `{"guidance":"try an SVC"}` {
		t.Fatalf("gate = %+v", g)
	}

	// A gate nobody waits at (the run's process died) takes no answer.
	run.OpenGate(ctx, store.GateFinal, "done?", nil)
	run.Unlock()
	res, body := post(t, ts.URL+"/api/runs/r1/gates/2", `{"answer":{}}`, good)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "mlrc resume r1") {
		t.Errorf("answer to an interrupted run's gate: %d %s", res.StatusCode, body)
	}
}

func TestFiles(t *testing.T) {
	ctx := context.Background()
	st, runs := testStore(t)
	run, err := st.CreateRun(ctx, store.NewRun{ID: "f", Kind: "research", RunsDir: runs})
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel, text string) {
		p := filepath.Join(run.Dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("plots/metric.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`)
	write("report.html", "<html><body>report</body></html>")
	write("best.diff", "+x = 1\n")
	write("private/labels.csv", "id,label\n")
	write("workspace/data/train.csv", "a,b\n")
	outside := filepath.Join(t.TempDir(), "outside.txt")
	os.WriteFile(outside, []byte("outside"), 0o644)
	os.Symlink(outside, filepath.Join(run.Dir, "link.txt"))
	os.Symlink("/etc", filepath.Join(run.Dir, "etc"))
	_, ts := testServer(t, Options{Store: st})
	base := ts.URL + "/api/runs/f/files/"

	res, body := get(t, nil, base+"plots/metric.svg", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" || !strings.HasPrefix(res.Header.Get("Content-Security-Policy"), "sandbox;") {
		t.Errorf("svg: %d %q csp %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Content-Security-Policy"))
	}
	if res, body = get(t, nil, base+"best.diff", nil); res.StatusCode != 200 || body != "+x = 1\n" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("best.diff: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	for _, rel := range []string{"../mlrc.db", "..%2fmlrc.db", "%2e%2e/mlrc.db", "private/labels.csv", ".lock", "link.txt",
		"etc/passwd", "workspace/data/train.csv", "plots", "nosuch"} {
		res, body := get(t, nil, base+rel, nil)
		if res.StatusCode == 200 || strings.Contains(body, "outside") || strings.Contains(body, "root:") || strings.Contains(body, "label") {
			t.Errorf("%s: served (%d): %.80q", rel, res.StatusCode, body)
		}
	}
	var d detail
	_, body = get(t, nil, ts.URL+"/api/runs/f", nil)
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range d.Files {
		paths = append(paths, f.Path)
	}
	got := strings.Join(paths, " ")
	for _, want := range []string{"best.diff", "report.html", "run.json", "plots/metric.svg"} {
		if !strings.Contains(got, want) {
			t.Errorf("files %s lack %s", got, want)
		}
	}
	for _, not := range []string{"private", ".lock", "data/train.csv"} {
		if strings.Contains(got, not) {
			t.Errorf("files %s list %s", got, not)
		}
	}
	if !d.Report || d.Diff != "+x = 1\n" {
		t.Errorf("detail: report %v, diff %q", d.Report, d.Diff)
	}
}

// Every page and asset is under the strict policy, and the assets name no
// other host: the UI loads nothing from elsewhere.
func TestNoExternalReferences(t *testing.T) {
	st, _ := testStore(t)
	_, ts := testServer(t, Options{Store: st})
	for _, p := range []string{"/", "/runs/x", "/compare", "/static/app.js", "/static/app.css"} {
		res, _ := get(t, nil, ts.URL+p, nil)
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "http") {
			t.Errorf("%s: CSP %q", p, csp)
		}
	}
	url := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	fs.WalkDir(assets, "assets", func(p string, d fs.DirEntry, err error) error {
		if d.IsDir() {
			return nil
		}
		b, _ := assets.ReadFile(p)
		for _, m := range url.FindAllString(string(b), -1) {
			if m != "http://www.w3.org" { // the SVG namespace, an identifier
				t.Errorf("%s names %s", p, m)
			}
		}
		return nil
	})
}

// A secret configured in the environment never reaches a response, even
// when it leaked into a run's files, events or steps.
func TestNoSecretServed(t *testing.T) {
	const key = "sk-test-9f8e7d6c5b4a39281706"
	ctx := context.Background()
	st, runs := testStore(t)
	run, err := st.CreateRun(ctx, store.NewRun{ID: "s", Kind: "research", RunsDir: runs, Config: map[string]any{"note": "key " + key}})
	if err != nil {
		t.Fatal(err)
	}
	run.Emit(ctx, "warning", map[string]string{"message": "provider echoed " + key})
	step, _ := run.BeginStep(ctx, "experiment", "agent", map[string]string{"k": key})
	step.End(ctx, store.StatusDone, map[string]string{"out": key})
	os.WriteFile(filepath.Join(run.Dir, "run.log"), []byte("Authorization: Bearer "+key+"\n"), 0o644)
	os.WriteFile(filepath.Join(run.Dir, "report.html"), []byte("<p>"+key+"</p>"), 0o644)
	run.OpenGate(ctx, store.GateAsk, "is "+key+" right?", nil)

	red := secret.FromEnv(func(k string) string {
		if k == "OPENAI_API_KEY" {
			return key
		}
		return ""
	}, "OPENAI_API_KEY")
	_, ts := testServer(t, Options{Store: st, Redact: red})
	urls := []string{"/", "/runs/s", "/compare?a=s&b=s", "/static/app.js", "/api/runs", "/api/runs/s",
		"/api/runs/s/files/run.log", "/api/runs/s/files/report.html", "/api/runs/s/files/run.json", "/api/runs/s/files/events.jsonl"}
	masked := 0
	for _, u := range urls {
		res, body := get(t, nil, ts.URL+u, nil)
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", u, res.StatusCode)
		}
		if strings.Contains(body, key) {
			t.Errorf("%s serves the key", u)
		}
		masked += strings.Count(body, secret.Mask)
	}
	// The event stream, read until it has sent the run's events.
	ctx2, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx2, "GET", ts.URL+"/api/runs/s/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	var stream strings.Builder
	for sc.Scan() {
		stream.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "event: changed") {
			break
		}
	}
	res.Body.Close()
	if strings.Contains(stream.String(), key) || !strings.Contains(stream.String(), secret.Mask) {
		t.Errorf("event stream: key present or nothing masked:\n%s", stream.String())
	}
	if masked < 5 {
		t.Errorf("%d masks in the responses: the key was not where the test put it", masked)
	}
}

// TestHelperHoldRun is a process working on a run, for TestInterrupted: it
// creates the run, says its id, and waits to be killed.
func TestHelperHoldRun(t *testing.T) {
	db := os.Getenv("MLRC_WEB_HOLD_DB")
	if db == "" {
		t.Skip("helper process for TestInterrupted")
	}
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	run, err := st.CreateRun(context.Background(), store.NewRun{ID: "held", Kind: "experiment", RunsDir: os.Getenv("MLRC_WEB_HOLD_RUNS")})
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout.WriteString("holding " + run.ID + "\n")
	time.Sleep(time.Minute)
}

// Killing a run's process makes it interrupted in the list and, live, on
// its page's event stream.
func TestInterrupted(t *testing.T) {
	st, runs := testStore(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldRun$")
	cmd.Env = append(os.Environ(), "MLRC_WEB_HOLD_DB="+st.Path(), "MLRC_WEB_HOLD_RUNS="+runs)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); !strings.HasPrefix(line, "holding held") {
		t.Fatalf("helper said %q", line)
	}
	_, ts := testServer(t, Options{Store: st})
	status := func() string {
		var rows []runRow
		_, body := get(t, nil, ts.URL+"/api/runs", nil)
		json.Unmarshal([]byte(body), &rows)
		if len(rows) != 1 {
			t.Fatalf("runs: %s", body)
		}
		return rows[0].Status
	}
	if got := status(); got != store.StatusRunning {
		t.Fatalf("status while its process lives = %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/runs/held/events", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	changes := 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "data: {\"gates\"") && !strings.HasPrefix(line, "data: {") {
			continue
		}
		if strings.Contains(line, `"status":"running"`) && changes == 0 {
			changes++
			cmd.Process.Kill() // kill -9: no chance to record anything
			cmd.Wait()
			continue
		}
		if strings.Contains(line, `"status":"interrupted"`) {
			changes++
			break
		}
	}
	if changes != 2 {
		t.Fatalf("the stream did not go from running to interrupted (%d changes seen)", changes)
	}
	if got := status(); got != store.StatusInterrupted {
		t.Fatalf("status after the kill = %s, want interrupted", got)
	}
	var d detail
	_, body := get(t, nil, ts.URL+"/api/runs/held", nil)
	json.Unmarshal([]byte(body), &d)
	if d.Run.Resume != "mlrc resume held" {
		t.Errorf("resume command = %q", d.Run.Resume)
	}
}
