package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

func TestParseFaultsRejectsBadScripts(t *testing.T) {
	for _, spec := range []string{"drop", "drop=2", "cut=-1", "cutms=0", "nope=1", "seed=x", "max=y"} {
		if _, err := parseFaults(spec, t.TempDir(), io.Discard); err == nil {
			t.Errorf("parseFaults(%q) accepted", spec)
		}
	}
	var ue usageError
	o := options{root: t.TempDir(), tls: "none", faults: "drop=3"}
	if err := run(context.Background(), o, io.Discard); !errors.As(err, &ue) {
		t.Errorf("run with -faults drop=3 = %v, want a usage error", err)
	}
}

func TestRunListensOnAddr(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, options{root: t.TempDir(), tls: "none", addr: addr}, &out) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "@"+addr+"/") {
		t.Errorf("printed %q, want the URL on %s", out.String(), addr)
	}
}

// lockedBuffer is a bytes.Buffer the server's goroutines write while the
// test reads it.
type lockedBuffer struct {
	mu gosync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveFaults runs ftptest over root with the fault script spec and
// returns the server and the fault log.
func serveFaults(t *testing.T, root, spec string) (*ftptest.Server, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	f, err := parseFaults(spec, root, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := ftptest.NewServer(root, ftptest.Options{Hook: f.hook, Logf: t.Logf})
	t.Cleanup(srv.Close)
	return srv, log
}

func TestFaultDropAtGreeting(t *testing.T) {
	srv, log := serveFaults(t, t.TempDir(), "drop=1,max=1")
	c, err := net.DialTimeout("tcp", srv.Addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); len(b) != 0 || err != nil {
		t.Errorf("read %q, %v; want the connection closed without a greeting", b, err)
	}
	if !strings.Contains(log.String(), "fault: drop session 1 before greeting") {
		t.Errorf("fault log %q", log.String())
	}
	// max=1: the next connection is served.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := ftp.Dial(ctx, ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword})
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	cl.Close()
}

func TestFaultPartialRetr(t *testing.T) {
	root := t.TempDir()
	full := bytes.Repeat([]byte("0123456789"), 10000)
	if err := os.WriteFile(filepath.Join(root, "f"), full, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		spec    string
		wantErr bool
	}{{"retr=1", true}, {"lie=1", false}} {
		t.Run(tc.spec, func(t *testing.T) {
			srv, log := serveFaults(t, root, "seed=3,"+tc.spec)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := ftp.Dial(ctx, ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var buf bytes.Buffer
			n, err := c.Retr(ctx, "/f", 0, &buf)
			if (err != nil) != tc.wantErr || n >= int64(len(full)) || !bytes.HasPrefix(full, buf.Bytes()) {
				t.Errorf("Retr = %d, %v; want a prefix (error: %v)", n, err, tc.wantErr)
			}
			if !strings.Contains(log.String(), "fault: ") {
				t.Errorf("no fault logged")
			}
		})
	}
}
