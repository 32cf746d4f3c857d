package ftptest

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawClient is a minimal FTP client for the tests: it sends exactly what
// the test says and checks reply codes.
type rawClient struct {
	t    *testing.T
	conn net.Conn
	tp   *textproto.Conn
	tls  *tls.Config // set once AUTH TLS succeeded (or implicit)
	prot bool
}

// newServer starts a server over a fresh temporary root and closes it
// when the test ends.
func newServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	dir := t.TempDir()
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	srv := NewServer(dir, opts)
	t.Cleanup(srv.Close)
	return srv, dir
}

// dial connects and reads the greeting, which must be a 220.
func dial(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	c := dialNoGreet(t, srv)
	c.expect(220)
	return c
}

func dialNoGreet(t *testing.T, srv *Server) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	c := &rawClient{t: t, conn: conn, tp: textproto.NewConn(conn)}
	if srv.Options().TLS == TLSImplicit {
		c.startTLS(srv.ClientTLSConfig())
	}
	t.Cleanup(func() { c.conn.Close() })
	return c
}

func (c *rawClient) startTLS(cfg *tls.Config) {
	tc := tls.Client(c.conn, cfg)
	tc.SetDeadline(time.Now().Add(20 * time.Second))
	if err := tc.Handshake(); err != nil {
		c.t.Fatalf("TLS handshake: %v", err)
	}
	c.conn, c.tp, c.tls = tc, textproto.NewConn(tc), cfg
}

// read returns the next reply.
func (c *rawClient) read() (int, string) {
	c.t.Helper()
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return code, msg
}

// expect reads a reply and fails unless its code is want.
func (c *rawClient) expect(want int) string {
	c.t.Helper()
	code, msg := c.read()
	if code != want {
		c.t.Fatalf("reply %d %q, want %d", code, msg, want)
	}
	return msg
}

// cmd sends a command and returns its reply.
func (c *rawClient) cmd(format string, args ...any) (int, string) {
	c.t.Helper()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatalf("send %q: %v", format, err)
	}
	return c.read()
}

// must sends a command and fails unless the reply code is want.
func (c *rawClient) must(want int, format string, args ...any) string {
	c.t.Helper()
	code, msg := c.cmd(format, args...)
	if code != want {
		c.t.Fatalf("%s: reply %d %q, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

func (c *rawClient) login() {
	c.t.Helper()
	c.must(331, "USER test")
	c.must(230, "PASS test")
}

// authTLS runs explicit TLS setup with PBSZ 0 and PROT P.
func (c *rawClient) authTLS(cfg *tls.Config) {
	c.t.Helper()
	c.must(234, "AUTH TLS")
	c.startTLS(cfg)
	c.protect()
}

func (c *rawClient) protect() {
	c.t.Helper()
	c.must(200, "PBSZ 0")
	c.must(200, "PROT P")
	c.prot = true
}

var epsvRE = regexp.MustCompile(`\(\|\|\|(\d+)\|\)`)

// passive sends EPSV and connects to the port named.
func (c *rawClient) passive() net.Conn {
	c.t.Helper()
	msg := c.must(229, "EPSV")
	m := epsvRE.FindStringSubmatch(msg)
	if m == nil {
		c.t.Fatalf("EPSV reply %q has no port", msg)
	}
	return c.dialData(m[1])
}

func (c *rawClient) dialData(port string) net.Conn {
	c.t.Helper()
	d, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
	if err != nil {
		c.t.Fatalf("dial data: %v", err)
	}
	d.SetDeadline(time.Now().Add(20 * time.Second))
	c.t.Cleanup(func() { d.Close() })
	if c.prot {
		return tls.Client(d, c.tls)
	}
	return d
}

// active listens on 127.0.0.1 and sends EPRT for it.
func (c *rawClient) active() net.Listener {
	c.t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { ln.Close() })
	c.must(200, "EPRT |1|127.0.0.1|%d|", ln.Addr().(*net.TCPAddr).Port)
	return ln
}

// readData runs cmd over a fresh passive connection and returns the data
// and the final reply code.
func (c *rawClient) readData(format string, args ...any) ([]byte, int) {
	c.t.Helper()
	d := c.passive()
	c.must(150, format, args...)
	b, err := io.ReadAll(d)
	if err != nil {
		c.t.Fatalf("%s: read data: %v", fmt.Sprintf(format, args...), err)
	}
	d.Close()
	code, _ := c.read()
	return b, code
}

// list returns the lines of a listing command, which must end with 226.
func (c *rawClient) list(format string, args ...any) []string {
	c.t.Helper()
	b, code := c.readData(format, args...)
	if code != 226 {
		c.t.Fatalf("%s: final reply %d", fmt.Sprintf(format, args...), code)
	}
	return splitLines(c.t, b)
}

func splitLines(t *testing.T, b []byte) []string {
	t.Helper()
	s := string(b)
	if s == "" {
		return nil
	}
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatalf("listing %q does not end with CRLF", s)
	}
	return strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
}

// store uploads data with cmd over a fresh passive connection and returns
// the final reply code.
func (c *rawClient) store(data []byte, format string, args ...any) int {
	c.t.Helper()
	d := c.passive()
	c.must(150, format, args...)
	if _, err := d.Write(data); err != nil {
		c.t.Fatalf("write data: %v", err)
	}
	if err := d.Close(); err != nil {
		c.t.Fatalf("close data: %v", err)
	}
	code, _ := c.read()
	return code
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}
