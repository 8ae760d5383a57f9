package cli

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlrc/mlrc/llm/fakeserver"
)

// result is what one invocation of mlrc did.
type result struct {
	code           int
	stdout, stderr string
}

// run invokes the command line in-process with exactly the environment env
// (nothing is read from the test's own environment) and a fresh runs dir
// unless args name one.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if _, ok := env["OLLAMA_HOST"]; !ok {
		env["OLLAMA_HOST"] = closedAddr(t) // never find a real local Ollama
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
	})
	return result{code, stdout.String(), stderr.String()}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestVersion(t *testing.T) {
	r := run(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "mlrc ") || !strings.Contains(r.stdout, "commit ") {
		t.Fatalf("version: code %d, stdout %q", r.code, r.stdout)
	}
}

func TestHelpListsCommands(t *testing.T) {
	r := run(t, nil, "--help")
	for _, c := range []string{"llm", "runs", "doctor", "version"} {
		if !strings.Contains(r.stdout, "  "+c+" ") {
			t.Errorf("help does not list %q:\n%s", c, r.stdout)
		}
	}
}

func TestLLMProviders(t *testing.T) {
	tests := []struct {
		name  string
		model string
		env   func(url string) map[string]string
		path  string
		flags []string
	}{
		{"openai streaming", "openai/any", func(u string) map[string]string {
			return map[string]string{"OPENAI_BASE_URL": u + "/v1", "OPENAI_API_KEY": "x"}
		}, "/v1/chat/completions", nil},
		{"openai whole", "openai/any", func(u string) map[string]string {
			return map[string]string{"OPENAI_BASE_URL": u + "/v1", "OPENAI_API_KEY": "x"}
		}, "/v1/chat/completions", []string{"--no-stream"}},
		{"anthropic streaming", "anthropic/any", func(u string) map[string]string {
			return map[string]string{"ANTHROPIC_BASE_URL": u, "ANTHROPIC_API_KEY": "x"}
		}, "/v1/messages", nil},
		{"anthropic whole", "anthropic/any", func(u string) map[string]string {
			return map[string]string{"ANTHROPIC_BASE_URL": u, "ANTHROPIC_API_KEY": "x"}
		}, "/v1/messages", []string{"--no-stream"}},
		{"ollama", "ollama/qwen2.5-coder:7b", func(u string) map[string]string {
			return map[string]string{"OLLAMA_HOST": u}
		}, "/v1/chat/completions", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeserver.New(fakeserver.Text("Hello from the fake server."))
			defer srv.Close()
			dir := t.TempDir()
			args := append([]string{"llm", "--runs-dir", dir, "--model", tt.model}, tt.flags...)
			r := run(t, tt.env(srv.URL), append(args, "hi")...)
			if r.code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
			}
			if got, want := r.stdout, "Hello from the fake server.\n"; got != want {
				t.Errorf("stdout = %q, want %q", got, want)
			}
			reqs := srv.Requests()
			if len(reqs) != 1 || reqs[0].Path != tt.path {
				t.Fatalf("server saw %d requests (%v), want 1 to %s", len(reqs), reqs, tt.path)
			}
			_, model, _ := strings.Cut(tt.model, "/")
			if got := reqs[0].Body["model"]; got != model {
				t.Errorf("model sent = %v, want %s", got, model)
			}
			if !strings.Contains(string(reqs[0].Raw), `"hi"`) {
				t.Errorf("prompt not sent: %s", reqs[0].Raw)
			}
			// No price is known for model "any": the cost says so.
			if tt.model == "openai/any" && !strings.Contains(r.stderr, "cost unknown") {
				t.Errorf("stderr does not say the price is unknown:\n%s", r.stderr)
			}
			// The call is a run in the store.
			show := run(t, nil, "runs", "--runs-dir", dir)
			if show.code != 0 || !strings.Contains(show.stdout, " llm ") || !strings.Contains(show.stdout, " done ") {
				t.Errorf("runs:\n%s%s", show.stdout, show.stderr)
			}
		})
	}
}

func TestLLMRetriesRateLimit(t *testing.T) {
	limited := fakeserver.Error(429, "Rate limit reached", map[string]string{"Retry-After": "1"})
	srv := fakeserver.New(limited, limited, fakeserver.Text("finally"))
	defer srv.Close()
	start := time.Now()
	r := run(t, map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"},
		"llm", "--runs-dir", t.TempDir(), "--model", "openai/any", "hi")
	if r.code != 0 || r.stdout != "finally\n" {
		t.Fatalf("exit %d stdout %q stderr %s", r.code, r.stdout, r.stderr)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("requests = %d, want 3", n)
	}
	if el := time.Since(start); el < 2*time.Second {
		t.Errorf("took %v: Retry-After: 1 twice should wait 2s", el)
	}
}

func TestLLMFailures(t *testing.T) {
	tests := []struct {
		name  string
		reply fakeserver.Reply
		model string
		want  []string
	}{
		{"openai 401", fakeserver.Error(401, "Incorrect API key provided", nil), "openai/any", []string{"openai", "401", "Incorrect API key provided"}},
		{"anthropic 401", fakeserver.Error(401, "invalid x-api-key", nil), "anthropic/any", []string{"anthropic", "401", "invalid x-api-key"}},
		{"openai 400", fakeserver.Error(400, "bad request body", nil), "openai/any", []string{"openai", "400", "bad request body"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeserver.New(tt.reply)
			defer srv.Close()
			env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x", "ANTHROPIC_BASE_URL": srv.URL, "ANTHROPIC_API_KEY": "x"}
			dir := t.TempDir()
			r := run(t, env, "llm", "--runs-dir", dir, "--model", tt.model, "hi")
			if r.code == 0 {
				t.Fatalf("exit 0, want failure; stdout %q", r.stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not name %q:\n%s", w, r.stderr)
				}
			}
			if n := len(srv.Requests()); n != 1 {
				t.Errorf("requests = %d, want 1 (not retried)", n)
			}
			show := run(t, nil, "runs", "--runs-dir", dir)
			if !strings.Contains(show.stdout, " failed ") {
				t.Errorf("run not recorded as failed:\n%s", show.stdout)
			}
		})
	}
}

func TestLLMWithoutModelSaysWhatToDo(t *testing.T) {
	r := run(t, nil, "llm", "--runs-dir", t.TempDir(), "hi")
	if r.code == 0 {
		t.Fatal("exit 0 without a model")
	}
	for _, w := range []string{"no model is configured", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ollama", "--model"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
		}
	}
}

func TestLLMMissingKey(t *testing.T) {
	dir := t.TempDir()
	r := run(t, nil, "llm", "--runs-dir", dir, "--model", "anthropic/claude-sonnet-4-5", "hi")
	if r.code != 2 || !strings.Contains(r.stderr, "export ANTHROPIC_API_KEY=") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
	if show := run(t, nil, "runs", "--runs-dir", dir); !strings.Contains(show.stdout, "no runs") {
		t.Errorf("a run was created for a call that could not be made:\n%s", show.stdout)
	}
}

func TestLLMBadModelName(t *testing.T) {
	r := run(t, nil, "llm", "--runs-dir", t.TempDir(), "--model", "gpt-4o", "hi")
	if r.code != 2 || !strings.Contains(r.stderr, "provider/model") {
		t.Fatalf("exit %d, stderr %s", r.code, r.stderr)
	}
}

func TestConfigUnknownKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "custom.yaml")
	os.WriteFile(cfg, []byte("model: openai/x\nbudgett:\n  tokens: 5\n"), 0o644)
	r := run(t, nil, "--config", cfg, "runs", "--runs-dir", dir)
	if r.code == 0 || !strings.Contains(r.stderr, `"budgett"`) || !strings.Contains(r.stderr, cfg) {
		t.Fatalf("exit %d, stderr %s; want an error naming the key and the file", r.code, r.stderr)
	}
}

func TestRunsShow(t *testing.T) {
	srv := fakeserver.New(fakeserver.Text("forty-two"))
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	if r := run(t, env, "llm", "--runs-dir", dir, "--model", "openai/gpt-4o-mini", "--no-stream", "answer?"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	list := run(t, nil, "runs", "--runs-dir", dir)
	lines := strings.Split(strings.TrimSpace(list.stdout), "\n")
	if len(lines) != 2 {
		t.Fatalf("runs printed:\n%s", list.stdout)
	}
	id := strings.Fields(lines[1])[0]
	r := run(t, nil, "runs", "show", id[:10], "--runs-dir", dir)
	if r.code != 0 {
		t.Fatalf("show: %s", r.stderr)
	}
	// The fake server reports 10 prompt tokens and len/4+1 completion tokens.
	for _, w := range []string{"run      " + id, "status   done", "model    openai/gpt-4o-mini", "calls    1 (0 failed)", "tokens   10 in, 3 out", "completion", "cost     $0.0000"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("show lacks %q:\n%s", w, r.stdout)
		}
	}
	if r := run(t, nil, "runs", "show", "nonexistent", "--runs-dir", dir); r.code == 0 || !strings.Contains(r.stderr, "nonexistent") {
		t.Errorf("show of a missing run: exit %d, %s", r.code, r.stderr)
	}
}

// A recorded run answers again through replay/RUN with no model at all.
func TestLLMReplay(t *testing.T) {
	srv := fakeserver.New(fakeserver.Text("recorded answer"))
	defer srv.Close()
	dir := t.TempDir()
	env := map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "x"}
	if r := run(t, env, "llm", "--runs-dir", dir, "--model", "openai/gpt-4o-mini", "--system", "be brief", "what?"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	list := run(t, nil, "runs", "--runs-dir", dir)
	id := strings.Fields(strings.Split(strings.TrimSpace(list.stdout), "\n")[1])[0]
	srv.Close()

	r := run(t, nil, "llm", "--runs-dir", dir, "--model", "replay/"+id, "--system", "be brief", "what?")
	if r.code != 0 || r.stdout != "recorded answer\n" {
		t.Fatalf("replay: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "llm", "--runs-dir", dir, "--model", "replay/"+id, "something else")
	if r.code == 0 || !strings.Contains(r.stderr, "diverged") {
		t.Fatalf("replay of an unrecorded prompt: exit %d, stderr %s", r.code, r.stderr)
	}
}
