package cli

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs mlrc serve until the test ends and returns what it
// printed once it listens, and the port.
func startServe(t *testing.T, env map[string]string, addr string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"--runs-dir", t.TempDir(), "serve", "--addr", addr},
			Env{Stdin: strings.NewReader(""), Stdout: out, Stderr: out, Getenv: func(k string) string { return env[k] }})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("mlrc serve exited %d:\n%s", code, out.String())
		}
	})
	port := regexp.MustCompile(`mlrc serve: http://(?:\[[^\]]*\]|[^:/]+):(\d+)/`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := port.FindStringSubmatch(out.String()); m != nil && strings.Contains(out.String(), "Ctrl-C stops") {
			return out.String(), m[1]
		}
	}
	t.Fatalf("mlrc serve did not start:\n%s", out.String())
	return "", ""
}

func status(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestServe(t *testing.T) {
	out, port := startServe(t, nil, "127.0.0.1:0")
	if strings.Contains(out, "token") {
		t.Errorf("a loopback server printed a token:\n%s", out)
	}
	if got := status(t, "http://127.0.0.1:"+port+"/api/runs", ""); got != 200 {
		t.Errorf("GET /api/runs: %d", got)
	}

	// Beyond loopback: a token generated and printed once.
	out, port = startServe(t, nil, "0.0.0.0:0")
	m := regexp.MustCompile(`\?token=([0-9a-f]{32})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no generated token printed:\n%s", out)
	}
	url := "http://127.0.0.1:" + port + "/api/runs"
	if got := status(t, url, ""); got != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", got)
	}
	if got := status(t, url, m[1]); got != 200 {
		t.Errorf("with the token: %d", got)
	}

	// From the environment: used, and not printed.
	out, port = startServe(t, map[string]string{"MLRC_SERVE_TOKEN": "from-the-env-7f3a"}, "0.0.0.0:0")
	if strings.Contains(out, "from-the-env-7f3a") {
		t.Errorf("the token from the environment was printed:\n%s", out)
	}
	if got := status(t, "http://127.0.0.1:"+port+"/api/runs", "from-the-env-7f3a"); got != 200 {
		t.Errorf("with the environment's token: %d", got)
	}

	if r := run(t, nil, "--runs-dir", t.TempDir(), "serve", "--addr", "8765"); r.code != 2 || !strings.Contains(r.stderr, "host:port") {
		t.Errorf("--addr 8765: exit %d, %s", r.code, r.stderr)
	}
}
