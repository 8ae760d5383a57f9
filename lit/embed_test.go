package lit

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
)

// embeddingsServer speaks OpenAI's /v1/embeddings wire format. It answers
// with the vectors in reverse order, as a server may, and vector i of a
// request is [i, len(input[i]), 0.5].
func embeddingsServer(t *testing.T, status int, requests *atomic.Int32, got *map[string]any) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		if auth := r.Header.Get("Authorization"); auth != "Bearer sk-test" {
			t.Errorf("Authorization %q", auth)
		}
		if org := r.Header.Get("OpenAI-Organization"); org != "" {
			t.Errorf("OpenAI-Organization %q read from the environment", org)
		}
		body, _ := io.ReadAll(r.Body)
		var req map[string]any
		if err := json.Unmarshal(body, &req); err != nil {
			t.Errorf("request body %s: %v", body, err)
		}
		*got = req
		w.Header().Set("Content-Type", "application/json")
		if status != http.StatusOK {
			w.WriteHeader(status)
			io.WriteString(w, `{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}`)
			return
		}
		input, _ := req["input"].([]any)
		var data []string
		for i := len(input) - 1; i >= 0; i-- {
			s, _ := input[i].(string)
			v, _ := json.Marshal([]float64{float64(i), float64(len(s)), 0.5})
			data = append(data, `{"object": "embedding", "index": `+string(rune('0'+i))+`, "embedding": `+string(v)+`}`)
		}
		io.WriteString(w, `{"object": "list", "data": [`+strings.Join(data, ", ")+`], "model": "text-embedding-3-small", "usage": {"prompt_tokens": 7, "total_tokens": 7}}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestOpenAIEmbedder(t *testing.T) {
	// Nothing may come from the environment.
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_API_KEY", "sk-from-env")
	t.Setenv("OPENAI_ORG_ID", "org-env")

	var requests atomic.Int32
	var req map[string]any
	srv := embeddingsServer(t, http.StatusOK, &requests, &req)
	e, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{BaseURL: srv.URL + "/v1", APIKey: "sk-test", Model: "text-embedding-3-small", Dimensions: 3})
	if err != nil {
		t.Fatal(err)
	}
	vecs, err := e.Embed(context.Background(), []string{"graph", "", "neural nets"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float32{{0, 5, 0.5}, {1, 1, 0.5}, {2, 11, 0.5}}
	if !reflect.DeepEqual(vecs, want) {
		t.Fatalf("vectors %v, want %v (in input order)", vecs, want)
	}
	wantReq := map[string]any{
		"model": "text-embedding-3-small", "input": []any{"graph", " ", "neural nets"},
		"encoding_format": "float", "dimensions": float64(3),
	}
	if !reflect.DeepEqual(req, wantReq) {
		t.Fatalf("request %v, want %v", req, wantReq)
	}
	if got := requests.Load(); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
}

func TestOpenAIEmbedderError(t *testing.T) {
	for _, status := range []int{http.StatusUnauthorized, http.StatusInternalServerError} {
		var requests atomic.Int32
		var req map[string]any
		srv := embeddingsServer(t, status, &requests, &req)
		e, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{BaseURL: srv.URL + "/v1", APIKey: "sk-test", Model: "m"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = e.Embed(context.Background(), []string{"x"})
		if err == nil || !strings.Contains(err.Error(), "Incorrect API key provided") {
			t.Fatalf("status %d: error %v, want the server's message", status, err)
		}
		if got := requests.Load(); got != 1 {
			t.Fatalf("status %d: %d requests, want 1 (no retries)", status, got)
		}
	}
}

func TestOpenAIEmbedderWithIndex(t *testing.T) {
	var requests atomic.Int32
	var req map[string]any
	srv := embeddingsServer(t, http.StatusOK, &requests, &req)
	e, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{BaseURL: srv.URL + "/v1", APIKey: "sk-test", Model: "text-embedding-3-small"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ix := openTest(t)
	ix.AddJSONL(ctx, strings.NewReader(fixture), "")
	if n, err := ix.Embed(ctx, e, "text-embedding-3-small", 2); err != nil || n != 3 {
		t.Fatalf("Embed: %d, %v", n, err)
	}
	if got := requests.Load(); got != 2 {
		t.Fatalf("%d requests for 3 works in batches of 2, want 2", got)
	}
}

func TestNewOpenAIEmbedderNeedsURLAndModel(t *testing.T) {
	if _, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{Model: "m"}); err == nil {
		t.Error("no base URL accepted")
	}
	if _, err := NewOpenAIEmbedder(OpenAIEmbedderConfig{BaseURL: "http://x/v1"}); err == nil {
		t.Error("no model accepted")
	}
}
