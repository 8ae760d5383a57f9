// Package web is mlrc's web UI (mlrc serve): the runs of a store, each run
// live through server-sent events, the comparison of two runs, and the
// human gates of running runs, answerable from the page.
//
// The store is the source of truth: the server reads it as any other
// process does, so runs started by other processes show, and follow, live.
// The pages are plain HTML, CSS and JavaScript embedded in the binary; they
// load nothing from elsewhere (a strict Content-Security-Policy says so).
//
// # Access
//
// The server listens on the loopback interface unless told otherwise, and
// then requires a token (Options.Token), given once as ?token= (kept in a
// cookie) or as a bearer token. Every state-changing request (answering a
// gate) is a POST with JSON, the page's CSRF token in a header, and no
// cross-site origin. Text from the run directory passes through the
// redactor, so an API key that leaked into a file is masked here too.
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/mlrc/mlrc/secret"
	"github.com/mlrc/mlrc/store"
)

// DefaultAddr is where mlrc serve listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8765"

// Options configure a Server.
type Options struct {
	Store *store.Store
	// Addr is the address to listen on (DefaultAddr when empty).
	Addr string
	// Token is required of every request when set; an address other than
	// loopback needs one.
	Token string
	// Redact masks secrets in what the server sends (nil: nothing masked).
	Redact *secret.Redactor
	// Poll is how often live pages read the store (default 300 ms).
	Poll time.Duration
	Log  *slog.Logger
}

// Server serves the web UI.
type Server struct {
	opts Options
	csrf string // the pages' token for state-changing requests
	mux  *http.ServeMux
}

// ErrNeedToken says that the server would listen beyond loopback without a
// token.
var ErrNeedToken = errors.New("listening beyond the loopback interface needs a token: set MLRC_SERVE_TOKEN, or let mlrc serve generate one")

// New returns a server for opts, or ErrNeedToken when opts.Addr is not a
// loopback address and there is no token.
func New(opts Options) (*Server, error) {
	if opts.Store == nil {
		return nil, errors.New("web: no store given")
	}
	if opts.Addr == "" {
		opts.Addr = DefaultAddr
	}
	if opts.Poll <= 0 {
		opts.Poll = 300 * time.Millisecond
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	loop, err := Loopback(opts.Addr)
	if err != nil {
		return nil, err
	}
	if !loop && opts.Token == "" {
		return nil, fmt.Errorf("%s: %w", opts.Addr, ErrNeedToken)
	}
	s := &Server{opts: opts, csrf: NewToken()}
	s.routes()
	return s, nil
}

// Loopback reports whether addr (host:port) is on the loopback interface:
// localhost or a loopback IP. An empty host means every interface.
func Loopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, fmt.Errorf("address %q: %v (want host:port, e.g. %s)", addr, err, DefaultAddr)
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// NewToken returns a random token: 32 hex digits.
func NewToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Handler returns the server's handler, with its access checks.
func (s *Server) Handler() http.Handler { return s.guard(s.mux) }

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	err := hs.Serve(ln)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// csp is the pages' Content-Security-Policy: everything from this server,
// nothing from anywhere else, no inline script.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// fileCSP is the policy of a file from a run directory: it runs nothing and
// loads nothing (a report's inline styles and SVG excepted), in a sandbox.
const fileCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"

const tokenCookie = "mlrc_token"

// guard checks the token and, for a loopback server, the Host header (a
// page on another site cannot reach it through DNS rebinding); it sets the
// security headers of every response.
func (s *Server) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if s.opts.Token == "" && !loopbackHost(r.Host) {
			http.Error(w, "this server answers only to localhost, 127.0.0.1 and [::1]", http.StatusMisdirectedRequest)
			return
		}
		if s.opts.Token != "" && !s.authorized(w, r) {
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := cop.Check(r); err != nil {
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-MLRC-CSRF")), []byte(s.csrf)) != 1 {
				http.Error(w, "missing or wrong X-MLRC-CSRF header: reload the page", http.StatusForbidden)
				return
			}
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				http.Error(w, "want Content-Type: application/json", http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// authorized checks the token: ?token= (then kept in a cookie and dropped
// from the address), the cookie, or Authorization: Bearer.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	ok := func(t string) bool {
		return t != "" && subtle.ConstantTimeCompare([]byte(t), []byte(s.opts.Token)) == 1
	}
	if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
		if !ok(q) {
			http.Error(w, "wrong token", http.StatusUnauthorized)
			return false
		}
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		u := *r.URL
		v := u.Query()
		v.Del("token")
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return false
	}
	if c, err := r.Cookie(tokenCookie); err == nil && ok(c.Value) {
		return true
	}
	if b, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && ok(b) {
		return true
	}
	http.Error(w, "this server needs its token: open the address mlrc serve printed (…/?token=…)", http.StatusUnauthorized)
	return false
}

func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
