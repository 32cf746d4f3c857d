package ftptest

import (
	"errors"
	"io"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var pasvRE = regexp.MustCompile(`\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)`)

func TestHookForeignPASVAddress(t *testing.T) {
	srv, dir := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "PASV" {
			if err := s.PASVWithAddress(netip.MustParseAddr("10.1.2.3")); err != nil {
				t.Errorf("PASVWithAddress: %v", err)
			}
			return true
		}
		return false
	}})
	writeFile(t, dir, "a.txt", "via foreign PASV")
	c := dial(t, srv)
	c.login()
	msg := c.must(227, "PASV")
	m := pasvRE.FindStringSubmatch(msg)
	if m == nil || strings.Join(m[1:5], ".") != "10.1.2.3" {
		t.Fatalf("PASV reply %q does not name 10.1.2.3", msg)
	}
	// A client that ignores the address and uses the control peer's works.
	port := atoi(t, m[5])<<8 | atoi(t, m[6])
	d := c.dialData(itoa(port))
	c.must(150, "RETR a.txt")
	b, err := io.ReadAll(d)
	if err != nil || string(b) != "via foreign PASV" {
		t.Errorf("RETR = %q, %v", b, err)
	}
	c.expect(226)
}

func TestHook421OnThirdLogin(t *testing.T) {
	var users atomic.Int32
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "USER" && users.Add(1) == 3 {
			s.Reply(421, "Too many connections (2) from this IP")
			s.Close()
			return true
		}
		return false
	}})
	dial(t, srv).login()
	dial(t, srv).login()
	third := dial(t, srv)
	third.must(421, "USER test")
	if _, err := third.tp.ReadLine(); err == nil {
		t.Error("connection open after 421")
	}
	if got := srv.Logins(); got != 2 {
		t.Errorf("Logins() = %d, want 2", got)
	}
}

func TestListLimitTruncates(t *testing.T) {
	srv, dir := newServer(t, Options{ListLimit: 2})
	for _, n := range []string{"a", "b", "c", "d"} {
		writeFile(t, dir, n, n)
	}
	c := dial(t, srv)
	c.login()
	for _, cmd := range []string{"LIST", "NLST", "MLSD"} {
		d := c.passive()
		c.must(150, "%s", cmd)
		b, err := io.ReadAll(d)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(splitLines(t, b)); got != 2 {
			t.Errorf("%s sent %d lines, want 2", cmd, got)
		}
		if msg := c.expect(226); msg != "Output truncated to 2 matches" {
			t.Errorf("%s final reply %q", cmd, msg)
		}
	}
}

func TestHookInjectsListing(t *testing.T) {
	injected := []string{"type=file;size=3;modify=20200101000000; a.txt", "this is not a fact line", "type=dir; ../escape"}
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "MLSD" {
			s.ServeList(injected, "226 Injected")
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.login()
	if got := c.list("MLSD"); strings.Join(got, "\n") != strings.Join(injected, "\n") {
		t.Errorf("listing %q, want %q", got, injected)
	}
	c.must(425, "MLSD") // no data setup: ServeList refuses
}

func TestHookSendDataThenDropWithLyingReply(t *testing.T) {
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "RETR" {
			s.SendDataThenDrop([]byte("part"), "226 Transfer complete")
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.login()
	d := c.passive()
	c.must(150, "RETR big.bin")
	b, _ := io.ReadAll(d)
	if len(b) > 4 {
		t.Errorf("received %q, more than was sent", b)
	}
	c.expect(226)
}

func TestHookReplyAndWriteRaw(t *testing.T) {
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		switch cmd {
		case "SYST":
			s.Reply(215, "first", " indented", "middle", "last")
			return true
		case "NOOP":
			s.WriteRaw([]byte("garbage without a line end"))
			s.Close()
			return true
		}
		return false
	}})
	c := dial(t, srv)
	got := rawReply(t, c, "SYST")
	want := []string{"215-first", " indented", "215-middle", "215 last"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("multi-line reply %q, want %q", got, want)
	}
	c.tp.PrintfLine("NOOP")
	b, _ := io.ReadAll(c.conn)
	if string(b) != "garbage without a line end" {
		t.Errorf("raw bytes %q", b)
	}
}

func TestHookReplacesGreeting(t *testing.T) {
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "" {
			s.Reply(421, "Service not available")
			s.Close()
			return true
		}
		return false
	}})
	c := dialNoGreet(t, srv)
	c.expect(421)
}

func TestHookCanWrapDefault(t *testing.T) {
	var stored atomic.Int32
	srv, dir := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "STOR" {
			s.Do(cmd, arg)
			stored.Add(1)
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.login()
	code := c.store([]byte("x"), "STOR f")
	c.must(200, "NOOP") // the hook has returned once NOOP is answered
	if code != 226 || readFile(t, dir, "f") != "x" || stored.Load() != 1 {
		t.Errorf("wrapped STOR: %d, %d calls", code, stored.Load())
	}
}

func TestCloseEndsStalledHook(t *testing.T) {
	entered := make(chan struct{})
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "STOR" {
			close(entered)
			s.Stall()
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.login()
	c.tp.PrintfLine("STOR f")
	<-entered
	srv.Close() // returns: closing the session releases Stall
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("control connection still open after Close")
	}
}

func TestCloseReportsHang(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{})
	srv, _ := newServer(t, Options{CloseWait: 100e6, Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "NOOP" {
			close(entered)
			<-release // ignores s.Done(): a broken hook
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.tp.PrintfLine("NOOP")
	<-entered
	msg := func() (msg any) {
		defer func() { msg = recover() }()
		srv.Close()
		return nil
	}()
	close(release)
	srv.wg.Wait()
	s, _ := msg.(string)
	if !strings.Contains(s, `in command "NOOP"`) || !strings.Contains(s, "session 1") {
		t.Errorf("Close panic %v does not name the hung session and command", msg)
	}
}

func TestHookOpenDataThenStall(t *testing.T) {
	stalled := make(chan *Session, 1)
	srv, _ := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
		if cmd == "RETR" {
			stalled <- s
			s.OpenDataThenStall([]byte("part"))
			return true
		}
		return false
	}})
	c := dial(t, srv)
	c.login()
	d := c.passive()
	c.must(150, "RETR big.bin")
	b := make([]byte, 4)
	if _, err := io.ReadFull(d, b); err != nil || string(b) != "part" {
		t.Fatalf("read %q, %v; want \"part\"", b, err)
	}
	// Neither the end of the data nor a final reply comes: a read gives up
	// at its deadline, not at EOF.
	d.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := d.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read after the data = %d, %v; want a timeout", n, err)
	}
	s := <-stalled
	s.Close()
	<-s.Done()
	d.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := d.Read(b); err == nil {
		t.Fatalf("read %d bytes after the session closed", n)
	}
}

// TestHookStorPartialLies: StorPartial keeps the first bytes of an upload
// and still answers 226, the data connection reset (a client that wrote
// everything before the reset sees no error) or drained.
func TestHookStorPartialLies(t *testing.T) {
	for _, drain := range []bool{false, true} {
		t.Run(map[bool]string{false: "reset", true: "drained"}[drain], func(t *testing.T) {
			srv, dir := newServer(t, Options{Hook: func(s *Session, cmd, arg string) bool {
				if cmd == "STOR" {
					s.StorPartial(arg, 4, drain, "")
					return true
				}
				return false
			}})
			c := dial(t, srv)
			c.login()
			d := c.passive()
			c.must(150, "STOR part.bin")
			d.Write([]byte("0123456789")) // may fail after the reset
			d.Close()
			c.expect(226)
			if got := readFile(t, dir, "part.bin"); got != "0123" {
				t.Errorf("stored %q, want the first 4 bytes", got)
			}
			c.must(213, "SIZE part.bin") // the session goes on
		})
	}
}

func TestNoRenameOver(t *testing.T) {
	srv, dir := newServer(t, Options{NoRenameOver: true})
	writeFile(t, dir, "a", "a")
	writeFile(t, dir, "b", "b")
	c := dial(t, srv)
	c.login()
	c.must(350, "RNFR a")
	c.must(550, "RNTO b")
	if got := readFile(t, dir, "b"); got != "b" {
		t.Errorf("b = %q after a refused RNTO", got)
	}
	c.must(350, "RNFR a")
	c.must(250, "RNTO c")
	if got := readFile(t, dir, "c"); got != "a" {
		t.Errorf("c = %q, want a's content", got)
	}
}
