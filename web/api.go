package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mlrc/mlrc/gate"
	"github.com/mlrc/mlrc/store"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.ParseFS(assets, "assets/page.html"))

func (s *Server) routes() {
	static, _ := fs.Sub(assets, "assets/static")
	m := http.NewServeMux()
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /{$}", s.page("runs", "Runs"))
	m.HandleFunc("GET /runs/{id}", s.page("run", "Run"))
	m.HandleFunc("GET /compare", s.page("compare", "Compare runs"))
	m.HandleFunc("GET /api/runs", s.apiRuns)
	m.HandleFunc("GET /api/runs/{id}", s.apiRun)
	m.HandleFunc("GET /api/runs/{id}/events", s.apiEvents)
	m.HandleFunc("GET /api/runs/{id}/files/{path...}", s.apiFile)
	m.HandleFunc("POST /api/runs/{id}/gates/{seq}", s.apiAnswer)
	s.mux = m
}

// page serves the page that shows kind; its script reads the rest from the
// API.
func (s *Server) page(kind, title string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		page.Execute(w, map[string]string{"Page": kind, "Title": title, "CSRF": s.csrf})
	}
}

// send writes v as JSON, secrets masked.
func (s *Server) send(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(s.redact(b))
}

func (s *Server) redact(b []byte) []byte {
	if s.opts.Redact == nil {
		return b
	}
	return s.opts.Redact.Bytes(b)
}

type apiError struct {
	Error string `json:"error"`
}

func (s *Server) fail(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, fs.ErrNotExist), errors.Is(err, errHidden):
		status = http.StatusNotFound
	case errors.Is(err, store.ErrAmbiguous):
		status = http.StatusBadRequest
	}
	s.send(w, status, apiError{err.Error()})
}

// apiRuns lists the runs, newest first; ?task= and ?status= filter them.
func (s *Server) apiRuns(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	infos, err := s.opts.Store.Runs(ctx)
	if err != nil {
		s.fail(w, err)
		return
	}
	taskF, statusF := r.URL.Query().Get("task"), r.URL.Query().Get("status")
	rows := []runRow{}
	for _, info := range infos {
		if statusF != "" && info.Status != statusF {
			continue
		}
		row, err := s.row(ctx, info)
		if err != nil {
			s.fail(w, err)
			return
		}
		if taskF != "" && row.Task != taskF {
			continue
		}
		rows = append(rows, row)
	}
	s.send(w, http.StatusOK, rows)
}

func (s *Server) apiRun(w http.ResponseWriter, r *http.Request) {
	d, err := s.detail(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	s.send(w, http.StatusOK, d)
}

// apiFile serves a file of the run directory: an image or the report as it
// is (under a policy that runs and loads nothing), anything else as plain
// text with secrets masked.
func (s *Server) apiFile(w http.ResponseWriter, r *http.Request) {
	info, err := s.opts.Store.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	rel := r.PathValue("path")
	f, err := openRunFile(info.Dir, rel)
	if err != nil {
		s.fail(w, err)
		return
	}
	defer f.Close()
	const limit = 32 << 20
	b, err := io.ReadAll(io.LimitReader(f, limit))
	if err != nil {
		s.fail(w, err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", fileCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	switch fileKind(rel) {
	case "image":
		h.Set("Content-Type", mime.TypeByExtension(path.Ext(rel)))
		if strings.HasSuffix(strings.ToLower(rel), ".svg") {
			b = s.redact(b)
		}
	case "html":
		h.Set("Content-Type", "text/html; charset=utf-8")
		b = s.redact(b)
	default:
		h.Set("Content-Type", "text/plain; charset=utf-8")
		b = s.redact(b)
	}
	w.Write(b)
}

// answerBody is a gate's answer from the page.
type answerBody struct {
	Answer json.RawMessage `json:"answer"`
}

// apiAnswer answers a gate of a running run: the first answer wins; a late
// one gets 409 saying who answered first.
func (s *Server) apiAnswer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		s.send(w, http.StatusBadRequest, apiError{"gate: want a number"})
		return
	}
	run, err := s.opts.Store.Run(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	var body answerBody
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil || len(body.Answer) == 0 {
		s.send(w, http.StatusBadRequest, apiError{fmt.Sprintf("want {\"answer\": {...}} (%v)", err)})
		return
	}
	g, err := s.opts.Store.Gate(ctx, run.ID, seq)
	if err != nil {
		s.fail(w, err)
		return
	}
	if g.Status == store.GateOpen {
		if info, err := run.Info(ctx); err == nil && info.Status != store.StatusRunning {
			s.send(w, http.StatusConflict, apiError{fmt.Sprintf("run %s is %s: no process is waiting at this gate; continue it with `mlrc resume %s`", run.ID, info.Status, run.ID)})
			return
		}
	}
	answer, err := gate.Check(g, body.Answer)
	if err != nil {
		s.send(w, http.StatusBadRequest, apiError{err.Error()})
		return
	}
	g, err = s.opts.Store.AnswerGate(ctx, run.ID, seq, answer, store.ByWeb)
	var ce *store.ClosedError
	if errors.As(err, &ce) {
		s.send(w, http.StatusConflict, map[string]any{"error": err.Error(), "gate": ce.Gate})
		return
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	s.opts.Log.Info("gate answered from the web", "run", run.ID, "gate", seq, "answer", gate.Describe(g))
	s.send(w, http.StatusOK, g)
}

// apiEvents streams the run's events as server-sent events, from the one
// after ?after= (or Last-Event-ID): each store event, whatever its type, as
// a "store" event with its seq as id and the event as data, and "changed" whenever the run's state (status,
// phases, steps, gates) changes, for the page to read it again. The store
// is read every Poll, so events written by any process arrive.
func (s *Server) apiEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	run, err := s.opts.Store.Run(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	after, _ := strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		after, _ = strconv.ParseInt(id, 10, 64)
	}
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()

	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	keepalive := time.Now()
	last := ""
	for {
		events, err := s.opts.Store.EventsAfter(ctx, run.ID, after, 500)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		for _, ev := range events {
			b, _ := json.Marshal(ev)
			fmt.Fprintf(&buf, "id: %d\nevent: store\ndata: %s\n\n", ev.Seq, s.redact(b))
			after = ev.Seq
		}
		if sig := s.signature(ctx, run); sig != last {
			last = sig
			fmt.Fprintf(&buf, "event: changed\ndata: %s\n\n", s.redact([]byte(sig)))
		}
		if buf.Len() == 0 && time.Since(keepalive) > 15*time.Second {
			buf.WriteString(": keepalive\n\n")
		}
		if buf.Len() > 0 {
			if _, err := w.Write(buf.Bytes()); err != nil {
				return
			}
			fl.Flush()
			keepalive = time.Now()
		}
		if len(events) == 500 {
			continue // more to send at once
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// signature is a short text that changes whenever the run's state does:
// status (interrupted when its process dies), phases, steps, gates.
func (s *Server) signature(ctx context.Context, run *store.Run) string {
	info, err := run.Info(ctx)
	if err != nil {
		return ""
	}
	sig := map[string]any{"status": info.Status, "updated": info.Updated}
	if phases, err := run.Phases(ctx); err == nil {
		var ps []string
		for _, p := range phases {
			ps = append(ps, p.Name+":"+p.Status)
		}
		sig["phases"] = ps
	}
	if steps, err := run.Steps(ctx); err == nil {
		open := 0
		for _, st := range steps {
			if st.Status == store.StatusRunning {
				open++
			}
		}
		sig["steps"] = []int{len(steps), open}
	}
	if gates, err := s.opts.Store.Gates(ctx, run.ID, false); err == nil {
		var gs []string
		for _, g := range gates {
			gs = append(gs, strconv.FormatInt(g.Seq, 10)+":"+g.Status)
		}
		sig["gates"] = gs
	}
	b, _ := json.Marshal(sig)
	return string(b)
}
