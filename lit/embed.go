package lit

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// OpenAIEmbedderConfig says where to reach an OpenAI-compatible
// /v1/embeddings endpoint (OpenAI, Ollama, vLLM, llama.cpp, LM Studio).
type OpenAIEmbedderConfig struct {
	// BaseURL is the API root, e.g. "https://api.openai.com/v1" or
	// "http://127.0.0.1:11434/v1".
	BaseURL string
	// APIKey may be empty for local servers.
	APIKey string
	// Model is the embedding model, e.g. "text-embedding-3-small".
	Model string
	// Dimensions asks models that support it (text-embedding-3-*) for
	// shorter vectors; 0 leaves the model's own size.
	Dimensions int
	// HTTPClient is optional; nil means http.DefaultClient.
	HTTPClient *http.Client
}

// OpenAIEmbedder is an Embedder that calls an OpenAI-compatible
// /v1/embeddings endpoint. It does not retry: a caller that wants retries
// wraps it.
type OpenAIEmbedder struct {
	model string
	dims  int
	svc   openai.EmbeddingService
}

// NewOpenAIEmbedder returns an embedder for cfg.
func NewOpenAIEmbedder(cfg OpenAIEmbedderConfig) (*OpenAIEmbedder, error) {
	if cfg.BaseURL == "" {
		return nil, errors.New("embedder: no base URL")
	}
	if cfg.Model == "" {
		return nil, errors.New("embedder: no model")
	}
	key := cfg.APIKey
	if key == "" {
		key = "no-key" // local servers ignore it; some proxies want the header
	}
	// NewEmbeddingService, unlike openai.NewClient, reads no OPENAI_*
	// environment variables, so nothing meant for OpenAI reaches another
	// server.
	opts := []option.RequestOption{
		option.WithBaseURL(cfg.BaseURL),
		option.WithAPIKey(key),
		option.WithMaxRetries(0),
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &OpenAIEmbedder{model: cfg.Model, dims: cfg.Dimensions, svc: openai.NewEmbeddingService(opts...)}, nil
}

// Embed returns one vector per text, in the order of texts.
func (e *OpenAIEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) == 0 {
		return nil, nil
	}
	input := make([]string, len(texts))
	for i, t := range texts {
		if t == "" {
			t = " " // the API rejects empty strings
		}
		input[i] = t
	}
	params := openai.EmbeddingNewParams{
		Model:          e.model,
		Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: input},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
	}
	if e.dims > 0 {
		params.Dimensions = openai.Int(int64(e.dims))
	}
	resp, err := e.svc.New(ctx, params)
	if err != nil {
		// The SDK's error text is the status alone; the server's message
		// says what to do.
		var apiErr *openai.Error
		if errors.As(err, &apiErr) && apiErr.Message != "" {
			return nil, fmt.Errorf("embeddings (%s): %w: %s", e.model, err, apiErr.Message)
		}
		return nil, fmt.Errorf("embeddings (%s): %w", e.model, err)
	}
	out := make([][]float32, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || int(d.Index) >= len(out) || out[d.Index] != nil {
			return nil, fmt.Errorf("embeddings (%s): bad or repeated index %d for %d texts", e.model, d.Index, len(texts))
		}
		v := make([]float32, len(d.Embedding))
		for j, x := range d.Embedding {
			v[j] = float32(x)
		}
		out[d.Index] = v
	}
	for i, v := range out {
		if len(v) == 0 {
			return nil, fmt.Errorf("embeddings (%s): no vector for text %d of %d", e.model, i, len(texts))
		}
	}
	return out, nil
}
