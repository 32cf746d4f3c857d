package ftpd

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// client is a bare control connection, enough to check a server is usable.
type client struct {
	t    testing.TB
	conn net.Conn
	tp   *textproto.Conn
}

// dial connects, reads the 220 greeting and, with TLS, upgrades the control
// connection (AUTH TLS, PBSZ 0, PROT P: RFC 4217 sections 4 and 9).
func dial(t testing.TB, s *Server) *client {
	t.Helper()
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{t: t, conn: conn, tp: textproto.NewConn(conn)}
	c.deadline()
	if _, _, err := c.tp.ReadResponse(220); err != nil {
		t.Fatalf("%s greeting: %v", s.Kind, err)
	}
	if s.TLS {
		c.cmd(234, "AUTH TLS")
		tc := tls.Client(conn, s.TLSConfig())
		c.conn, c.tp = tc, textproto.NewConn(tc)
		c.deadline()
		if err := tc.Handshake(); err != nil {
			t.Fatalf("%s TLS handshake: %v", s.Kind, err)
		}
		c.cmd(200, "PBSZ 0")
		c.cmd(200, "PROT P")
	}
	return c
}

func (c *client) deadline() { c.conn.SetDeadline(time.Now().Add(10 * time.Second)) }

// cmd sends one command and returns the reply text; the reply code must be
// want.
func (c *client) cmd(want int, format string, args ...any) string {
	c.t.Helper()
	code, msg := c.try(format, args...)
	if code != want {
		c.t.Fatalf("%s: got %d %s, want %d", fmt.Sprintf(format, args...), code, msg, want)
	}
	return msg
}

// try sends one command and returns the reply.
func (c *client) try(format string, args ...any) (int, string) {
	c.t.Helper()
	c.deadline()
	if err := c.tp.PrintfLine(format, args...); err != nil {
		c.t.Fatalf("send %s: %v", fmt.Sprintf(format, args...), err)
	}
	code, msg, err := c.tp.ReadResponse(0)
	if err != nil {
		c.t.Fatalf("reply to %s: %v", fmt.Sprintf(format, args...), err)
	}
	return code, msg
}

func (c *client) login(s *Server) {
	c.t.Helper()
	c.cmd(331, "USER %s", s.User)
	c.cmd(230, "PASS %s", s.Password)
	c.cmd(200, "TYPE I") // proftpd refuses SIZE in ASCII mode
}

func (c *client) size(name string) int {
	c.t.Helper()
	msg := c.cmd(213, "SIZE %s", name)
	n, err := strconv.Atoi(strings.TrimSpace(msg))
	if err != nil {
		c.t.Fatalf("SIZE %s: reply %q: %v", name, msg, err)
	}
	return n
}

func (c *client) quit() {
	c.t.Helper()
	c.cmd(221, "QUIT")
}

func TestStartServesRootToTestUser(t *testing.T) {
	for _, kind := range Kinds() {
		for _, tlsOn := range []bool{false, true} {
			name := kind + "/plain"
			if tlsOn {
				name = kind + "/tls"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				begin := time.Now()
				s := Start(t, kind, Options{TLS: tlsOn})
				t.Logf("%s started in %v", name, time.Since(begin).Round(time.Millisecond))
				if s.Kind != kind || s.Host != "127.0.0.1" || s.TLS != tlsOn {
					t.Fatalf("server = %+v, want kind %s on 127.0.0.1, TLS %v", s, kind, tlsOn)
				}
				if tlsOn && s.CAFile == "" || !tlsOn && s.CAFile != "" {
					t.Fatalf("CAFile = %q with TLS %v", s.CAFile, tlsOn)
				}
				wantURL := fmt.Sprintf("ftp://ferrytest:ferrytest@127.0.0.1:%d/", s.Port)
				if s.URL() != wantURL {
					t.Errorf("URL() = %q, want %q", s.URL(), wantURL)
				}
				content := []byte("ferry writes " + name + "\n")
				s.WriteFile(t, "sub/dir/file.txt", content, time.Time{})
				mtime := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
				s.WriteFile(t, "top.bin", bytes.Repeat([]byte{7}, 1234), mtime)

				c := dial(t, s)
				c.login(s)
				if pwd := c.cmd(257, "PWD"); !strings.HasPrefix(pwd, `"/"`) {
					t.Errorf("PWD = %q, want the root %q", pwd, "/")
				}
				if got := c.size("/sub/dir/file.txt"); got != len(content) {
					t.Errorf("SIZE /sub/dir/file.txt = %d, want %d", got, len(content))
				}
				if got := c.size("top.bin"); got != 1234 {
					t.Errorf("SIZE top.bin = %d, want 1234", got)
				}
				if got := strings.TrimSpace(c.cmd(213, "MDTM top.bin")); got != mtime.Format("20060102150405") {
					t.Errorf("MDTM top.bin = %s, want %s", got, mtime.Format("20060102150405"))
				}
				c.cmd(257, "MKD made-over-ftp")
				fi, err := os.Stat(filepath.Join(s.Root, "made-over-ftp"))
				if err != nil || !fi.IsDir() {
					t.Fatalf("folder made over FTP not in Root: %v", err)
				}
				if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != s.UID {
					t.Errorf("folder made over FTP has owner %d, want %d", st.Uid, s.UID)
				}
				c.cmd(250, "DELE sub/dir/file.txt")
				if _, err := os.Stat(filepath.Join(s.Root, "sub/dir/file.txt")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("file deleted over FTP still on disk: %v", err)
				}
				c.quit()
			})
		}
	}
}

// TestTLSServerRefusesPlainLogin pins "TLS required on control": a client
// that skips AUTH TLS cannot log in. The reply code differs per server.
func TestTLSServerRefusesPlainLogin(t *testing.T) {
	tests := []struct {
		kind string
		want int // reply to USER
	}{
		{"vsftpd", 530},    // "Non-anonymous sessions must use encryption."
		{"pure-ftpd", 421}, // "Sorry, cleartext sessions ... are not accepted", then hangs up
		{"proftpd", 550},   // "SSL/TLS required on the control channel"
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			s := Start(t, tt.kind, Options{TLS: true})
			c := dial(t, &Server{Kind: s.Kind, Host: s.Host, Port: s.Port}) // no AUTH TLS
			if code, msg := c.try("USER %s", s.User); code != tt.want {
				t.Errorf("USER without TLS: got %d %s, want %d", code, msg, tt.want)
			}
		})
	}
}

func TestTwoInstancesOfOneKindAreSeparate(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			a := Start(t, kind, Options{})
			b := Start(t, kind, Options{})
			if a.Port == b.Port || a.Root == b.Root || a.PID == b.PID {
				t.Fatalf("instances share port, root or pid: %+v and %+v", a, b)
			}
			if a.PasvMin <= b.PasvMax && b.PasvMin <= a.PasvMax {
				t.Errorf("passive ranges overlap: %d-%d and %d-%d", a.PasvMin, a.PasvMax, b.PasvMin, b.PasvMax)
			}
			a.WriteFile(t, "only-in-a", []byte("a"), time.Time{})
			ca, cb := dial(t, a), dial(t, b)
			ca.login(a)
			cb.login(b)
			if got := ca.size("only-in-a"); got != 1 {
				t.Errorf("SIZE only-in-a on a = %d, want 1", got)
			}
			if code, msg := cb.try("SIZE only-in-a"); code != 550 {
				t.Errorf("SIZE only-in-a on b = %d %s, want 550", code, msg)
			}
			ca.quit()
			cb.quit()
		})
	}
}

// TestExtraReachesServer: Options.Extra lines or arguments take effect;
// each case makes MKD of ".hidden" fail where it would succeed stock.
func TestExtraReachesServer(t *testing.T) {
	tests := []struct {
		kind  string
		extra []string
		want  int // reply to MKD .hidden
	}{
		{"vsftpd", []string{"cmds_denied=MKD,XMKD"}, 550},
		{"pure-ftpd", []string{"-X"}, 553}, // no access to dot files: "Prohibited directory name"
		{"proftpd", []string{"<Limit MKD XMKD>", "  DenyAll", "</Limit>"}, 550},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			stock := Start(t, tt.kind, Options{})
			extra := Start(t, tt.kind, Options{Extra: tt.extra})
			cs, ce := dial(t, stock), dial(t, extra)
			cs.login(stock)
			ce.login(extra)
			cs.cmd(257, "MKD .hidden")
			if code, msg := ce.try("MKD .hidden"); code != tt.want {
				t.Errorf("MKD with Extra %q: got %d %s, want %d", tt.extra, code, msg, tt.want)
			}
		})
	}
}

// TestCleanupStopsDaemonAndSessions: after the test that started it, the
// server's process group is empty and its folder gone, even with a client
// still logged in.
func TestCleanupStopsDaemonAndSessions(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			var pid int
			var dir string
			t.Run("run", func(t *testing.T) {
				s := Start(t, kind, Options{})
				pid, dir = s.PID, s.Dir
				c := dial(t, s)
				c.login(s)
				c.cmd(257, "PWD") // session stays open
			})
			if pid == 0 {
				t.Fatal("server did not start")
			}
			if members := groupMembers(pid); len(members) > 0 {
				t.Errorf("process group %d still has members %v", pid, members)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("folder %s not removed: %v", dir, err)
			}
		})
	}
}

func TestStartRejectsUnknownKind(t *testing.T) {
	_, err := start(context.Background(), "wu-ftpd", Options{})
	if err == nil {
		t.Fatal("start of an unknown kind succeeded")
	}
	var ue *UnavailableError
	if errors.As(err, &ue) {
		t.Errorf("unknown kind reported as unavailable (would be skipped): %v", err)
	}
}

func TestKindsAreFixed(t *testing.T) {
	got := Kinds()
	want := []string{"vsftpd", "pure-ftpd", "proftpd"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	got[0] = "changed"
	if Kinds()[0] != "vsftpd" {
		t.Error("Kinds() returns a shared slice")
	}
}

// TestEnvAndRestart: Options.Env reaches the daemon (vsftpd with
// use_localtime=YES answers MDTM in the zone of its TZ), and Restart brings
// the same instance back, files kept, with other options.
func TestEnvAndRestart(t *testing.T) {
	mtime := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	s := Start(t, "vsftpd", Options{Env: []string{"TZ=Asia/Kolkata"}, Extra: []string{"use_localtime=YES"}})
	s.WriteFile(t, "f", []byte("x"), mtime)
	mdtm := func() string {
		c := dial(t, s)
		c.login(s)
		defer c.quit()
		return strings.TrimSpace(c.cmd(213, "MDTM f"))
	}
	if got, want := mdtm(), "20250115173000"; got != want {
		t.Errorf("MDTM under TZ=Asia/Kolkata = %s, want %s", got, want)
	}
	port, root := s.Port, s.Root
	s.Restart(t, Options{Env: []string{"TZ=America/New_York"}, Extra: []string{"use_localtime=YES"}})
	if s.Port != port || s.Root != root {
		t.Fatalf("Restart moved the instance: port %d, root %s", s.Port, s.Root)
	}
	if got, want := mdtm(), "20250115070000"; got != want {
		t.Errorf("MDTM after Restart under TZ=America/New_York = %s, want %s", got, want)
	}
}

// TestRelaunchAfterKill: a killed server (daemon and sessions) comes back
// on the same port with the same folder, and the test's cleanup still
// stops it.
func TestRelaunchAfterKill(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			s := Start(t, kind, Options{})
			s.WriteFile(t, "kept.txt", []byte("kept"), time.Time{})
			c := dial(t, s)
			c.login(s)
			oldPID := s.PID
			if err := s.Kill(); err != nil {
				t.Fatal(err)
			}
			if members := groupMembers(oldPID); len(members) > 0 {
				t.Errorf("process group %d still has members %v after Kill", oldPID, members)
			}
			if conn, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
				conn.Close()
				t.Errorf("%s still accepts connections after Kill", s.Addr())
			}
			if err := s.Relaunch(t.Context()); err != nil {
				t.Fatal(err)
			}
			if s.PID == oldPID {
				t.Errorf("PID %d unchanged by Relaunch", s.PID)
			}
			c = dial(t, s)
			c.login(s)
			if n := c.size("kept.txt"); n != 4 {
				t.Errorf("SIZE kept.txt = %d after Relaunch, want 4", n)
			}
		})
	}
}
