// Package anthropic is mlrc's adapter for the Anthropic Messages API. It
// implements llm.Provider on top of the official Go SDK, which supplies the
// transport, the wire types and the SSE decoder; converters between the
// neutral llm types and the wire live in convert.go, streaming in stream.go.
//
// The adapter makes one attempt per call (llm.Retry does the retrying), lets
// the caller's context bound the time, and reads nothing from the
// environment: the base URL and key come from Config only.
package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mlrc/mlrc/llm"
)

// Config says where and how to reach the API.
type Config struct {
	// Provider names the provider in errors; "anthropic" when empty.
	Provider string
	// BaseURL is the API's root, without /v1, like ANTHROPIC_BASE_URL:
	// "https://api.anthropic.com" (the default) or a local proxy.
	BaseURL string
	// APIKey is sent as x-api-key; no key header is sent when it is empty.
	APIKey string
	// HTTPClient is used for every call; http.DefaultClient when nil.
	HTTPClient *http.Client
}

// Client calls the Messages API. It is safe for concurrent use.
type Client struct {
	provider string
	api      sdk.Client
}

// New returns a client for cfg.
func New(cfg Config) *Client {
	provider := cfg.Provider
	if provider == "" {
		provider = "anthropic"
	}
	opts := []option.RequestOption{
		// Without this the SDK reads ANTHROPIC_API_KEY, ANTHROPIC_AUTH_TOKEN,
		// ANTHROPIC_BASE_URL, ANTHROPIC_CUSTOM_HEADERS, profiles on disk and
		// federation settings, any of which could override cfg.
		option.WithoutEnvironmentDefaults(),
		option.WithMaxRetries(0),
		// No spans: they may carry prompt content and nothing here collects them.
		option.WithoutOpenTelemetry(),
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.APIKey != "" {
		// Set the header directly: the SDK's WithAPIKey sends the key as an
		// Authorization bearer token, not as x-api-key.
		opts = append(opts, option.WithHeader("x-api-key", cfg.APIKey))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &Client{provider: provider, api: sdk.NewClient(opts...)}
}

// Complete sends req and returns the model's reply. When req.Stream is set it
// streams, reporting fragments as they arrive. Every failure is an
// *llm.APIError.
func (c *Client) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	params, err := toParams(req)
	if err != nil {
		return nil, c.invalidRequest(req, err)
	}
	if req.Stream != nil {
		return c.stream(ctx, req, params)
	}
	return c.complete(ctx, req, params)
}

// complete makes one non-streaming call. It posts through the client rather
// than Messages.New, which adds its own 10-minute timeout and refuses large
// max_tokens without streaming; here the caller's context bounds the time.
func (c *Client) complete(ctx context.Context, req *llm.Request, params sdk.MessageNewParams) (*llm.Response, error) {
	var body []byte
	if err := c.api.Post(ctx, "v1/messages", params, &body); err != nil {
		return nil, c.wrapError(ctx, req, err)
	}
	msg, err := decodeMessage(body)
	if err != nil {
		return nil, c.malformed(req, err)
	}
	resp, err := fromMessage(msg)
	if err != nil {
		return nil, c.malformed(req, err)
	}
	return resp, nil
}

// decodeMessage decodes a response body. The SDK's decoder accepts nearly
// anything, so the body's shape is checked strictly first.
func decodeMessage(body []byte) (*sdk.Message, error) {
	var shape struct {
		Type    string            `json:"type"`
		Content []json.RawMessage `json:"content"`
	}
	if err := json.Unmarshal(body, &shape); err != nil {
		return nil, fmt.Errorf("%w: %s", err, trimBody(string(body)))
	}
	if (shape.Type != "" && shape.Type != "message") || shape.Content == nil {
		return nil, fmt.Errorf("not a message: %s", trimBody(string(body)))
	}
	var msg sdk.Message
	if err := json.Unmarshal(bytes.TrimSpace(body), &msg); err != nil {
		return nil, err
	}
	return &msg, nil
}
