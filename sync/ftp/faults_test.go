package ftp_test

// Fault tests: one scripted misbehaviour of a server per test, against the
// ftptest server and its hooks. Each asserts the exact outcome (typed error
// and code, command named in the text, Broken or a working connection
// afterwards) and never waits on a wall clock: a stall is bounded by
// ftp.Config.Timeout and checked against a longer context deadline, so a
// client that hangs fails with context.DeadlineExceeded instead of passing.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// stallTimeout is ftp.Config.Timeout in tests where the server stalls; the
// operation runs under a context of stallTimeout+stallSlack, so a client
// that waits longer than its Timeout fails with the context's error.
const (
	stallTimeout = 2 * time.Second
	stallSlack   = 1500 * time.Millisecond
)

// recorder collects the commands a server received ("CMD arg"), in order.
// Its hook never handles a command, so the server answers as usual.
type recorder struct {
	mu   sync.Mutex
	cmds []string
}

func (r *recorder) add(cmd, arg string) {
	if cmd == "" {
		return // the pre-greeting call
	}
	line := cmd
	if arg != "" {
		line += " " + arg
	}
	r.mu.Lock()
	r.cmds = append(r.cmds, line)
	r.mu.Unlock()
}

func (r *recorder) hook(s *ftptest.Session, cmd, arg string) bool {
	r.add(cmd, arg)
	return false
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.cmds)
}

// startServer runs an ftptest server over a fresh folder until the test
// ends.
func startServer(t *testing.T, opts ftptest.Options) (*ftptest.Server, string) {
	t.Helper()
	root := t.TempDir()
	srv := ftptest.NewServer(root, opts)
	t.Cleanup(srv.Close)
	return srv, root
}

func clientConfig(srv *ftptest.Server, timeout time.Duration) ftp.Config {
	return ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: timeout}
}

// dialServer logs in and closes the connection when the test ends.
func dialServer(t *testing.T, cfg ftp.Config) *ftp.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeRootFile(t *testing.T, root, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(root+"/"+name, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// stallCtx bounds an operation that must end by the client's own Timeout.
func stallCtx(t *testing.T) context.Context { return testCtx(t, stallTimeout+stallSlack) }

// checkTimeout asserts err is the client's own timeout (a deadline on the
// connection), not the test's context running out, and names what.
func checkTimeout(t *testing.T, err error, what string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("got no error, want a timeout naming %q", what)
	case errors.Is(err, context.DeadlineExceeded):
		t.Fatalf("the client waited past its Timeout (%v) until the test's deadline: %v", stallTimeout, err)
	case !errors.Is(err, os.ErrDeadlineExceeded):
		t.Fatalf("got %v, want an i/o timeout", err)
	case !strings.Contains(err.Error(), what):
		t.Errorf("error %q does not name %q", err, what)
	}
}

// checkUsableOrBroken asserts the connection either still works or says it
// must not be reused.
func checkUsableOrBroken(t *testing.T, c *ftp.Conn) {
	t.Helper()
	if c.Broken() {
		return
	}
	if err := c.Noop(testCtx(t, 10*time.Second)); err != nil {
		t.Errorf("connection not Broken but NOOP fails: %v", err)
	}
}

// pattern returns n recognisable bytes.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// ---- 1. Greeting and FEAT shapes ----

func TestFaultMultiLineBannerAndFeat(t *testing.T) {
	// Middle lines that start with digits, with another code or with the
	// same code and "-", must not end a reply (RFC 959 section 4.2).
	const banner = "220-Welcome to the test server\r\n" +
		"220-It has a long banner\r\n" +
		"123 a middle line that starts with digits\r\n" +
		"230 another code, still the middle\r\n" +
		"  220 indented, still the middle\r\n" +
		"220 ready\r\n"
	const feat = "211-Extensions supported:\r\n" +
		" EPSV\r\n" +
		" MDTM\r\n" +
		"211-MFMT listed with a reply prefix\r\n" +
		" MFMT\r\n" +
		" MLST type*;size*;modify*;\r\n" +
		" REST STREAM\r\n" +
		" SIZE\r\n" +
		" UTF8\r\n" +
		"211 End\r\n"
	cases := []struct {
		name string
		opts ftptest.Options
	}{
		{"raw banner and FEAT", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
			switch cmd {
			case "":
				s.WriteRaw([]byte(banner))
				return true
			case "FEAT":
				s.WriteRaw([]byte(feat))
				return true
			}
			return false
		}}},
		{"Options.Banner", ftptest.Options{Banner: []string{"Welcome", "220 looks like an end but is not", "421 nor is this", "ready"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, root := startServer(t, tc.opts)
			writeRootFile(t, root, "f", []byte("data"))
			c := dialServer(t, clientConfig(srv, 10*time.Second))
			if p, ok := c.Feature("MLST"); !ok || !strings.Contains(p, "size*") {
				t.Errorf("Feature(MLST) = %q, %v", p, ok)
			}
			for _, f := range []string{"MFMT", "UTF8", "EPSV", "SIZE"} {
				if _, ok := c.Feature(f); !ok {
					t.Errorf("Feature(%s) missing", f)
				}
			}
			if p, _ := c.Feature("REST"); p != "STREAM" {
				t.Errorf("Feature(REST) = %q, want STREAM", p)
			}
			// In step after the banner: the next reply belongs to NOOP.
			if err := c.Noop(testCtx(t, 10*time.Second)); err != nil {
				t.Errorf("Noop after multi-line banner: %v", err)
			}
			if n, err := c.Size(testCtx(t, 10*time.Second), "/f"); err != nil || n != 4 {
				t.Errorf("Size = %d, %v; want 4", n, err)
			}
		})
	}
}

// ---- 2. PASV naming another host ----

func TestFaultPASVForeignAddress(t *testing.T) {
	t.Parallel()
	var rec recorder
	srv, root := startServer(t, ftptest.Options{DisableEPSV: true, Hook: func(s *ftptest.Session, cmd, arg string) bool {
		rec.add(cmd, arg)
		if cmd == "PASV" {
			if err := s.PASVWithAddress(netip.MustParseAddr("10.1.2.3")); err != nil {
				s.Reply(425, err.Error())
			}
			return true
		}
		return false
	}})
	want := pattern(5000)
	writeRootFile(t, root, "f", want)
	cfg := clientConfig(srv, 10*time.Second)
	var mu sync.Mutex
	var dialed []string
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		dialed = append(dialed, addr)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := dialServer(t, cfg)
	ctx := testCtx(t, 20*time.Second)
	var buf bytes.Buffer
	n, err := c.Retr(ctx, "/f", 0, &buf)
	if err != nil || n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("Retr over a foreign PASV address = %d, %v (equal %v)", n, err, bytes.Equal(buf.Bytes(), want))
	}
	if _, err := c.List(ctx, "/"); err != nil {
		t.Errorf("List over a foreign PASV address: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(dialed) != 3 {
		t.Errorf("dialled %q, want control + 2 data connections", dialed)
	}
	for _, a := range dialed {
		if host, _, _ := net.SplitHostPort(a); host != "127.0.0.1" {
			t.Errorf("dialled %s: the client followed the PASV address", a)
		}
	}
	if got := rec.list(); !slices.Contains(got, "PASV") || !slices.Contains(got, "EPSV") {
		t.Errorf("commands %q: want EPSV refused, then PASV", got)
	}
}

// ---- 3. Data connection dropped mid-transfer ----

func TestFaultDataDroppedMidTransfer(t *testing.T) {
	const size, sent = 100000, 1000
	full := pattern(size)
	retrHook := func(fn func(s *ftptest.Session)) func(s *ftptest.Session, cmd, arg string) bool {
		return func(s *ftptest.Session, cmd, arg string) bool {
			if cmd == "RETR" {
				fn(s)
				return true
			}
			return false
		}
	}
	cases := []struct {
		name string
		opts ftptest.Options
		// code is the *ftp.Error code Retr must return; 0 means any
		// error, -1 means the client cannot tell (lying 226 after a clean
		// close) and only the count shows it.
		code int
	}{
		{"Options.DropDataAfter", ftptest.Options{DropDataAfter: sent}, 426},
		{"reset then 426", ftptest.Options{Hook: retrHook(func(s *ftptest.Session) {
			s.SendDataThenDrop(full[:sent], "426 Connection closed; transfer aborted.")
		})}, 426},
		{"reset then lying 226", ftptest.Options{Hook: retrHook(func(s *ftptest.Session) {
			s.SendDataThenDrop(full[:sent], "226 Transfer complete.")
		})}, 0},
		{"clean close then lying 226", ftptest.Options{Hook: retrHook(func(s *ftptest.Session) {
			s.ServeData(full[:sent], "226 Transfer complete.")
		})}, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, root := startServer(t, tc.opts)
			writeRootFile(t, root, "f", full)
			c := dialServer(t, clientConfig(srv, 10*time.Second))
			ctx := testCtx(t, 20*time.Second)
			want, err := c.Size(ctx, "/f")
			if err != nil || want != size {
				t.Fatalf("Size = %d, %v", want, err)
			}
			var buf bytes.Buffer
			n, err := c.Retr(ctx, "/f", 0, &buf)
			if n != int64(buf.Len()) || n > sent {
				t.Errorf("Retr returned count %d, wrote %d bytes; the server sent %d", n, buf.Len(), sent)
			}
			switch tc.code {
			case -1:
				// Nothing on the wire says the file was cut: the count
				// is the caller's only evidence, and it must be exact.
				if err != nil || n != sent {
					t.Errorf("Retr = %d, %v; want %d bytes and no error", n, err, sent)
				}
				if n >= want {
					t.Errorf("count %d does not reveal the short transfer (SIZE %d)", n, want)
				}
			case 0:
				if err == nil {
					t.Fatalf("Retr = %d, nil; want an error for a reset data connection", n)
				}
			default:
				var fe *ftp.Error
				if !errors.As(err, &fe) || fe.Code != tc.code || fe.Cmd != "RETR /f" {
					t.Fatalf("Retr error %v, want *ftp.Error %d for RETR /f", err, tc.code)
				}
			}
			if err != nil && !strings.Contains(err.Error(), "RETR /f") {
				t.Errorf("error %q does not name the command", err)
			}
			checkUsableOrBroken(t, c)
		})
	}
}

// ---- 4. Stalls ----

// stallOn is a hook that never answers cmd, and with reply150 first says
// 150 (so the client waits on the data connection instead). It signals
// reached once it got there, when reached is not nil.
func stallOn(cmd string, reply150 bool, reached chan<- struct{}) func(s *ftptest.Session, c, arg string) bool {
	var once sync.Once
	return func(s *ftptest.Session, c, arg string) bool {
		if c != cmd {
			return false
		}
		if reply150 {
			s.Reply(150, "Here comes nothing.")
		}
		if reached != nil {
			once.Do(func() { close(reached) })
		}
		s.Stall()
		return true
	}
}

func TestFaultStallTimesOut(t *testing.T) {
	cases := []struct {
		name string
		opts ftptest.Options
		op   func(ctx context.Context, c *ftp.Conn) error
		what string // the command the error must name
	}{
		{"RETR without reply", ftptest.Options{Hook: stallOn("RETR", false, nil)}, retrF, "RETR /f"},
		{"RETR after 150", ftptest.Options{Hook: stallOn("RETR", true, nil)}, retrF, "RETR /f"},
		{"MLSD without reply", ftptest.Options{Hook: stallOn("MLSD", false, nil)}, listRoot, "MLSD /"},
		{"MLSD after 150", ftptest.Options{Hook: stallOn("MLSD", true, nil)}, listRoot, "MLSD /"},
		{"LIST without reply", ftptest.Options{DisableMLSD: true, Hook: stallOn("LIST", false, nil)}, listRoot, "LIST -a"},
		{"LIST after 150", ftptest.Options{DisableMLSD: true, Hook: stallOn("LIST", true, nil)}, listRoot, "LIST -a"},
		{"STOR after 150 (server never reads)", ftptest.Options{Hook: stallOn("STOR", true, nil)}, storBig, "STOR /up"},
		{"NOOP", ftptest.Options{Hook: stallOn("NOOP", false, nil)}, func(ctx context.Context, c *ftp.Conn) error { return c.Noop(ctx) }, "NOOP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, root := startServer(t, tc.opts)
			writeRootFile(t, root, "f", pattern(1000))
			c := dialServer(t, clientConfig(srv, stallTimeout))
			err := tc.op(stallCtx(t), c)
			checkTimeout(t, err, tc.what)
			if !c.Broken() {
				t.Errorf("Broken() = false after a timeout mid-reply")
			}
		})
	}
}

func retrF(ctx context.Context, c *ftp.Conn) error {
	_, err := c.Retr(ctx, "/f", 0, io.Discard)
	return err
}

func listRoot(ctx context.Context, c *ftp.Conn) error {
	_, err := c.List(ctx, "/")
	return err
}

// storBig uploads far more than the socket buffers hold.
func storBig(ctx context.Context, c *ftp.Conn) error {
	_, err := c.Stor(ctx, "/up", 0, io.LimitReader(zeros{}, 1<<30))
	return err
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestFaultStallBeforeGreeting(t *testing.T) {
	t.Parallel()
	srv, _ := startServer(t, ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "" {
			s.Stall()
			return true
		}
		return false
	}})
	c, err := ftp.Dial(stallCtx(t), clientConfig(srv, stallTimeout))
	if err == nil {
		c.Close()
	}
	checkTimeout(t, err, "greeting")
}

// TestFaultCancelAbortsPromptly cancels the context while the client waits
// for a stalled server, with a Timeout far longer than the test may take:
// the operation must end with context.Canceled at once, not at Timeout.
func TestFaultCancelAbortsPromptly(t *testing.T) {
	const timeout = 20 * time.Second
	cases := []struct {
		name     string
		cmd      string
		reply150 bool
		op       func(ctx context.Context, c *ftp.Conn) error
	}{
		{"waiting for RETR's 150", "RETR", false, retrF},
		{"reading RETR's data", "RETR", true, retrF},
		{"reading MLSD's data", "MLSD", true, listRoot},
		{"writing STOR's data", "STOR", true, storBig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reached := make(chan struct{})
			srv, root := startServer(t, ftptest.Options{Hook: stallOn(tc.cmd, tc.reply150, reached)})
			writeRootFile(t, root, "f", pattern(1000))
			cfg := clientConfig(srv, timeout)
			// Signal once the client blocks on the data connection, so
			// the cancellation lands mid-transfer, not before it.
			dataBusy := make(chan struct{})
			var dataOnce sync.Once
			cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				var d net.Dialer
				nc, err := d.DialContext(ctx, network, addr)
				if err != nil || addr == srv.Addr {
					return nc, err
				}
				return &signalConn{Conn: nc, busy: func() { dataOnce.Do(func() { close(dataBusy) }) }}, nil
			}
			c := dialServer(t, cfg)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-reached
				if tc.reply150 {
					<-dataBusy
				}
				cancel()
			}()
			start := time.Now()
			err := tc.op(ctx, c)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > timeout/4 {
				t.Errorf("cancellation took %v (Timeout %v): not prompt", d, timeout)
			}
			if !strings.Contains(err.Error(), tc.cmd) {
				t.Errorf("error %q does not name %s", err, tc.cmd)
			}
			if !c.Broken() {
				t.Errorf("Broken() = false after cancelling mid-command")
			}
		})
	}
}

// TestFaultCancelledBeforeStart calls operations with a context that is
// already cancelled, on a connection that may have a prefetched EPSV reply
// still unread: they fail with context.Canceled, and the connection either
// says it is Broken or still answers every later command correctly.
func TestFaultCancelledBeforeStart(t *testing.T) {
	ops := []struct {
		name string
		op   func(ctx context.Context, c *ftp.Conn) error
	}{
		{"Noop", func(ctx context.Context, c *ftp.Conn) error { return c.Noop(ctx) }},
		{"Retr", retrF},
		{"List", listRoot},
		{"Rename", func(ctx context.Context, c *ftp.Conn) error { return c.Rename(ctx, "/f", "/g") }},
	}
	for _, prefetch := range []bool{false, true} {
		for _, o := range ops {
			t.Run(fmt.Sprintf("%s/prefetch=%v", o.name, prefetch), func(t *testing.T) {
				t.Parallel()
				srv, root := startServer(t, ftptest.Options{})
				writeRootFile(t, root, "f", pattern(1234))
				c := dialServer(t, clientConfig(srv, 10*time.Second))
				c.SetPrefetch(prefetch)
				ctx := testCtx(t, 20*time.Second)
				if _, err := c.Retr(ctx, "/f", 0, io.Discard); err != nil { // leaves an EPSV in flight
					t.Fatal(err)
				}
				cancelled, cancel := context.WithCancel(context.Background())
				cancel()
				if err := o.op(cancelled, c); !errors.Is(err, context.Canceled) {
					t.Fatalf("%s with a cancelled context: %v, want context.Canceled", o.name, err)
				}
				if c.Broken() {
					return
				}
				if n, err := c.Size(ctx, "/f"); err != nil || n != 1234 {
					t.Errorf("Size after a cancelled %s = %d, %v; want 1234 (replies out of step?)", o.name, n, err)
				}
				var buf bytes.Buffer
				if n, err := c.Retr(ctx, "/f", 0, &buf); err != nil || n != 1234 {
					t.Errorf("Retr after a cancelled %s = %d, %v", o.name, n, err)
				}
				checkUsableOrBroken(t, c)
			})
		}
	}
}

// signalConn calls busy whenever a Read or Write starts.
type signalConn struct {
	net.Conn
	busy func()
}

func (c *signalConn) Read(p []byte) (int, error) {
	c.busy()
	return c.Conn.Read(p)
}

func (c *signalConn) Write(p []byte) (int, error) {
	c.busy()
	return c.Conn.Write(p)
}

// ---- 5. Malformed replies ----

func TestFaultMalformedReply(t *testing.T) {
	cases := []struct {
		name     string
		raw      string
		close    bool
		protocol bool // a *ftp.ProtocolError is expected (else any error)
	}{
		{"garbage line", "hello, I am not an FTP server\r\n", false, true},
		{"code out of range", "600 six hundred\r\n", false, true},
		{"bad separator", "200xok\r\n", false, true},
		{"binary junk", "\x00\xff\xfe\r\n", false, true},
		{"line over 8 KiB", "200 " + strings.Repeat("x", 9<<10) + "\r\n", false, true},
		{"line over 8 KiB without end", "200 " + strings.Repeat("x", 64<<10), false, true},
		{"no CRLF then close", "200 NOOP ok", true, true},
		{"multi-line never ended, then close", "200-first\r\n middle\r\n", true, true},
		{"too many lines", "200-start\r\n" + strings.Repeat(" line\r\n", 5000) + "200 end\r\n", false, true},
		{"close without reply", "", true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := startServer(t, ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != "NOOP" {
					return false
				}
				if tc.raw != "" {
					s.WriteRaw([]byte(tc.raw))
				}
				if tc.close {
					s.Close()
				}
				return true
			}})
			c := dialServer(t, clientConfig(srv, 10*time.Second))
			err := c.Noop(stallCtx(t))
			if err == nil {
				t.Fatal("Noop accepted a malformed reply")
			}
			var pe *ftp.ProtocolError
			if tc.protocol && !errors.As(err, &pe) {
				t.Fatalf("got %v (%T), want *ftp.ProtocolError", err, err)
			}
			if pe != nil && pe.Cmd != "NOOP" {
				t.Errorf("ProtocolError.Cmd = %q, want NOOP", pe.Cmd)
			}
			if !strings.Contains(err.Error(), "NOOP") {
				t.Errorf("error %q does not name NOOP", err)
			}
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("client waited for more instead of rejecting the reply: %v", err)
			}
			if !c.Broken() {
				t.Error("Broken() = false after a malformed reply")
			}
		})
	}
}

// ---- 6. Too many connections ----

// TestFault421ShrinksPool: the server takes 2 logins and answers 421 to
// more. Four concurrent Gets on a pool of 4 must all end with a working
// connection and no error: those that met 421 (or the limit it lowered)
// wait for the first two to be put back.
func TestFault421ShrinksPool(t *testing.T) {
	var users atomic.Int32
	cases := []struct {
		name string
		opts ftptest.Options
	}{
		{"421 to USER from the third login", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
			if cmd == "USER" && users.Add(1) >= 3 {
				s.Reply(421, "Too many connections (2) from this IP")
				s.Close()
				return true
			}
			return false
		}}},
		{"Options.MaxConns", ftptest.Options{MaxConns: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, _ := startServer(t, tc.opts)
			var dials atomic.Int32
			allDialled := make(chan struct{})
			cfg := clientConfig(srv, 10*time.Second)
			cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				var d net.Dialer
				nc, err := d.DialContext(ctx, network, addr)
				if addr == srv.Addr && dials.Add(1) == 3 {
					close(allDialled)
				}
				return nc, err
			}
			pool := ftp.NewPool(cfg, 4)
			t.Cleanup(func() { pool.Close() })
			ctx := testCtx(t, 30*time.Second)

			type got struct {
				c   *ftp.Conn
				err error
			}
			results := make(chan got, 4)
			for range 4 {
				go func() {
					c, err := pool.Get(ctx)
					results <- got{c, err}
				}()
			}
			// Two logins succeed; the other two meet 421 and wait.
			var first []*ftp.Conn
			for range 2 {
				r := <-results
				if r.err != nil {
					t.Fatalf("Get: %v", r.err)
				}
				first = append(first, r.c)
			}
			// A third connection was made while both logins were open,
			// so a 421 is certain; only then give the connections back.
			// (The fourth Get may have dialled and met 421 too, or be
			// waiting at the lowered limit, or come after the Puts.)
			select {
			case <-allDialled:
			case <-ctx.Done():
				t.Fatalf("only %d connections dialled", dials.Load())
			}
			for _, c := range first {
				if err := c.Noop(ctx); err != nil {
					t.Errorf("Noop on a pooled connection: %v", err)
				}
				pool.Put(c)
			}
			for range 2 {
				r := <-results
				if r.err != nil {
					t.Fatalf("Get that met 421 returned an error: %v", r.err)
				}
				if !slices.Contains(first, r.c) {
					t.Errorf("Get that met 421 got a new connection, want one put back")
				}
				if err := r.c.Noop(ctx); err != nil {
					t.Errorf("Noop on the reused connection: %v", err)
				}
				pool.Put(r.c)
			}
			if got := pool.Profile().MaxConns; got != 2 {
				t.Errorf("Profile().MaxConns = %d, want 2", got)
			}
			if got := srv.Logins(); got != 2 {
				t.Errorf("server saw %d logins, want 2", got)
			}
			if got := srv.Accepted(); got != 3 && got != 4 {
				t.Errorf("server accepted %d connections, want 3 or 4", got)
			}
		})
	}
}

// ---- 7. Unsafe names in listings ----

func TestFaultListingTraversalNames(t *testing.T) {
	now := time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		opts  ftptest.Options
		lines []string
		good  []string
		bad   []string // names reported as *ftp.BadNameError
	}{
		{
			name: "MLSD",
			lines: []string{
				"type=cdir;modify=20240101000000; /d",
				"type=pdir;modify=20240101000000; /",
				"type=dir;modify=20240101000000; .",
				"type=dir;modify=20240101000000; ..",
				"type=file;size=1;modify=20240101000000; ../evil",
				"type=file;size=1; a/b",
				`type=file;size=1; a\b`,
				"type=file;size=1; ..",
				"type=file;size=1; .",
				"type=file;size=1; ",
				"type=dir;modify=20240101000000; /etc",
				"type=file;size=1; nul\x00byte",
				"type=file;size=3;modify=20240101000000; good.txt",
				"type=dir;modify=20240101000000; sub",
				"type=file;size=2;modify=20240101000000;  leading space",
			},
			good: []string{"good.txt", "sub", " leading space"},
			bad:  []string{"../evil", "a/b", `a\b`, "..", ".", "", "/etc", "nul\x00byte"},
		},
		{
			name: "LIST",
			opts: ftptest.Options{DisableMLSD: true},
			lines: []string{
				"total 3",
				"drwxr-xr-x 2 u g 4096 Nov 24 06:31 .",
				"drwxr-xr-x 2 u g 4096 Nov 24 06:31 ..",
				"-rw-r--r-- 1 u g 1 Nov 24 06:31 ../x",
				"-rw-r--r-- 1 u g 1 Nov 24 06:31 ..",
				"-rw-r--r-- 1 u g 1 Nov 24 06:31 a/b",
				"drwxr-xr-x 2 u g 4096 Nov 24 06:31 ../../up",
				"-rw-r--r-- 1 u g 5 Nov 24 06:31 good.txt",
				"drwxr-xr-x 2 u g 4096 Nov 24 06:31 sub",
			},
			good: []string{"good.txt", "sub"},
			bad:  []string{"../x", "..", "a/b", "../../up"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			opts := tc.opts
			opts.Hook = func(s *ftptest.Session, cmd, arg string) bool {
				if cmd == "MLSD" || cmd == "LIST" {
					s.ServeList(tc.lines, "")
					return true
				}
				return false
			}
			srv, root := startServer(t, opts)
			if err := os.Mkdir(root+"/d", 0o755); err != nil {
				t.Fatal(err)
			}
			cfg := clientConfig(srv, 10*time.Second)
			cfg.Now = func() time.Time { return now }
			c := dialServer(t, cfg)
			entries, err := c.List(testCtx(t, 20*time.Second), "/d")
			var names []string
			for _, e := range entries {
				names = append(names, e.Name)
			}
			if !slices.Equal(names, tc.good) {
				t.Errorf("entries %q, want %q", names, tc.good)
			}
			var ie *ftp.IncompleteError
			if !errors.As(err, &ie) {
				t.Fatalf("List error %v, want *ftp.IncompleteError", err)
			}
			if ie.Dir != "/d" {
				t.Errorf("IncompleteError.Dir = %q", ie.Dir)
			}
			var badNames []string
			for _, p := range ie.Problems {
				var bn *ftp.BadNameError
				if !errors.As(p, &bn) {
					t.Errorf("problem %v is not a *ftp.BadNameError", p)
					continue
				}
				badNames = append(badNames, bn.Name)
			}
			if !slices.Equal(badNames, tc.bad) {
				t.Errorf("bad names %q, want %q", badNames, tc.bad)
			}
			var bn *ftp.BadNameError
			if !errors.As(err, &bn) {
				t.Error("errors.As(err, *BadNameError) fails through IncompleteError")
			}
			checkUsableOrBroken(t, c)
		})
	}
}

// ---- 8. Truncated listings ----

func TestFaultListTruncated(t *testing.T) {
	cases := []struct {
		name string
		opts ftptest.Options
	}{
		{"MLSD", ftptest.Options{ListLimit: 5}},
		{"LIST", ftptest.Options{ListLimit: 5, DisableMLSD: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv, root := startServer(t, tc.opts)
			for i := range 8 {
				writeRootFile(t, root, fmt.Sprintf("file%d", i), []byte("x"))
			}
			c := dialServer(t, clientConfig(srv, 10*time.Second))
			entries, err := c.List(testCtx(t, 20*time.Second), "/")
			if !errors.Is(err, ftp.ErrTruncated) {
				t.Fatalf("List error %v, want ErrTruncated", err)
			}
			var ie *ftp.IncompleteError
			if !errors.As(err, &ie) || ie.Dir != "/" {
				t.Errorf("List error %v, want *ftp.IncompleteError for /", err)
			}
			if len(entries) == 0 || len(entries) > 5 {
				t.Errorf("List returned %d entries, want the 1-5 the server sent", len(entries))
			}
			checkUsableOrBroken(t, c)
		})
	}
}

// ---- 9. OPTS UTF8 ON refused ----

func TestFaultUTF8Reply504(t *testing.T) {
	t.Parallel()
	var rec recorder
	srv, root := startServer(t, ftptest.Options{UTF8Reply504: true, Hook: rec.hook})
	name := "héllo wörld ✓.txt"
	writeRootFile(t, root, name, []byte("utf8"))
	var trace []string
	cfg := clientConfig(srv, 10*time.Second)
	cfg.Trace = func(l string) { trace = append(trace, l) }
	c := dialServer(t, cfg)
	if !slices.Contains(rec.list(), "OPTS UTF8 ON") {
		t.Errorf("commands %q lack OPTS UTF8 ON", rec.list())
	}
	if !slices.ContainsFunc(trace, func(l string) bool { return strings.HasPrefix(l, "< 504") }) {
		t.Errorf("trace %q shows no 504", trace)
	}
	if n, err := c.Size(testCtx(t, 10*time.Second), "/"+name); err != nil || n != 4 {
		t.Errorf("Size of a UTF-8 name after 504 = %d, %v", n, err)
	}
}

// ---- 10. REST before STOR refused ----

func TestFaultRestStorRefused(t *testing.T) {
	t.Parallel()
	srv, root := startServer(t, ftptest.Options{RefuseRestSTOR: true})
	c := dialServer(t, clientConfig(srv, 10*time.Second))
	ctx := testCtx(t, 20*time.Second)
	full := pattern(300)
	if _, err := c.Stor(ctx, "/f", 0, bytes.NewReader(full[:100])); err != nil {
		t.Fatalf("Stor: %v", err)
	}
	_, err := c.Stor(ctx, "/f", 100, bytes.NewReader(full[100:]))
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 451 || fe.Cmd != "STOR /f" {
		t.Fatalf("Stor at offset 100 = %v, want *ftp.Error 451 for STOR /f", err)
	}
	if !fe.Transient() {
		t.Error("451 not Transient")
	}
	if c.Broken() {
		t.Fatal("Broken() after a refused REST+STOR")
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("Noop after 451: %v", err)
	}
	// The caller's fallback: the whole file.
	if n, err := c.Stor(ctx, "/f", 0, bytes.NewReader(full)); err != nil || n != int64(len(full)) {
		t.Fatalf("Stor of the whole file after 451 = %d, %v", n, err)
	}
	if b, err := os.ReadFile(root + "/f"); err != nil || !bytes.Equal(b, full) {
		t.Errorf("file on disk: %d bytes, %v", len(b), err)
	}
}

// ---- 11. CR/LF injection ----

func TestFaultCRLFInjection(t *testing.T) {
	t.Parallel()
	var rec recorder
	srv, root := startServer(t, ftptest.Options{Hook: rec.hook})
	writeRootFile(t, root, "x", []byte("keep me"))
	c := dialServer(t, clientConfig(srv, 10*time.Second))
	ctx := testCtx(t, 20*time.Second)
	mtime := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ops := []struct {
		name string
		op   func(p string) error
	}{
		{"Mkdir", func(p string) error { return c.Mkdir(ctx, p) }},
		{"Rmdir", func(p string) error { return c.Rmdir(ctx, p) }},
		{"Delete", func(p string) error { return c.Delete(ctx, p) }},
		{"Cwd", func(p string) error { return c.Cwd(ctx, p) }},
		{"Rename from", func(p string) error { return c.Rename(ctx, p, "/y") }},
		{"Rename to", func(p string) error { return c.Rename(ctx, "/x", p) }},
		{"Size", func(p string) error { _, err := c.Size(ctx, p); return err }},
		{"ModTime", func(p string) error { _, err := c.ModTime(ctx, p); return err }},
		{"SetModTime", func(p string) error { return c.SetModTime(ctx, p, mtime) }},
		{"Stat", func(p string) error { _, err := c.Stat(ctx, p); return err }},
		{"List", func(p string) error { _, err := c.List(ctx, p); return err }},
		{"Retr", func(p string) error { _, err := c.Retr(ctx, p, 0, io.Discard); return err }},
		{"Stor", func(p string) error { _, err := c.Stor(ctx, p, 0, strings.NewReader("z")); return err }},
		{"Append", func(p string) error { _, err := c.Append(ctx, p, strings.NewReader("z")); return err }},
	}
	for _, inj := range []string{"a\r\nDELE x", "a\nDELE x", "a\rDELE x", "a\x00DELE x"} {
		for _, o := range ops {
			if err := o.op(inj); err == nil {
				t.Errorf("%s(%q) succeeded", o.name, inj)
			}
			if c.Broken() {
				t.Fatalf("%s(%q) broke the connection: it must refuse before writing", o.name, inj)
			}
		}
	}
	// The server answers in order: once NOOP is answered, it has seen
	// everything the client wrote before.
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("Noop: %v", err)
	}
	want := []string{"USER test", "PASS test", "FEAT", "TYPE I", "OPTS UTF8 ON", "NOOP"}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Errorf("server received %q, want only %q", got, want)
	}
	if b, err := os.ReadFile(root + "/x"); err != nil || string(b) != "keep me" {
		t.Errorf("x after injection attempts: %q, %v", b, err)
	}

	// Credentials are checked before anything is sent.
	for _, cfg := range []ftp.Config{
		{Addr: srv.Addr, User: "test\r\nDELE x", Password: "test"},
		{Addr: srv.Addr, User: "test", Password: "test\r\nDELE x"},
	} {
		before := srv.Accepted()
		if c, err := ftp.Dial(ctx, cfg); err == nil {
			c.Close()
			t.Errorf("Dial with user %q password %q succeeded", cfg.User, cfg.Password)
		}
		if srv.Accepted() != before {
			t.Errorf("Dial with a line break in the credentials connected")
		}
	}
}

// ---- 12. Password never traced ----

func TestFaultTraceMasksPassword(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-Pa55w0rd"
	srv, _ := startServer(t, ftptest.Options{Password: secret})
	var trace []string
	cfg := clientConfig(srv, 10*time.Second)
	cfg.Password = secret
	cfg.Trace = func(l string) { trace = append(trace, l) }
	c := dialServer(t, cfg)
	if err := c.Noop(testCtx(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(trace, "> PASS ****") {
		t.Errorf("trace lacks %q: %q", "> PASS ****", trace)
	}
	if !slices.Contains(trace, "> USER "+ftptest.DefaultUser) || !slices.Contains(trace, "> NOOP") {
		t.Errorf("trace lacks the dialogue: %q", trace)
	}
	for _, l := range trace {
		if strings.Contains(l, secret) {
			t.Errorf("trace line %q shows the password", l)
		}
	}

	// A refused login names PASS, not the password.
	cfg.Password = secret + "-wrong"
	cfg.Trace = nil
	_, err := ftp.Dial(testCtx(t, 10*time.Second), cfg)
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 530 || fe.Cmd != "PASS ****" {
		t.Fatalf("Dial with a wrong password = %v, want *ftp.Error 530 for PASS ****", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q shows the password", err)
	}
}
