// Package providers turns a model name such as "openai/gpt-4o-mini" into a
// working llm.Provider: it knows which adapter serves each provider, where
// the provider lives and which environment variable holds its key.
//
// The first segment of a model name is the provider, the rest is the model:
// "openrouter/deepseek/deepseek-chat" is model "deepseek/deepseek-chat" at
// OpenRouter.
package providers

import (
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/anthropic"
	"github.com/mlrc/mlrc/llm/openai"
	"github.com/mlrc/mlrc/llm/scripted"
)

// Wire formats an endpoint may speak.
const (
	KindOpenAI    = "openai"    // Chat Completions, and every server compatible with it
	KindAnthropic = "anthropic" // Messages
	KindScripted  = "scripted"  // responses from a file; the model name is the file
	KindReplay    = "replay"    // answers from a recorded run; the model name is the run id
)

// Endpoint says where a provider lives and how to reach it.
type Endpoint struct {
	Kind string `yaml:"kind" json:"kind"`
	// BaseURL is used when BaseURLEnv is unset or empty.
	BaseURL    string `yaml:"base_url" json:"base_url,omitempty"`
	BaseURLEnv string `yaml:"base_url_env" json:"base_url_env,omitempty"`
	// BaseURLSuffix is appended to a URL taken from BaseURLEnv (OLLAMA_HOST
	// names the server; its OpenAI-compatible API is under /v1).
	BaseURLSuffix string `yaml:"base_url_suffix" json:"base_url_suffix,omitempty"`
	APIKeyEnv     string `yaml:"api_key_env" json:"api_key_env,omitempty"`
	// KeyRequired makes a missing key an error before any call is made.
	KeyRequired bool `yaml:"key_required" json:"key_required,omitempty"`
	// JSONSchemaFormat asks for structured output by response_format
	// json_schema rather than a forced tool call: for servers that
	// constrain text to a schema but ignore tool_choice.
	JSONSchemaFormat bool `yaml:"json_schema_format" json:"json_schema_format,omitempty"`
}

// Builtin returns the providers mlrc knows without configuration.
func Builtin() map[string]Endpoint {
	return map[string]Endpoint{
		"openai":     {Kind: KindOpenAI, BaseURL: "https://api.openai.com/v1", BaseURLEnv: "OPENAI_BASE_URL", APIKeyEnv: "OPENAI_API_KEY", KeyRequired: true},
		"anthropic":  {Kind: KindAnthropic, BaseURL: "https://api.anthropic.com", BaseURLEnv: "ANTHROPIC_BASE_URL", APIKeyEnv: "ANTHROPIC_API_KEY", KeyRequired: true},
		"ollama":     {Kind: KindOpenAI, BaseURL: "http://localhost:11434/v1", BaseURLEnv: "OLLAMA_HOST", BaseURLSuffix: "/v1", JSONSchemaFormat: true},
		"openrouter": {Kind: KindOpenAI, BaseURL: "https://openrouter.ai/api/v1", APIKeyEnv: "OPENROUTER_API_KEY", KeyRequired: true},
		"vllm":       {Kind: KindOpenAI, BaseURL: "http://localhost:8000/v1", BaseURLEnv: "VLLM_BASE_URL", APIKeyEnv: "VLLM_API_KEY"},
		"llamacpp":   {Kind: KindOpenAI, BaseURL: "http://localhost:8080/v1", BaseURLEnv: "LLAMACPP_BASE_URL", JSONSchemaFormat: true},
		"lmstudio":   {Kind: KindOpenAI, BaseURL: "http://localhost:1234/v1", BaseURLEnv: "LMSTUDIO_BASE_URL", JSONSchemaFormat: true},
		"scripted":   {Kind: KindScripted},
		"replay":     {Kind: KindReplay},
	}
}

// KeyVars lists the environment variables that hold secrets for endpoints,
// so that they can be kept out of logs, the store and sandboxes.
func KeyVars(endpoints map[string]Endpoint) []string {
	seen := map[string]bool{}
	var vars []string
	for _, e := range endpoints {
		if e.APIKeyEnv != "" && !seen[e.APIKeyEnv] {
			seen[e.APIKeyEnv] = true
			vars = append(vars, e.APIKeyEnv)
		}
	}
	sort.Strings(vars)
	return vars
}

// Parse splits "provider/model".
func Parse(name string) (provider, model string, err error) {
	provider, model, ok := strings.Cut(strings.TrimSpace(name), "/")
	if !ok || provider == "" || model == "" {
		return "", "", fmt.Errorf("model %q is not of the form provider/model (e.g. openai/gpt-4o-mini, anthropic/claude-sonnet-4-5, ollama/qwen2.5-coder:7b)", name)
	}
	return provider, model, nil
}

// Options configure Open.
type Options struct {
	// Getenv reads the environment; nil means no environment.
	Getenv func(string) string
	// Endpoints adds providers or replaces built-in ones (from config).
	Endpoints map[string]Endpoint
	// HTTPClient is used by HTTP adapters; nil means their default.
	HTTPClient *http.Client
	// Replay opens the recorded calls of a run, for the replay provider.
	Replay func(runID string) (llm.Provider, error)
}

// Target is where a model name leads: the endpoint's wire format, its base
// URL, its key and the model's own name.
type Target struct {
	Provider, Model string
	Kind            string
	BaseURL, APIKey string
	// JSONSchemaFormat is the endpoint's (see Endpoint).
	JSONSchemaFormat bool
}

// Resolve finds where name leads without opening an adapter: for clients
// of other endpoints of the same provider, such as /v1/embeddings.
func Resolve(name string, opt Options) (Target, error) {
	provider, model, err := Parse(name)
	if err != nil {
		return Target{}, err
	}
	eps := Builtin()
	for k, v := range opt.Endpoints {
		eps[k] = v
	}
	ep, ok := eps[provider]
	if !ok {
		return Target{}, fmt.Errorf("unknown provider %q in model %q: use one of %s, or add it under providers: in mlrc.yaml", provider, name, strings.Join(names(eps), ", "))
	}
	getenv := opt.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	t := Target{Provider: provider, Model: model, Kind: ep.Kind, BaseURL: ep.BaseURL, JSONSchemaFormat: ep.JSONSchemaFormat}
	fromEnv := false
	if ep.BaseURLEnv != "" {
		if v := strings.TrimSpace(getenv(ep.BaseURLEnv)); v != "" {
			t.BaseURL = strings.TrimRight(normalizeHost(v), "/") + ep.BaseURLSuffix
			fromEnv = true
		}
	}
	if ep.APIKeyEnv != "" {
		t.APIKey = strings.TrimSpace(getenv(ep.APIKeyEnv))
	}
	// A key is required by the vendor's own service; a base URL pointing
	// elsewhere (a local server) may need none.
	if ep.KeyRequired && t.APIKey == "" && !fromEnv {
		return t, fmt.Errorf("model %s needs an API key: export %s=... (or point %s at a compatible server, or choose a local model such as ollama/qwen2.5-coder:7b)", name, ep.APIKeyEnv, orName(ep.BaseURLEnv, "base_url"))
	}
	return t, nil
}

// Open returns the bare adapter for a model name: no retries, metering or
// recording (see llm.Retry, llm.Meter, llm.Record). The model part of the
// name is what requests must carry in Request.Model.
func Open(name string, opt Options) (llm.Provider, error) {
	t, err := Resolve(name, opt)
	if err != nil {
		return nil, err
	}
	switch t.Kind {
	case KindOpenAI:
		return openai.New(openai.Config{Provider: t.Provider, BaseURL: t.BaseURL, APIKey: t.APIKey, HTTPClient: opt.HTTPClient, JSONSchemaFormat: t.JSONSchemaFormat}), nil
	case KindAnthropic:
		return anthropic.New(anthropic.Config{Provider: t.Provider, BaseURL: t.BaseURL, APIKey: t.APIKey, HTTPClient: opt.HTTPClient}), nil
	case KindScripted:
		return scripted.Load(t.Model)
	case KindReplay:
		if opt.Replay == nil {
			return nil, fmt.Errorf("model %s: replay needs the run store", name)
		}
		return opt.Replay(t.Model)
	}
	return nil, fmt.Errorf("provider %q: unknown kind %q (want openai or anthropic)", t.Provider, t.Kind)
}

// normalizeHost accepts OLLAMA_HOST's forms: "host:port", "0.0.0.0", a URL.
func normalizeHost(v string) string {
	if strings.Contains(v, "://") {
		return v
	}
	if !strings.Contains(v, ":") {
		v += ":11434"
	}
	if strings.HasPrefix(v, "0.0.0.0") {
		v = "127.0.0.1" + strings.TrimPrefix(v, "0.0.0.0")
	}
	return "http://" + v
}

func orName(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func names(m map[string]Endpoint) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
