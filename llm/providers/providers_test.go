package providers

import (
	"context"
	"strings"
	"testing"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/fakeserver"
)

func TestParse(t *testing.T) {
	tests := []struct{ in, provider, model string }{
		{"openai/gpt-4o-mini", "openai", "gpt-4o-mini"},
		{"ollama/qwen2.5-coder:7b", "ollama", "qwen2.5-coder:7b"},
		{"openrouter/deepseek/deepseek-chat", "openrouter", "deepseek/deepseek-chat"},
	}
	for _, tt := range tests {
		p, m, err := Parse(tt.in)
		if err != nil || p != tt.provider || m != tt.model {
			t.Errorf("Parse(%q) = %q, %q, %v", tt.in, p, m, err)
		}
	}
	for _, bad := range []string{"gpt-4o", "/x", "openai/", ""} {
		if _, _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) succeeded", bad)
		}
	}
}

// Each provider reaches the server its variables point at, on the right path.
func TestOpenReachesConfiguredServer(t *testing.T) {
	srv := fakeserver.New(fakeserver.Text("a"))
	srv.Repeat = true
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	tests := []struct {
		model string
		env   map[string]string
		eps   map[string]Endpoint
		path  string
	}{
		{"openai/m", map[string]string{"OPENAI_BASE_URL": srv.URL + "/v1", "OPENAI_API_KEY": "k"}, nil, "/v1/chat/completions"},
		{"ollama/m", map[string]string{"OLLAMA_HOST": host}, nil, "/v1/chat/completions"},
		{"ollama/m", map[string]string{"OLLAMA_HOST": srv.URL}, nil, "/v1/chat/completions"},
		{"anthropic/m", map[string]string{"ANTHROPIC_BASE_URL": srv.URL, "ANTHROPIC_API_KEY": "k"}, nil, "/v1/messages"},
		{"vllm/Qwen/Qwen2.5-7B", map[string]string{"VLLM_BASE_URL": srv.URL + "/v1"}, nil, "/v1/chat/completions"},
		{"lab/m", map[string]string{"LAB_KEY": "k"}, map[string]Endpoint{"lab": {Kind: KindOpenAI, BaseURL: srv.URL + "/api/v1", APIKeyEnv: "LAB_KEY"}}, "/api/v1/chat/completions"},
	}
	for _, tt := range tests {
		before := len(srv.Requests())
		p, err := Open(tt.model, Options{Getenv: func(k string) string { return tt.env[k] }, Endpoints: tt.eps})
		if err != nil {
			t.Fatalf("%s: %v", tt.model, err)
		}
		_, model, _ := Parse(tt.model)
		if _, err := p.Complete(context.Background(), &llm.Request{Model: model, Messages: []llm.Message{llm.UserText("x")}}); err != nil {
			t.Fatalf("%s: %v", tt.model, err)
		}
		reqs := srv.Requests()
		if len(reqs) != before+1 || reqs[before].Path != tt.path || reqs[before].Body["model"] != model {
			t.Errorf("%s: server saw %+v, want one request to %s for %s", tt.model, reqs[before:], tt.path, model)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		model string
		want  string
	}{
		{"openai/gpt-4o-mini", "export OPENAI_API_KEY="},
		{"anthropic/claude-sonnet-4-5", "export ANTHROPIC_API_KEY="},
		{"openrouter/x/y", "export OPENROUTER_API_KEY="},
		{"nosuch/m", `unknown provider "nosuch"`},
		{"scripted/does/not/exist.yaml", "no such file"},
		{"replay/20260101-000000-abcdef", "replay needs the run store"},
	}
	for _, tt := range tests {
		_, err := Open(tt.model, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) error = %v, want %q", tt.model, err, tt.want)
		}
	}
}

func TestKeyVars(t *testing.T) {
	got := strings.Join(KeyVars(Builtin()), ",")
	for _, v := range []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENROUTER_API_KEY"} {
		if !strings.Contains(got, v) {
			t.Errorf("KeyVars lacks %s: %s", v, got)
		}
	}
}
