package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func write(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "mlrc.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLayers(t *testing.T) {
	p := write(t, `
model: openai/gpt-4o
runs_dir: /tmp/file-runs
llm:
  timeout: 90s
  attempts: 3
budget:
  tokens: 1000
prices:
  openai/custom: {input: 1, output: 2}
providers:
  lab: {kind: openai, base_url: "http://gpu:8000/v1", api_key_env: LAB_KEY}
`)
	cfg, err := Load(p, env(map[string]string{"MLRC_MODEL": "anthropic/claude-haiku-4-5", "MLRC_BUDGET_DOLLARS": "2.5"}))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"env beats file", cfg.Model, "anthropic/claude-haiku-4-5"},
		{"file beats default", cfg.RunsDir, "/tmp/file-runs"},
		{"duration", cfg.LLM.Timeout, 90 * time.Second},
		{"attempts", cfg.LLM.Attempts, 3},
		{"default kept", cfg.Python, "/usr/bin/python3"},
		{"default kept in a set section", cfg.LLM.MaxTokens, 4096},
		{"budget tokens from file", cfg.Budget.Tokens, int64(1000)},
		{"budget dollars from env", cfg.Budget.Dollars, 2.5},
		{"price", cfg.Prices["openai/custom"].Output, 2.0},
		{"provider", cfg.Endpoints()["lab"].BaseURL, "http://gpu:8000/v1"},
		{"builtin provider kept", cfg.Endpoints()["openai"].APIKeyEnv, "OPENAI_API_KEY"},
		{"store default", cfg.StorePath(), "/tmp/file-runs/mlrc.db"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		want []string
	}{
		{"unknown top key", "modle: x/y\n", nil, []string{`"modle"`, "line 1", "mlrc.yaml"}},
		{"unknown nested key", "llm:\n  timout: 5s\n", nil, []string{`"timout"`, "line 2"}},
		{"bad duration", "llm:\n  timeout: soon\n", nil, []string{"mlrc.yaml", "soon"}},
		{"bad model", "model: gpt-4o\n", nil, []string{"provider/model"}},
		{"bad level", "log: {level: loud}\n", nil, []string{"log.level", "loud"}},
		{"bad provider kind", "providers: {x: {kind: grpc}}\n", nil, []string{"providers.x.kind"}},
		{"bad env budget", "", map[string]string{"MLRC_BUDGET_TOKENS": "lots"}, []string{"MLRC_BUDGET_TOKENS", "lots"}},
		{"zero attempts", "llm: {attempts: 0}\n", nil, []string{"llm.attempts"}},
		{"tiny context window", "llm: {context_window: 512}\n", nil, []string{"llm.context_window", "512"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(write(t, tt.file), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestMissingExplicitFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}

func TestDefaultFileInWorkingDir(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, DefaultFile), []byte("python: /opt/py\n"), 0o644)
	cfg, err := Load("", nil)
	if err != nil || cfg.Python != "/opt/py" {
		t.Fatalf("cfg.Python = %q, err %v", cfg.Python, err)
	}
}
