// Package openai adapts the OpenAI Chat Completions wire format to mlrc's
// provider-neutral llm types. It serves OpenAI itself and any server that
// speaks the same format at another base URL: Ollama (http://localhost:11434/v1),
// vLLM, the llama.cpp server, LM Studio, OpenRouter.
//
// The adapter uses github.com/openai/openai-go/v3 to build and send requests
// but reads response bodies itself, so that it can tell a malformed body from
// a dropped connection and a finished stream from a cut one. Retries are left
// to llm.Retry: the SDK's own retries are switched off.
package openai

import (
	"context"
	"mime"
	"net/http"
	"net/url"

	"github.com/mlrc/mlrc/llm"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// DefaultBaseURL is OpenAI's own endpoint, used when Config.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// placeholderKey is sent when no API key is configured: local servers ignore
// it, and some clients and proxies insist on an Authorization header.
const placeholderKey = "no-key"

// Config says where and how to reach an OpenAI-compatible server.
type Config struct {
	// Provider names the server in errors: "openai", "ollama", "openrouter".
	Provider string
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or
	// "http://127.0.0.1:11434/v1"; empty means DefaultBaseURL.
	BaseURL string
	// APIKey may be empty for local servers.
	APIKey string
	// HTTPClient is optional; nil means http.DefaultClient.
	HTTPClient *http.Client
	// Headers are extra request headers (OpenRouter wants HTTP-Referer and
	// X-Title).
	Headers map[string]string
	// JSONSchemaFormat asks for structured output (a forced strict tool,
	// see llm.CompleteJSON) by response_format json_schema instead: for
	// servers that constrain text to a schema but ignore tool_choice, such
	// as Ollama, llama.cpp and LM Studio.
	JSONSchemaFormat bool
}

// Client talks to one OpenAI-compatible server. It implements llm.Provider
// and is safe for concurrent use.
type Client struct {
	provider string
	apiKey   string
	chat     openai.ChatCompletionService
	// wire holds what differs by server: OpenAI's reasoning models reject
	// max_tokens while many compatible servers know only it; OpenAI's
	// strict mode rejects some schema keywords; some local servers
	// constrain output only through response_format.
	wire wireOptions
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	if cfg.Provider == "" {
		cfg.Provider = "openai"
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = DefaultBaseURL
	}
	key := cfg.APIKey
	if key == "" {
		key = placeholderKey
	}
	// NewChatCompletionService, unlike openai.NewClient, reads nothing from
	// the environment (OPENAI_BASE_URL, OPENAI_ORG_ID, …), so a key or an
	// organisation meant for OpenAI never reaches another server.
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	for k, v := range cfg.Headers {
		opts = append(opts, option.WithHeader(k, v))
	}
	u, err := url.Parse(cfg.BaseURL)
	own := err == nil && u.Hostname() == "api.openai.com"
	return &Client{
		provider: cfg.Provider,
		apiKey:   cfg.APIKey,
		chat:     openai.NewChatCompletionService(opts...),
		wire:     wireOptions{completionTokens: own, strictSubset: own, jsonSchemaFormat: cfg.JSONSchemaFormat},
	}
}

// Complete sends req and returns the model's answer. With req.Stream set it
// streams, reporting each fragment, and still returns the whole answer.
// Every failure is an *llm.APIError.
func (c *Client) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	params, err := toParams(req, c.wire)
	if err != nil {
		e := c.newError(req, err)
		e.Message = "invalid request: " + err.Error()
		return nil, e
	}
	var raw *http.Response
	opts := []option.RequestOption{option.WithResponseBodyInto(&raw)}
	if req.Stream != nil {
		opts = append(opts, option.WithJSONSet("stream", true))
	}
	// With WithResponseBodyInto the SDK hands over the response unread; raw is
	// set even when err reports an HTTP error status.
	if _, err := c.chat.New(ctx, params, opts...); err != nil {
		return nil, c.requestError(ctx, req, raw, err)
	}
	defer raw.Body.Close()

	var resp *llm.Response
	switch {
	case req.Stream == nil:
		resp, err = c.readCompletion(ctx, req, raw.Body)
	case isJSON(raw.Header.Get("Content-Type")):
		// A server that ignores "stream": true answers in one piece.
		resp, err = c.readCompletion(ctx, req, raw.Body)
		if err == nil {
			replay(resp, req.Stream)
		}
	default:
		resp, err = c.readStream(ctx, req, raw)
	}
	if err != nil {
		return nil, err
	}
	if resp.Model == "" {
		resp.Model = req.Model
	}
	return resp, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
