package ftptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// maxLine bounds a command line, CRLF included; longer lines get 500.
const maxLine = 4096

// Session is one control connection. Hooks receive it to answer commands
// their own way. Reply, WriteRaw and the data helpers must be called from
// the hook (the session's goroutine); Close and Done may be used from any
// goroutine.
type Session struct {
	srv    *Server
	id     int
	raw    net.Conn // the TCP connection, closed to break any blocked I/O
	remote net.Addr
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	once   sync.Once

	mu      sync.Mutex // guards the fields below, touched by Close
	conn    net.Conn   // raw, or a *tls.Conn over it
	pasv    net.Listener
	data    net.Conn // raw data connection in use
	current string   // command being handled, for Close's hang report

	// Owned by the session goroutine.
	r          *bufio.Reader
	quit       bool
	user       string
	loggedIn   bool
	logins     int
	cwd        string // absolute virtual path, path.Clean'd
	binary     bool
	rest       int64
	renameFrom string
	activeAddr string // from PORT/EPRT; "" when passive or unset
	tlsOn      bool
	pbsz       bool
	protP      bool
	mlstFacts  map[string]bool
}

func newSession(srv *Server, id int, conn net.Conn) *Session {
	ctx, cancel := context.WithCancel(context.Background())
	return &Session{
		srv: srv, id: id, raw: conn, conn: conn, remote: conn.RemoteAddr(),
		ctx: ctx, cancel: cancel, cwd: "/", r: bufio.NewReaderSize(conn, maxLine),
		mlstFacts: allFacts(),
	}
}

// Server returns the server this session belongs to.
func (s *Session) Server() *Server { return s.srv }

// ID returns the session's number: 1 for the first connection accepted, and so on.
func (s *Session) ID() int { return s.id }

// LoginCount returns how many times this session has logged in (0 or 1
// unless the client sent USER again); Server().Logins() counts all sessions.
func (s *Session) LoginCount() int { return s.logins }

// Cwd returns the session's current directory, "/" being the root.
func (s *Session) Cwd() string { return s.cwd }

// Done returns a channel closed when the session is closing, by Close,
// QUIT, a timeout or Server.Close. A blocking hook must select on it.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Context returns a context cancelled when the session is closing.
func (s *Session) Context() context.Context { return s.ctx }

// Stall blocks until the session is closed; a hook stalls a command with
// it (the client sees no reply and must time out).
func (s *Session) Stall() { <-s.ctx.Done() }

// Close drops the control connection and any data connection at once,
// without a reply or a TLS close_notify. It may be called from any
// goroutine, more than once.
func (s *Session) Close() {
	s.once.Do(func() {
		s.cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.raw.Close()
		if s.pasv != nil {
			s.pasv.Close()
		}
		if s.data != nil {
			s.data.Close()
		}
	})
}

func (s *Session) closing() bool {
	return s.ctx.Err() != nil
}

func (s *Session) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		return fmt.Sprintf("session %d (%s) between commands", s.id, s.remote)
	}
	return fmt.Sprintf("session %d (%s) in command %q", s.id, s.remote, s.current)
}

func (s *Session) setCurrent(line string) {
	s.mu.Lock()
	s.current = line
	s.mu.Unlock()
}

func (s *Session) logf(format string, args ...any) {
	if s.srv.opts.Logf != nil {
		s.srv.opts.Logf("ftptest[%d] "+format, append([]any{s.id}, args...)...)
	}
}

// serve runs the session until QUIT, an error, a timeout or Close.
func (s *Session) serve() {
	defer s.srv.unregister(s)
	defer s.finish()
	if s.srv.opts.TLS == TLSImplicit {
		if err := s.startTLS(); err != nil {
			s.logf("implicit TLS handshake: %v", err)
			return
		}
	}
	if !s.runHook("", "") {
		s.greet()
	}
	for !s.quit && !s.closing() {
		line, err := s.readLine()
		if err != nil {
			s.readFailed(err)
			return
		}
		cmd, arg := splitCommand(line)
		s.logf("> %s", maskPass(cmd, line))
		s.setCurrent(maskPass(cmd, line))
		if !s.runHook(cmd, arg) {
			s.Do(cmd, arg)
		}
		s.setCurrent("")
	}
}

func (s *Session) runHook(cmd, arg string) bool {
	if s.srv.opts.Hook == nil {
		return false
	}
	return s.srv.opts.Hook(s, cmd, arg)
}

func (s *Session) greet() {
	if len(s.srv.opts.Banner) > 0 {
		s.Reply(220, s.srv.opts.Banner...)
		return
	}
	s.Reply(220, "ftptest ready (test server, not for production)")
}

// finish closes the control connection, politely when the session ended
// normally (TLS close_notify after QUIT), and drops any data connection.
func (s *Session) finish() {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if !s.closing() {
		conn.SetDeadline(time.Now().Add(s.srv.opts.ioTimeout()))
		conn.Close()
	}
	s.Close()
}

func (s *Session) readFailed(err error) {
	var ne net.Error
	switch {
	case s.closing():
	case errors.As(err, &ne) && ne.Timeout():
		s.logf("idle timeout")
		s.Reply(421, "Timeout.")
	case errors.Is(err, os.ErrClosed), errors.Is(err, net.ErrClosed):
	default:
		s.logf("read: %v", err)
	}
}

// readLine reads one command line without its CRLF (a bare LF is
// accepted). Over-long lines are answered with 500 and skipped. Telnet
// IAC sequences (RFC 959 section 4.1.3, sent before ABOR) are removed.
func (s *Session) readLine() (string, error) {
	for {
		s.conn.SetReadDeadline(time.Now().Add(s.srv.opts.idleTimeout()))
		b, err := s.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if err := s.skipLine(); err != nil {
				return "", err
			}
			s.Reply(500, "Command line too long.")
			continue
		}
		if err != nil {
			return "", err
		}
		b = bytes.TrimRight(b, "\r\n")
		return stripTelnet(b), nil
	}
}

func (s *Session) skipLine() error {
	for {
		_, err := s.r.ReadSlice('\n')
		if !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

func stripTelnet(b []byte) string {
	if bytes.IndexByte(b, 0xff) < 0 {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == 0xff && i+1 < len(b) {
			i++
			if b[i] == 0xff {
				out = append(out, 0xff)
			}
			continue
		}
		out = append(out, b[i])
	}
	return string(out)
}

// splitCommand returns the verb in upper case and the argument after the
// first space, kept verbatim (file names may begin or end with spaces).
func splitCommand(line string) (cmd, arg string) {
	cmd, arg, _ = strings.Cut(line, " ")
	return strings.ToUpper(cmd), arg
}

func maskPass(cmd, line string) string {
	if cmd == "PASS" {
		return "PASS ****"
	}
	return line
}

// Reply sends a reply with the given code. With one line it is "code
// text"; with more it is an RFC 959 section 4.2 multi-line reply: the first
// line "code-text", middle lines sent as they are when they begin with a
// space (FEAT style) and as "code-text" otherwise, the last "code text".
// With no lines the text is empty. Write errors close the session.
func (s *Session) Reply(code int, lines ...string) {
	var b strings.Builder
	if len(lines) == 0 {
		lines = []string{""}
	}
	for i, l := range lines {
		switch {
		case i == len(lines)-1:
			fmt.Fprintf(&b, "%03d %s\r\n", code, l)
		case i > 0 && strings.HasPrefix(l, " "):
			b.WriteString(l + "\r\n")
		default:
			fmt.Fprintf(&b, "%03d-%s\r\n", code, l)
		}
	}
	s.logf("< %s", strings.TrimRight(strings.ReplaceAll(b.String(), "\r\n", "\n  "), " \n"))
	s.write([]byte(b.String()))
}

// WriteRaw writes b to the control connection exactly as given: garbage,
// over-long lines, replies without CRLF. Write errors close the session.
func (s *Session) WriteRaw(b []byte) {
	s.logf("< raw %q", b)
	s.write(b)
}

func (s *Session) write(b []byte) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	conn.SetWriteDeadline(time.Now().Add(s.srv.opts.ioTimeout()))
	if _, err := conn.Write(b); err != nil {
		if !s.closing() {
			s.logf("write: %v", err)
		}
		s.Close()
	}
}

// startTLS makes the control connection a TLS server connection and
// completes the handshake.
func (s *Session) startTLS() error {
	tc := tls.Server(s.raw, s.srv.tls)
	tc.SetDeadline(time.Now().Add(s.srv.opts.ioTimeout()))
	if err := tc.Handshake(); err != nil {
		return err
	}
	tc.SetDeadline(time.Time{})
	s.mu.Lock()
	s.conn = tc
	s.mu.Unlock()
	s.r = bufio.NewReaderSize(tc, maxLine)
	s.tlsOn = true
	return nil
}
