package anthropic

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"

	"github.com/mlrc/mlrc/llm"
)

// testKey is the API key the fake server expects.
const testKey = "sk-ant-test-secret-key"

// received is what the fake server saw of one request.
type received struct {
	method, path string
	header       http.Header
	body         map[string]json.RawMessage
}

// fakeAPI is an httptest server standing in for the Messages API. It keeps
// the last request and answers with its handler.
type fakeAPI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	last *received
}

// newFake starts a fake API whose answers come from h, and a client for it.
func newFake(t *testing.T, h http.HandlerFunc) (*fakeAPI, *Client) {
	t.Helper()
	f := &fakeAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read request body: %v", err)
		}
		rec := &received{method: r.Method, path: r.URL.Path, header: r.Header.Clone()}
		if err := json.Unmarshal(raw, &rec.body); err != nil {
			t.Errorf("request body is not a JSON object: %v\n%s", err, raw)
		}
		f.mu.Lock()
		f.last = rec
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f, New(Config{Provider: "anthropic", BaseURL: f.srv.URL, APIKey: testKey})
}

// request returns the last request the server received.
func (f *fakeAPI) request(t *testing.T) *received {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		t.Fatal("the server received no request")
	}
	return f.last
}

// checkEnvelope checks what every request must carry.
func (r *received) checkEnvelope(t *testing.T, stream bool) {
	t.Helper()
	if got, want := r.method, http.MethodPost; got != want {
		t.Errorf("method = %s, want %s", got, want)
	}
	if got, want := r.path, "/v1/messages"; got != want {
		t.Errorf("path = %s, want %s", got, want)
	}
	if got, want := r.header.Get("x-api-key"), testKey; got != want {
		t.Errorf("x-api-key = %q, want %q", got, want)
	}
	if got := r.header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
	if got := r.header.Get("anthropic-version"); got == "" {
		t.Error("anthropic-version header missing")
	}
	if got, want := string(r.body["stream"]), map[bool]string{true: "true", false: ""}[stream]; got != want {
		t.Errorf("stream = %q, want %q", got, want)
	}
}

// field checks that the request's top-level field key equals want, as JSON.
func (r *received) field(t *testing.T, key, want string) {
	t.Helper()
	jsonEqual(t, key, r.body[key], want)
}

// jsonEqual checks that got and want are the same JSON value.
func jsonEqual(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("%s: got %q, not JSON: %v", what, got, err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want %q: %v", what, want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s =\n%s\nwant\n%s", what, got, want)
	}
}

// replyJSON answers with status and body as JSON.
func replyJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// sse is one server-sent event.
type sse struct{ name, data string }

// writeSSE starts an event stream and sends events, flushing each.
func writeSSE(w http.ResponseWriter, events ...sse) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for _, e := range events {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", e.name, e.data)
		w.(http.Flusher).Flush()
	}
}

// recorder collects the deltas a streaming call reports.
type recorder struct {
	mu     sync.Mutex
	deltas []llm.Delta
}

func (r *recorder) add(d llm.Delta) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deltas = append(r.deltas, d)
}

func (r *recorder) got() []llm.Delta {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]llm.Delta(nil), r.deltas...)
}
