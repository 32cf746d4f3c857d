package ftptest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is an FTP server over one local directory, listening on a
// loopback port. Create it with NewServer, or NewUnstartedServer and Start;
// stop it with Close. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the "127.0.0.1:port" the server listens on, set by Start.
	// Set before Start (see NewUnstartedServer), it chooses the address:
	// a restarted server can come back on the port its clients know.
	Addr string
	// Root is the directory served, as given to NewServer.
	Root string

	opts Options

	mu       sync.Mutex
	started  bool
	closed   bool
	ln       net.Listener
	root     *os.Root
	sessions map[*Session]struct{}
	nextID   int
	loggedIn int // sessions logged in now, for MaxLogins

	tls     *tls.Config
	cert    *x509.Certificate
	certPEM []byte

	wg       sync.WaitGroup
	logins   atomic.Int64
	accepted atomic.Int64
	zone     atomic.Pointer[time.Location] // Options.LocalTime, SetLocalTime
}

// NewServer starts and returns a server over the directory root. It panics
// when root cannot be opened or no port is free, like httptest.NewServer.
// The caller must Close it.
func NewServer(root string, opts Options) *Server {
	s := NewUnstartedServer(root, opts)
	s.Start()
	return s
}

// NewUnstartedServer returns a server over root that is not yet listening,
// so the caller can change it before calling Start.
func NewUnstartedServer(root string, opts Options) *Server {
	s := &Server{Root: root, opts: opts, sessions: make(map[*Session]struct{})}
	s.zone.Store(opts.LocalTime)
	return s
}

// SetLocalTime changes the zone of LIST and MDTM times (Options.LocalTime)
// for every command from now on; nil means UTC.
func (s *Server) SetLocalTime(loc *time.Location) { s.zone.Store(loc) }

// localTime is the zone of LIST and MDTM times.
func (s *Server) localTime() *time.Location {
	if loc := s.zone.Load(); loc != nil {
		return loc
	}
	return time.UTC
}

// Start opens the root, generates the TLS certificate when Options.TLS asks
// for one, listens on s.Addr (127.0.0.1:0, a free port, when empty) and
// starts serving. It panics on failure or when called twice.
func (s *Server) Start() {
	if err := s.start(); err != nil {
		panic("ftptest: " + err.Error())
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return fmt.Errorf("start: server already started")
	}
	s.started = true
	root, err := os.OpenRoot(s.Root)
	if err != nil {
		return fmt.Errorf("start: open root: %w", err)
	}
	if s.opts.TLS != TLSNone {
		if err := s.makeCert(time.Now()); err != nil {
			root.Close()
			return fmt.Errorf("start: %w", err)
		}
	}
	addr := s.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		root.Close()
		return fmt.Errorf("start: listen: %w", err)
	}
	s.root, s.ln, s.Addr = root, ln, ln.Addr().String()
	s.wg.Add(1)
	go s.acceptLoop(ln)
	return nil
}

// URL returns "ftp://user:password@127.0.0.1:port/", or "ftps://..." in
// TLSImplicit mode.
func (s *Server) URL() string {
	u := url.URL{
		Scheme: "ftp",
		User:   url.UserPassword(s.opts.user(), s.opts.password()),
		Host:   s.Addr,
		Path:   "/",
	}
	if s.opts.TLS == TLSImplicit {
		u.Scheme = "ftps"
	}
	return u.String()
}

// Options returns the options the server was created with.
func (s *Server) Options() Options { return s.opts }

// Logins returns how many logins have succeeded since Start.
func (s *Server) Logins() int { return int(s.logins.Load()) }

// Accepted returns how many control connections have been accepted since
// Start, including those refused by MaxConns.
func (s *Server) Accepted() int { return int(s.accepted.Load()) }

// Sessions returns how many sessions are open now.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Close stops the listener, closes every session and its data connections,
// and waits for all of the server's goroutines to end. If they have not
// ended after Options.CloseWait, Close panics naming each session still
// running and the command it is in (a hook that ignores s.Done(), most
// likely). Close may be called more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	ln := s.ln
	for sess := range s.sessions {
		sess.Close()
	}
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(s.opts.closeWait())
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		panic("ftptest: Close: goroutines still running after " + s.opts.closeWait().String() + ": " + s.hangReport())
	}
	if s.root != nil {
		s.root.Close()
	}
}

// hangReport names the sessions still registered and what they are doing.
func (s *Server) hangReport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var parts []string
	for sess := range s.sessions {
		parts = append(parts, sess.describe())
	}
	if len(parts) == 0 {
		return "accept loop"
	}
	sort.Strings(parts)
	return strings.Join(parts, "; ")
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) acceptLoop(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if !closed {
				s.logf("ftptest: accept: %v", err)
			}
			return
		}
		s.accepted.Add(1)
		sess, refuse := s.register(conn)
		if sess == nil {
			s.refuse(conn, refuse)
			continue
		}
		go sess.serve()
	}
}

// register adds a session for conn, or returns the refusal to send.
func (s *Server) register(conn net.Conn) (*Session, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ""
	}
	if s.opts.MaxConns > 0 && len(s.sessions) >= s.opts.MaxConns {
		return nil, "421 Too many connections\r\n"
	}
	s.nextID++
	sess := newSession(s, s.nextID, conn)
	s.sessions[sess] = struct{}{}
	s.wg.Add(1)
	return sess, ""
}

// refuse answers a connection the server will not serve and closes it.
// Under implicit TLS the reply needs a handshake first, so that runs on
// its own goroutine, which Close waits for like a session.
func (s *Server) refuse(conn net.Conn, msg string) {
	if msg == "" {
		conn.Close()
		return
	}
	s.logf("ftptest: refused %s: %s", conn.RemoteAddr(), strings.TrimSpace(msg))
	deadline := time.Now().Add(s.opts.ioTimeout())
	if s.opts.TLS != TLSImplicit {
		conn.SetWriteDeadline(deadline)
		conn.Write([]byte(msg))
		conn.Close()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		tc := tls.Server(conn, s.tls)
		tc.SetDeadline(deadline)
		if tc.Handshake() == nil {
			tc.Write([]byte(msg))
		}
		tc.Close()
	}()
}

func (s *Server) unregister(sess *Session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	if sess.loggedIn {
		s.loggedIn--
	}
	s.mu.Unlock()
	s.wg.Done()
}

// login counts a session in for MaxLogins; it reports false when the
// limit is reached.
func (s *Server) login() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxLogins > 0 && s.loggedIn >= s.opts.MaxLogins {
		return false
	}
	s.loggedIn++
	return true
}

// logout counts a session out (USER again after a login).
func (s *Server) logout() {
	s.mu.Lock()
	s.loggedIn--
	s.mu.Unlock()
}
