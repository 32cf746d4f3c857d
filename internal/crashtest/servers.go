//go:build linux

package crashtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
)

// Server is an FTP server the campaign runs ferry against: ftptestd (a
// process of its own, so that it can be killed) or a real one started by
// internal/ftpd.
type Server interface {
	Name() string
	// Root is the folder the server serves as "/", on this machine.
	Root() string
	// URL is the ftp:// URL of folder dir (relative to the root).
	URL(dir string) string
	// Owner is who files under Root must belong to (-1, -1: anyone).
	Owner() (uid, gid int)
	// Kill ends the server as a crash would (SIGKILL, sessions included).
	Kill() error
	// Restart starts a killed server again on the same port and folder.
	Restart(ctx context.Context) error
	// SetFaults restarts the server with a network fault script (see
	// ftptestd -faults), or without one for ""; only ftptestd can.
	SetFaults(ctx context.Context, spec string) error
	// CanDrop reports whether SetFaults works.
	CanDrop() bool
	// FaultLog returns the faults the server injected so far, one per line.
	FaultLog() []string
	Close() error
}

// FTPTestd runs internal/cmd/ftptestd (binary bin) over a folder.
type FTPTestd struct {
	bin, root, dir string
	addr           string // 127.0.0.1:PORT, fixed after the first start
	user, pass     string
	spec           string

	mu     gosync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	log    *os.File
}

// StartFTPTestd starts ftptestd on a free port over a new folder under dir.
func StartFTPTestd(ctx context.Context, bin, dir string) (*FTPTestd, error) {
	s := &FTPTestd{bin: bin, dir: dir, root: filepath.Join(dir, "root"), user: "test", pass: "test"}
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return nil, err
	}
	lf, err := os.OpenFile(filepath.Join(dir, "ftptestd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	s.log = lf
	if err := s.start(ctx); err != nil {
		lf.Close()
		return nil, err
	}
	return s, nil
}

func (s *FTPTestd) Name() string          { return "ftptest" }
func (s *FTPTestd) Root() string          { return s.root }
func (s *FTPTestd) Owner() (int, int)     { return -1, -1 }
func (s *FTPTestd) CanDrop() bool         { return true }
func (s *FTPTestd) LogFile() string       { return s.log.Name() }
func (s *FTPTestd) URL(dir string) string { return ftpURL(s.user, s.pass, s.addr, dir) }

func ftpURL(user, pass, addr, dir string) string {
	u := url.URL{Scheme: "ftp", User: url.UserPassword(user, pass), Host: addr, Path: "/" + dir}
	return u.String()
}

func (s *FTPTestd) start(ctx context.Context) error {
	addrFile := filepath.Join(s.dir, "addr")
	os.Remove(addrFile)
	args := []string{"-root", s.root, "-addr-file", addrFile, "-user", s.user, "-pass", s.pass}
	if s.addr != "" {
		args = append(args, "-addr", s.addr)
	}
	if s.spec != "" {
		args = append(args, "-faults", s.spec)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start ftptestd: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for wait := time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			u, err := url.Parse(strings.TrimSpace(string(b)))
			if err != nil {
				return fmt.Errorf("ftptestd -addr-file: %w", err)
			}
			if s.addr != "" && u.Host != s.addr {
				return fmt.Errorf("ftptestd restarted on %s, want %s", u.Host, s.addr)
			}
			s.addr = u.Host
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("ftptestd exited during start-up (%v); log %s:\n%s", cmd.ProcessState, s.log.Name(), tail(s.log.Name(), 10))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ftptestd: no address after 20 s")
		}
	}
}

// Kill sends SIGKILL to ftptestd and waits for it.
func (s *FTPTestd) Kill() error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-exited
	return nil
}

// Restart kills ftptestd if it runs and starts it on the same port.
func (s *FTPTestd) Restart(ctx context.Context) error {
	if err := s.Kill(); err != nil {
		return err
	}
	return s.start(ctx)
}

// SetFaults restarts ftptestd with the fault script spec, unless it
// already runs with it.
func (s *FTPTestd) SetFaults(ctx context.Context, spec string) error {
	s.mu.Lock()
	running := s.cmd != nil
	s.mu.Unlock()
	if spec == s.spec && running {
		return nil
	}
	s.spec = spec
	return s.Restart(ctx)
}

// FaultLog returns the "ftptestd: fault:" lines of the server's log.
func (s *FTPTestd) FaultLog() []string {
	b, err := os.ReadFile(s.log.Name())
	if err != nil {
		return nil
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "ftptestd: fault: "); ok {
			out = append(out, rest)
		}
	}
	return out
}

func (s *FTPTestd) Close() error {
	err := s.Kill()
	s.log.Close()
	return err
}

// RealServer is a vsftpd, pure-ftpd or proftpd instance of internal/ftpd.
type RealServer struct{ S *ftpd.Server }

func (r RealServer) Name() string          { return r.S.Kind }
func (r RealServer) Root() string          { return r.S.Root }
func (r RealServer) Owner() (int, int)     { return r.S.UID, r.S.GID }
func (r RealServer) URL(dir string) string { return ftpURL(r.S.User, r.S.Password, r.S.Addr(), dir) }
func (r RealServer) Kill() error           { return r.S.Kill() }
func (r RealServer) CanDrop() bool         { return false }
func (r RealServer) FaultLog() []string    { return nil }
func (r RealServer) Close() error          { return nil } // the test's cleanup stops it

func (r RealServer) Restart(ctx context.Context) error { return r.S.Relaunch(ctx) }

func (r RealServer) SetFaults(ctx context.Context, spec string) error {
	if spec != "" {
		return fmt.Errorf("%s: no network fault scripts", r.S.Kind)
	}
	return nil
}

// tail returns the last n lines of a file.
func tail(name string, n int) string {
	b, err := os.ReadFile(name)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
