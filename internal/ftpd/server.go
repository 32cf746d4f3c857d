package ftpd

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Timeouts of the harness.
const (
	startTimeout = 20 * time.Second // until the 220 greeting
	stopTimeout  = 5 * time.Second  // from SIGTERM to SIGKILL
)

// Options says how to run a server.
type Options struct {
	// TLS makes it explicit FTPS (AUTH TLS, RFC 4217) with a self-signed
	// certificate (Server.CAFile), TLS required on the control and the data
	// connections. Each server's own rule on TLS session reuse for data
	// connections is left as shipped: vsftpd and proftpd require it.
	TLS bool
	// Extra holds extra configuration lines (vsftpd, proftpd), appended
	// after the harness's own, or extra command-line arguments (pure-ftpd),
	// e.g. "AllowStoreRestart on" for proftpd or "-L", "100000:8" for pure-ftpd.
	Extra []string
	// Debug turns on the server's protocol or debug log in its log file
	// (vsftpd log_ftp_protocol, proftpd DebugLevel 10; pure-ftpd only logs
	// to syslog, which the harness turns off) and logs the folder's path.
	Debug bool
	// Env holds extra "KEY=VALUE" environment entries for the daemon, added
	// to the test process's environment (a later entry of the same key
	// wins), e.g. "TZ=America/New_York" for a server that shows local
	// times (vsftpd use_localtime=YES).
	Env []string
}

// Server is one running instance, started by [Start] and stopped when its
// test ends. Its fields are read-only.
type Server struct {
	Kind     string // "vsftpd", "pure-ftpd" or "proftpd"
	Host     string // always 127.0.0.1
	Port     int    // control port
	User     string // ferrytest
	Password string // ferrytest
	// Root is the served folder on disk, the client's "/". It is owned by
	// UID/GID; files a test puts there must be readable (and, to be changed
	// over FTP, writable) by that user: see [Server.WriteFile].
	Root string
	// CAFile is the PEM file of the self-signed server certificate (SAN
	// IP:127.0.0.1 and DNS:localhost) to trust; TLS only, else "".
	CAFile   string
	TLS      bool
	PID      int    // the daemon, leader of its own process group (a new one after Restart)
	UID, GID int    // the system user the sessions run as
	PasvMin  int    // first passive port of this instance
	PasvMax  int    // last passive port of this instance
	Dir      string // private folder: configuration, logs, certificate, Root
	LogFile  string // the server's log (pure-ftpd: its transfer log only, as it logs nothing else without syslog)
	caPEM    []byte
	cmd      *exec.Cmd
	exited   chan struct{} // closed when the daemon has been reaped
	slot     *slot
	inst     *instance // how it was configured, for Restart
}

// Kinds returns the servers Start knows, in a fixed order.
func Kinds() []string { return []string{"vsftpd", "pure-ftpd", "proftpd"} }

// requireEnv is set (to 1) by "make test": a server that is unavailable
// fails the test instead of skipping it.
const requireEnv = "FERRY_REQUIRE_FTP_SERVERS"

// Start starts a fresh instance of the server kind (one of [Kinds]) and
// returns once it answers 220 on its control port. It skips the test when
// the server cannot run here (not installed, not root, no test user), or
// fails it then if FERRY_REQUIRE_FTP_SERVERS=1; any other problem fails the
// test, with the server's log tail. A cleanup of t stops the server (its
// whole process group: SIGTERM, then SIGKILL after 5 s), waits for it, and
// removes its folder; if the test failed it first logs the server's log tail.
// Start may be called from parallel tests and parallel test processes: each
// instance has its own ports.
func Start(t testing.TB, kind string, opts Options) *Server {
	t.Helper()
	s, err := start(t.Context(), kind, opts)
	if err != nil {
		var ue *UnavailableError
		if errors.As(err, &ue) && os.Getenv(requireEnv) != "1" {
			t.Skipf("%v; set %s=1 to fail instead", err, requireEnv)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log tail (%s):\n%s", s.Kind, s.Dir, s.logTail(40))
		}
		if err := s.stop(); err != nil {
			t.Error(err)
		}
	})
	if opts.Debug {
		t.Logf("%s (pid %d) on %s, folder %s", s.Kind, s.PID, s.Addr(), s.Dir)
	}
	return s
}

// start does Start's work; on error nothing is left running or on disk.
func start(ctx context.Context, kind string, opts Options) (s *Server, err error) {
	in, err := locate(kind)
	if err != nil {
		return nil, err
	}
	acct, err := lookupAccount(kind)
	if err != nil {
		return nil, err
	}
	sl, err := claimSlot()
	if err != nil {
		return nil, err
	}
	s = &Server{
		Kind: kind, Host: "127.0.0.1", Port: sl.ctrl, User: testUser, Password: testPass,
		TLS: opts.TLS, UID: acct.uid, GID: acct.gid, PasvMin: sl.pasvLo, PasvMax: sl.pasvHi,
		slot: sl,
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.stop())
			s = nil
		}
	}()
	if s.Dir, err = makeDir(kind, acct); err != nil {
		return s, err
	}
	s.Root = filepath.Join(s.Dir, "root")
	s.LogFile = filepath.Join(s.Dir, "server.log")
	inst := &instance{kind: kind, in: in, acct: acct, slot: sl, opts: opts, dir: s.Dir, root: s.Root, log: s.LogFile}
	if opts.TLS {
		inst.cert = filepath.Join(s.Dir, "cert.pem")
		inst.key = filepath.Join(s.Dir, "key.pem")
		if s.caPEM, err = writeCert(inst.cert, inst.key, time.Now()); err != nil {
			return s, err
		}
		s.CAFile = inst.cert
	}
	s.inst = inst
	return s, s.launch(ctx)
}

// launch writes the instance's configuration, starts the daemon and waits
// for its greeting.
func (s *Server) launch(ctx context.Context) error {
	argv, err := configure(ctx, s.inst)
	if err != nil {
		return err
	}
	if err := s.run(argv, s.inst.opts.Env); err != nil {
		return err
	}
	if err := s.awaitGreeting(ctx); err != nil {
		return fmt.Errorf("%w\n%s", err, s.logTail(20))
	}
	return nil
}

// Restart stops the daemon and its sessions and starts it again on the
// same port, folder and files with opts (TLS cannot change: the
// certificate is made once), e.g. another Env "TZ=..." to see what a
// daemon restarted in another time zone shows. It fails the test when the
// daemon does not come back.
func (s *Server) Restart(t testing.TB, opts Options) {
	t.Helper()
	if opts.TLS != s.TLS {
		t.Fatalf("ftpd: Restart cannot switch TLS (was %v)", s.TLS)
	}
	if err := s.halt(); err != nil {
		t.Fatal(err)
	}
	s.inst.opts = opts
	if err := s.launch(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the server as a crash would: SIGKILL to its whole process group
// (the daemon and the sessions it forked), without a chance to clean up,
// and waits until the group is gone. Its ports and folder stay claimed:
// [Server.Relaunch] brings it back. Killing a killed server does nothing.
// Kill, Relaunch and Restart must not be called concurrently.
func (s *Server) Kill() error {
	if s.cmd == nil {
		return nil
	}
	if err := syscall.Kill(-s.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("ftpd: kill %s (pid %d): %w", s.Kind, s.PID, err)
	}
	<-s.exited
	s.cmd = nil
	return s.killGroup()
}

// Relaunch kills the server if it runs (as a crash would, see Kill) and
// starts it again with the same options, ports and folder (what the killed
// instance left in Root stays), returning once it answers 220. PID is the
// new daemon's. Restart, by contrast, stops it cleanly and may change its
// options.
func (s *Server) Relaunch(ctx context.Context) error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.launch(ctx)
}

// makeDir creates the instance folder (mode 0755, so that the session user
// can pass through it) under os.TempDir() with root/ owned by the user.
func makeDir(kind string, acct account) (string, error) {
	dir, err := os.MkdirTemp("", "ferry-ftpd-"+kind+"-")
	if err != nil {
		return "", fmt.Errorf("ftpd: %w", err)
	}
	root := filepath.Join(dir, "root")
	err = errors.Join(os.Chmod(dir, 0o755), os.Mkdir(root, 0o755), os.Chown(root, acct.uid, acct.gid))
	if err == nil {
		err = checkTraversable(dir)
	}
	if err != nil {
		return dir, fmt.Errorf("ftpd: folder %s: %w", dir, err)
	}
	return dir, nil
}

// checkTraversable fails when some ancestor of dir cannot be searched by
// other users: vsftpd enters the root with the session user's rights.
func checkTraversable(dir string) error {
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s is not searchable by other users (mode %v); set TMPDIR to a folder that is", d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// run starts argv in the foreground in its own process group, output to
// stdout.log in the instance folder.
func (s *Server) run(argv, env []string) error {
	out, err := os.OpenFile(filepath.Join(s.Dir, "stdout.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("ftpd: %w", err)
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...) // exec keeps the last of a key
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("ftpd: start %s: %w", argv[0], err)
	}
	s.cmd, s.PID = cmd, cmd.Process.Pid
	s.exited = make(chan struct{})
	go func() {
		cmd.Wait()
		close(s.exited)
	}()
	return nil
}

// awaitGreeting polls the control port until it answers 220, the daemon
// exits, or startTimeout passes.
func (s *Server) awaitGreeting(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var last error
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		select {
		case <-s.exited:
			return fmt.Errorf("ftpd: %s exited during start-up: %v", s.Kind, s.cmd.ProcessState)
		default:
		}
		if last = greet(ctx, s.Addr()); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ftpd: %s on %s: no 220 greeting within %v: %w", s.Kind, s.Addr(), startTimeout, last)
		case <-s.exited:
		case <-time.After(wait):
		}
	}
}

// greet connects to addr and reads the first reply line, which must be 220.
func greet(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "220") {
		return fmt.Errorf("greeting %q", strings.TrimSpace(line))
	}
	_, err = c.Write([]byte("QUIT\r\n"))
	return err
}

// stop ends the process group, waits for the daemon, frees the port slot
// and removes the instance folder. Calling it again does no harm.
func (s *Server) stop() error {
	errs := []error{s.halt()}
	if s.slot != nil {
		if err := s.slot.release(); err != nil {
			errs = append(errs, fmt.Errorf("ftpd: release port slot: %w", err))
		}
		s.slot = nil
	}
	if s.Dir != "" {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, fmt.Errorf("ftpd: remove %s: %w", s.Dir, err))
		}
	}
	return errors.Join(errs...)
}

// halt ends the daemon's process group and waits for it; the port slot and
// the folder stay. Calling it again does no harm.
func (s *Server) halt() error {
	var errs []error
	if s.cmd != nil {
		// The daemon leads its group; session processes it forked are in it.
		if err := syscall.Kill(-s.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("ftpd: stop %s (pid %d): %w", s.Kind, s.PID, err))
		}
		select {
		case <-s.exited:
		case <-time.After(stopTimeout):
			syscall.Kill(-s.PID, syscall.SIGKILL)
			<-s.exited
		}
		// Sessions that outlived the daemon (they are no longer our children:
		// wait until they are gone, so nothing holds the folder or the ports).
		if err := s.killGroup(); err != nil {
			errs = append(errs, err)
		}
		s.cmd = nil
	}
	return errors.Join(errs...)
}

// killGroup sends SIGKILL to what is left of the daemon's process group and
// waits until the group is empty.
func (s *Server) killGroup() error {
	deadline := time.Now().Add(stopTimeout)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		left := groupMembers(s.PID)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ftpd: stop %s: processes %v of group %d survive SIGKILL", s.Kind, left, s.PID)
		}
		syscall.Kill(-s.PID, syscall.SIGKILL)
		time.Sleep(wait)
	}
}

// logTail returns the last n lines of each of the instance's logs.
func (s *Server) logTail(n int) string {
	var b strings.Builder
	for _, name := range []string{"stdout.log", "server.log", "tls.log"} {
		data, err := os.ReadFile(filepath.Join(s.Dir, name))
		if err != nil || len(data) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		lines = lines[max(0, len(lines)-n):]
		fmt.Fprintf(&b, "==> %s <==\n%s\n", name, strings.Join(lines, "\n"))
	}
	if b.Len() == 0 {
		return "(no log output)"
	}
	return b.String()
}

// Addr returns the control address, "127.0.0.1:PORT".
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// URL returns ftp://ferrytest:ferrytest@127.0.0.1:PORT/. It is ftp:// also
// with TLS: explicit FTPS starts in plain text (ftps:// means implicit).
func (s *Server) URL() string {
	u := url.URL{Scheme: "ftp", User: url.UserPassword(s.User, s.Password), Host: s.Addr(), Path: "/"}
	return u.String()
}

// TLSConfig returns a client configuration that trusts the server's
// certificate, or nil without TLS. Each call returns a new value.
func (s *Server) TLSConfig() *tls.Config {
	if !s.TLS {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(s.caPEM)
	return &tls.Config{RootCAs: pool, ServerName: s.Host, MinVersion: tls.VersionTLS12}
}

// WriteFile writes data to the slash-separated path name under Root,
// creating missing folders, with the session user as owner (folders 0755,
// file 0644) so the server can read, replace and delete it. It sets the
// modification time to mtime unless that is zero, and returns the path on
// disk.
func (s *Server) WriteFile(t testing.TB, name string, data []byte, mtime time.Time) string {
	t.Helper()
	name = path.Clean(strings.TrimPrefix(name, "/"))
	r, err := os.OpenRoot(s.Root)
	if err != nil {
		t.Fatalf("ftpd: %v", err)
	}
	defer r.Close()
	if dir := path.Dir(name); dir != "." {
		if err := r.MkdirAll(dir, 0o755); err != nil {
			t.Fatalf("ftpd: mkdir %s: %v", dir, err)
		}
		for d := dir; d != "."; d = path.Dir(d) {
			if err := r.Lchown(d, s.UID, s.GID); err != nil {
				t.Fatalf("ftpd: chown %s: %v", d, err)
			}
		}
	}
	if err := r.WriteFile(name, data, 0o644); err != nil {
		t.Fatalf("ftpd: write %s: %v", name, err)
	}
	if err := r.Lchown(name, s.UID, s.GID); err != nil {
		t.Fatalf("ftpd: chown %s: %v", name, err)
	}
	if !mtime.IsZero() {
		if err := r.Chtimes(name, mtime, mtime); err != nil {
			t.Fatalf("ftpd: chtimes %s: %v", name, err)
		}
	}
	return filepath.Join(s.Root, filepath.FromSlash(name))
}
