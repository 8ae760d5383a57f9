package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/mlrc/mlrc/llm"
	"github.com/mlrc/mlrc/llm/providers"
	"github.com/mlrc/mlrc/llm/replay"
	"github.com/mlrc/mlrc/store"
)

// errNoModel is returned when nothing names a model and none can be found.
var errNoModel = errors.New(`no model is configured. Point mlrc at one of:
  - OpenAI:      export OPENAI_API_KEY=...      (model openai/gpt-4o-mini by default)
  - Anthropic:   export ANTHROPIC_API_KEY=...   (model anthropic/claude-sonnet-4-5 by default)
  - OpenRouter:  export OPENROUTER_API_KEY=...  and MLRC_MODEL=openrouter/deepseek/deepseek-chat
  - Ollama:      run "ollama serve" and "ollama pull qwen2.5-coder:7b", then export MLRC_MODEL=ollama/qwen2.5-coder:7b
  - any OpenAI-compatible server: export OPENAI_BASE_URL=http://host:port/v1 MLRC_MODEL=openai/<model>
or pass --model provider/model. Check the result with "mlrc doctor"`)

// modelName decides which model to use: the configured one, else one whose
// key is present, else a model that a local Ollama has pulled.
func (a *app) modelName(ctx context.Context) (string, error) {
	if a.cfg.Model != "" {
		return a.cfg.Model, nil
	}
	getenv := a.env.Getenv
	switch {
	case getenv("ANTHROPIC_API_KEY") != "":
		return "anthropic/claude-sonnet-4-5", nil
	case getenv("OPENAI_API_KEY") != "":
		return "openai/gpt-4o-mini", nil
	case getenv("OPENROUTER_API_KEY") != "":
		return "openrouter/deepseek/deepseek-chat", nil
	}
	if m := ollamaModel(ctx, getenv("OLLAMA_HOST")); m != "" {
		return "ollama/" + m, nil
	}
	return "", errNoModel
}

// ollamaModel asks a local Ollama, briefly, which models it has.
func ollamaModel(ctx context.Context, host string) string {
	base := "http://localhost:11434"
	if host != "" {
		base = strings.TrimSuffix(host, "/")
		if !strings.Contains(base, "://") {
			base = "http://" + base
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/tags", nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var tags struct {
		Models []struct {
			Name string `json:"name"`
		} `json:"models"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tags) != nil || len(tags.Models) == 0 {
		return ""
	}
	return tags.Models[0].Name
}

// backend opens the bare adapter for a model name. A scripted model is
// opened once per process (app.scripts).
func (a *app) backend(name string, st *store.Store) (llm.Provider, error) {
	if p, ok := a.scripts[name]; ok {
		return p, nil
	}
	p, err := a.open(name, st)
	if err == nil && strings.HasPrefix(name, "scripted/") {
		if a.scripts == nil {
			a.scripts = map[string]llm.Provider{}
		}
		a.scripts[name] = p
	}
	return p, err
}

func (a *app) open(name string, st *store.Store) (llm.Provider, error) {
	return providers.Open(name, providers.Options{
		Getenv:    a.env.Getenv,
		Endpoints: a.cfg.Providers,
		Replay: func(runID string) (llm.Provider, error) {
			if st == nil {
				return nil, fmt.Errorf("replay/%s: no run store is open", runID)
			}
			run, err := st.Run(context.Background(), runID)
			if err != nil {
				return nil, err
			}
			calls, err := run.Calls(context.Background())
			if err != nil {
				return nil, err
			}
			return replay.New(calls), nil
		},
	})
}

// model returns the named model dressed for a run: retried, metered against
// the budget, and recorded into rec (with secrets masked).
func (a *app) model(name string, st *store.Store, meter *llm.Meter, rec llm.Recorder) (llm.Provider, error) {
	backend, err := a.backend(name, st)
	if err != nil {
		return nil, err
	}
	return a.dress(name, backend, meter, rec), nil
}

// dress puts the named model's backend behind the run's middleware, as
// model does. One backend dressed for several recorders keeps one state (a
// replay's position, an HTTP client).
func (a *app) dress(name string, backend llm.Provider, meter *llm.Meter, rec llm.Recorder) llm.Provider {
	provider, model, _ := providers.Parse(name)
	pol := a.cfg.RetryPolicy()
	pol.OnRetry = func(attempt int, delay time.Duration, err error) {
		a.log.Warn("model call failed; retrying", "model", name, "attempt", attempt, "wait", delay.Round(time.Millisecond).String(), "err", err)
	}
	stack := llm.Stack{Provider: provider, Model: model, Retry: pol, Meter: meter}
	if rec != nil {
		stack.Recorder = redactingRecorder{next: rec, a: a}
	}
	return stack.Wrap(backend)
}

func (a *app) meter() *llm.Meter {
	return llm.NewMeter(llm.DefaultPrices().With(a.cfg.Prices), a.cfg.Budget)
}

// redactingRecorder masks secrets in a call before it is stored: a provider
// may echo a key in an error message.
type redactingRecorder struct {
	next llm.Recorder
	a    *app
}

func (r redactingRecorder) RecordCall(ctx context.Context, c llm.Call) error {
	c.Request = r.a.redact.Bytes(c.Request)
	c.Response = r.a.redact.Bytes(c.Response)
	c.Error = r.a.redact.String(c.Error)
	return r.next.RecordCall(ctx, c)
}
