// Package fakeserver is an HTTP server on the loopback interface that speaks
// the OpenAI Chat Completions and Anthropic Messages wire formats, answering
// from a script. Tests drive mlrc through it end to end — the real adapters,
// the real HTTP — with no model anywhere.
package fakeserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/mlrc/mlrc/llm/scripted"
)

// Reply is one scripted answer. Either Response is sent in the wire format
// the request used (streamed when the request asks for it), or Status and
// Body are sent as they are (errors, malformed bodies).
type Reply struct {
	Response *scripted.Response
	Status   int
	Body     string
	Header   map[string]string // e.g. {"Retry-After": "1"}
	// Dynamic, when set, makes the reply from the request (tests whose
	// answers depend on what the client sent, such as retrieved ids).
	Dynamic func(Request) Reply
}

// Text is a reply holding text.
func Text(s string) Reply { return Reply{Response: &scripted.Response{Text: s}} }

// Error is an error reply in the OpenAI error format, which the Anthropic
// adapter also reads.
func Error(status int, message string, header map[string]string) Reply {
	body, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"message": message, "type": "error"}})
	return Reply{Status: status, Body: string(body), Header: header}
}

// Request is what the server received.
type Request struct {
	Path   string
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// Server answers with its replies in order; when they run out it keeps
// answering with the last one if Repeat is set, else with HTTP 500.
type Server struct {
	*httptest.Server
	Repeat bool

	mu       sync.Mutex
	replies  []Reply
	next     int
	requests []Request
}

// New starts a server with replies. Close it when done.
func New(replies ...Reply) *Server {
	s := &Server{replies: replies}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Requests returns what the server received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Add appends replies.
func (s *Server) Add(replies ...Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies = append(s.replies, replies...)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)

	s.mu.Lock()
	s.requests = append(s.requests, Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw})
	var rep Reply
	switch {
	case s.next < len(s.replies):
		rep = s.replies[s.next]
		s.next++
	case s.Repeat && len(s.replies) > 0:
		rep = s.replies[len(s.replies)-1]
	default:
		s.mu.Unlock()
		http.Error(w, `{"error":{"message":"fakeserver: no reply left in the script"}}`, http.StatusInternalServerError)
		return
	}
	s.mu.Unlock()

	if rep.Dynamic != nil {
		rep = rep.Dynamic(Request{Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Raw: raw})
	}
	for k, v := range rep.Header {
		w.Header().Set(k, v)
	}
	if rep.Response == nil {
		w.Header().Set("Content-Type", "application/json")
		status := rep.Status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		io.WriteString(w, rep.Body)
		return
	}
	model, _ := body["model"].(string)
	stream, _ := body["stream"].(bool)
	switch {
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		if stream {
			openAIStream(w, model, rep.Response)
		} else {
			writeJSON(w, openAIMessage(model, rep.Response))
		}
	case strings.HasSuffix(r.URL.Path, "/messages"):
		if stream {
			anthropicStream(w, model, rep.Response)
		} else {
			writeJSON(w, anthropicMessage(model, rep.Response))
		}
	default:
		http.Error(w, fmt.Sprintf(`{"error":{"message":"fakeserver: no route %s"}}`, r.URL.Path), http.StatusNotFound)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func usage(r *scripted.Response) (in, out int64) {
	if r.Usage != nil {
		return r.Usage.InputTokens, r.Usage.OutputTokens
	}
	return 10, int64(len(r.Text)/4 + 1)
}

func args(c scripted.ToolCall) string {
	if c.Arguments == nil {
		return "{}"
	}
	b, _ := json.Marshal(c.Arguments)
	return string(b)
}

func callID(i int, c scripted.ToolCall) string {
	if c.ID != "" {
		return c.ID
	}
	return fmt.Sprintf("call_fake_%d", i+1)
}
