// Package web serves the agent's HTTP surface on the configuration's
// http.listen address: a status page a person reads at a glance (/), the
// same data as JSON (/api/jobs), a "run now" per job (POST
// /api/jobs/NAME/run) and Prometheus metrics (/metrics). Everything it
// shows comes from the agent's Registry.
//
// Protection. Without a token (a loopback address), every request must
// name a loopback host (Host: localhost, 127.0.0.1, [::1]: a web page
// elsewhere that rebinds its own name to 127.0.0.1 is refused). With a
// token (http.token_file; required by allow_remote), every request but
// the static assets must present it: "Authorization: Bearer TOKEN", or
// the ferry_token cookie the page sets after asking for the token once.
// "Run now" is refused unless the request is same-origin (Sec-Fetch-Site,
// else Origin, against the request's own host) and carries the per-agent
// random CSRF token embedded in the page (header X-Ferry-CSRF) or, with a
// token, the token itself in an Authorization header (a cookie alone is
// never enough).
package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ferrysync/ferry/agent"
)

// Agent is what the server needs of the agent: its jobs' status and a
// way to ask a job for a run. *agent.Agent is one.
type Agent interface {
	Registry() *agent.Registry
	// RunNow asks job name for a full run; false if there is no such job.
	RunNow(name string) bool
}

// Options configure a Handler.
type Options struct {
	// Token, when not empty, is what every request (but the static
	// assets) must present; see the package documentation. Empty: the
	// handler serves loopback hosts only.
	Token string
	// Log receives the server's own problems; nil: discarded.
	Log *slog.Logger
	// Now is the clock of the page and the JSON; nil: time.Now.
	Now func() time.Time
}

// Names of the token's cookie and of the CSRF header.
const (
	TokenCookie = "ferry_token"
	CSRFHeader  = "X-Ferry-CSRF"
)

// minTokenLen is the shortest token a token_file may hold: it is the only
// thing between a network and the agent's "run now".
const minTokenLen = 16

//go:embed assets
var assetFS embed.FS

// Handler is the agent's HTTP surface as an http.Handler.
type Handler struct {
	agent   Agent
	token   string
	csrf    string
	log     *slog.Logger
	now     func() time.Time
	cop     *http.CrossOriginProtection
	pages   *template.Template
	mux     *http.ServeMux
	metrics *prometheus.Registry
}

// New returns the handler for a. Its CSRF token is random, made anew for
// every handler (an open page needs a reload after the agent restarts).
func New(a Agent, o Options) *Handler {
	h := &Handler{agent: a, token: o.Token, csrf: rand.Text(), log: o.Log, now: o.Now, cop: http.NewCrossOriginProtection()}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.pages = template.Must(template.New("").Funcs(pageFuncs).ParseFS(assetFS, "assets/*.html"))
	h.metrics = prometheus.NewRegistry()
	h.metrics.MustRegister(newCollector(a),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	static, err := fs.Sub(assetFS, "assets")
	if err != nil {
		panic(err) // the embedded folder is there by construction
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.page)
	mux.HandleFunc("GET /api/jobs", h.jobs)
	mux.HandleFunc("POST /api/jobs/{name}/run", h.runNow)
	mux.Handle("GET /metrics", promhttp.HandlerFor(h.metrics, promhttp.HandlerOpts{
		ErrorLog: slog.NewLogLogger(h.log.Handler(), slog.LevelWarn)}))
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetServer(http.FileServerFS(static))))
	h.mux = mux
	return h
}

// ServeHTTP checks the request's host and token, then serves it.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY") // the "run now" buttons must not be clickjacked
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
	if h.token == "" && !agent.IsLoopback(hostOnly(r.Host)) {
		http.Error(w, fmt.Sprintf("this status page answers to localhost only, not to Host %q (set http.allow_remote and token_file to serve a network)", r.Host), http.StatusForbidden)
		return
	}
	if h.token != "" && !strings.HasPrefix(r.URL.Path, "/assets/") && !h.authorized(r) {
		hd.Set("WWW-Authenticate", `Bearer realm="ferry agent"`)
		hd.Set("Cache-Control", "no-store")
		if r.Method == http.MethodGet && r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			if err := h.pages.ExecuteTemplate(w, "login.html", nil); err != nil {
				h.log.Warn("status page: rendering the login page", "err", err)
			}
			return
		}
		http.Error(w, "a token is required: Authorization: Bearer TOKEN (the first line of http.token_file)", http.StatusUnauthorized)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// authorized reports whether r presents the token, in its Authorization
// header or its cookie.
func (h *Handler) authorized(r *http.Request) bool {
	if h.bearer(r) {
		return true
	}
	c, err := r.Cookie(TokenCookie)
	if err != nil {
		return false
	}
	v, err := url.PathUnescape(c.Value)
	return err == nil && equal(v, h.token)
}

// bearer reports whether r's Authorization header holds the token.
func (h *Handler) bearer(r *http.Request) bool {
	v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && h.token != "" && equal(strings.TrimSpace(v), h.token)
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// hostOnly is the host of a Host header, without port or brackets.
func hostOnly(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]")
}

// assetServer serves the embedded assets; they change only with the
// binary, yet are revalidated so an upgrade shows at once.
func assetServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, ".html") {
			http.NotFound(w, r) // templates, not pages
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		next.ServeHTTP(w, r)
	})
}

// Server is the handler listening on the configured address.
type Server struct {
	ln net.Listener
	hs *http.Server
}

// Listen reads the token file and opens the address cfg.HTTP names, for
// a's status page: nil, nil when http.listen is not set. Its errors are
// *agent.ConfigError values naming the field at fault: http.listen (the
// address is taken, or cannot be opened) or http.token_file (unreadable,
// empty or short).
func Listen(cfg *agent.Config, a Agent, log *slog.Logger) (*Server, error) {
	if cfg.HTTP.Listen == "" {
		return nil, nil
	}
	bad := func(field string, err error) error {
		return &agent.ConfigError{File: cfg.Path, Job: -1, Field: field, Err: err}
	}
	var token string
	if cfg.HTTP.TokenFile != "" {
		var err error
		if token, err = readToken(cfg.HTTP.TokenFile); err != nil {
			return nil, bad("http.token_file", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return nil, bad("http.listen", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hs := &http.Server{
		Handler:           New(a, Options{Token: token, Log: log}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &Server{ln: ln, hs: hs}, nil
}

// readToken returns the first line of file, which must hold a token of
// at least 16 characters.
func readToken(file string) (string, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(data), "\n")
	token := strings.TrimSpace(line)
	switch {
	case token == "":
		return "", fmt.Errorf("%s: the first line is empty: it must hold the token", file)
	case len(token) < minTokenLen:
		return "", fmt.Errorf("%s: the token has %d characters; use at least %d (e.g. head -c 24 /dev/urandom | base64 > %s)", file, len(token), minTokenLen, file)
	}
	return token, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers requests until Close; it returns nil then.
func (s *Server) Serve() error {
	if err := s.hs.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close stops the server: it lets requests in flight finish until ctx
// ends, then closes their connections.
func (s *Server) Close(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	if err != nil {
		s.hs.Close()
	}
	s.ln.Close() // when Serve was never called
	return err
}
