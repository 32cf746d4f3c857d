package ftp_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// waitCounter counts a client's round trips: a read of the control
// connection that follows a write (to it, or to a data connection) is one
// wait for the server. Replies that come in several reads without a write
// between them are one wait, so the count does not depend on timing.
type waitCounter struct {
	mu      sync.Mutex
	control string // the server's control address
	wrote   bool
	waits   int
	dials   int // data connections
}

func (w *waitCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if addr != w.control {
		w.mu.Lock()
		w.dials++
		w.mu.Unlock()
	}
	return &countedConn{Conn: nc, w: w, control: addr == w.control}, nil
}

func (w *waitCounter) get() (waits, dials int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.waits, w.dials
}

type countedConn struct {
	net.Conn
	w       *waitCounter
	control bool
}

func (c *countedConn) Read(p []byte) (int, error) {
	if c.control {
		c.w.mu.Lock()
		if c.w.wrote {
			c.w.waits++
			c.w.wrote = false
		}
		c.w.mu.Unlock()
	}
	return c.Conn.Read(p)
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	c.w.wrote = true
	c.w.mu.Unlock()
	return c.Conn.Write(p)
}

// CloseWrite keeps the upload's end of file (a FIN) as it is: the data
// connection's half-close must reach the server for its 226.
func (c *countedConn) CloseWrite() error {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		return tc.CloseWrite()
	}
	return nil
}

// TestStorSmallSavesTheWaitFor150 pins the round trips of an upload: Stor
// waits for the 150, then for the 226 (two); StorSmall writes the bytes
// with the STOR and reads both replies in one wait. With the data port
// asked for in advance (prefetch, in the Batch that checks the previous
// upload) an upload costs its data connection and that one wait.
func TestStorSmallSavesTheWaitFor150(t *testing.T) {
	srv, root := startServer(t, ftptest.Options{})
	w := &waitCounter{control: srv.Addr}
	cfg := clientConfig(srv, 10*time.Second)
	cfg.Dial = w.dial
	c := dialServer(t, cfg)
	c.SetPrefetch(true)
	ctx := testCtx(t, 20*time.Second)
	measure := func(what string, data []byte, up func(path string, data []byte) (int64, error), wantWaits int) {
		t.Helper()
		// The Batch that ends the previous upload also asks for the next
		// data port: its reply is read there, in the same wait.
		if _, err := c.Batch(ctx, "NOOP"); err != nil {
			t.Fatal(err)
		}
		w0, d0 := w.get()
		path := "/" + what + ".bin"
		n, err := up(path, data)
		if err != nil || n != int64(len(data)) {
			t.Fatalf("%s = %d, %v", what, n, err)
		}
		w1, d1 := w.get()
		if w1-w0 != wantWaits || d1-d0 != 1 {
			t.Errorf("%s: %d waits and %d data connections, want %d and 1", what, w1-w0, d1-d0, wantWaits)
		}
		got, err := os.ReadFile(filepath.Join(root, what+".bin"))
		if err != nil || !slices.Equal(got, data) {
			t.Errorf("%s stored %d bytes (%v), want %d", what, len(got), err, len(data))
		}
	}
	stor := func(p string, data []byte) (int64, error) { return c.Stor(ctx, p, 0, bytes.NewReader(data)) }
	small := func(p string, data []byte) (int64, error) { return c.StorSmall(ctx, p, data) }
	measure("stor", pattern(ftp.SmallUpload), stor, 2)
	measure("small", pattern(ftp.SmallUpload), small, 1)
	// Beyond SmallUpload a refused STOR could leave the write blocked:
	// StorSmall waits for the 150.
	measure("bigger", pattern(ftp.SmallUpload+1), small, 2)
}

// TestStorSmallRefused: a STOR refused before any byte was read leaves the
// connection in step (the refusal is the only reply) with a typed error.
func TestStorSmallRefused(t *testing.T) {
	srv, _ := startServer(t, ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "STOR" {
			s.Reply(553, "Could not create file.")
			return true
		}
		return false
	}})
	c := dialServer(t, clientConfig(srv, 10*time.Second))
	ctx := testCtx(t, 20*time.Second)
	_, err := c.StorSmall(ctx, "/x.bin", pattern(40<<10))
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 553 || fe.Cmd != "STOR /x.bin" {
		t.Fatalf("StorSmall = %v, want *ftp.Error 553 naming STOR /x.bin", err)
	}
	if c.Broken() {
		t.Fatal("connection marked broken after a plain refusal")
	}
	if err := c.Noop(ctx); err != nil {
		t.Errorf("NOOP after the refusal: %v", err)
	}
}

// TestStorSmallCutShortLooksLikeSuccess is why uploads are size-checked: a
// server that keeps part of the bytes and answers 226 is a success to the
// client. Only the SIZE of the file tells, and Batch reports it with the
// other replies of its write.
func TestStorSmallCutShortLooksLikeSuccess(t *testing.T) {
	srv, _ := startServer(t, ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "STOR" {
			s.StorPartial(arg, 1000, false, "")
			return true
		}
		return false
	}})
	c := dialServer(t, clientConfig(srv, 10*time.Second))
	ctx := testCtx(t, 20*time.Second)
	data := pattern(40 << 10)
	n, err := c.StorSmall(ctx, "/x.tmp", data)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("StorSmall = %d, %v; want the whole file sent and no error", n, err)
	}
	reps, err := c.Batch(ctx, "SIZE /x.tmp", "SIZE /missing", "NOOP")
	if err != nil || len(reps) != 3 {
		t.Fatalf("Batch = %v, %v", reps, err)
	}
	if reps[0].Code != 213 || reps[0].Msg() != "1000" {
		t.Errorf("SIZE /x.tmp = %d %s, want 213 1000", reps[0].Code, reps[0].Msg())
	}
	if reps[1].Code != 550 || reps[2].Code != 200 {
		t.Errorf("SIZE /missing, NOOP = %d, %d; want 550, 200 (each reply as it came)", reps[1].Code, reps[2].Code)
	}
	if err := ftp.Expect("SIZE /missing", reps[1]); err == nil {
		t.Error("Expect accepted a 550")
	}
	if err := ftp.Expect("RNFR /a", &ftp.Reply{Code: 350}); err != nil {
		t.Errorf("Expect refused 350 to RNFR: %v", err)
	}
}

// TestStorSmallFallsBack: in active mode the server connects only after
// the STOR, so StorSmall waits for the 150 like Stor (and works).
func TestStorSmallFallsBack(t *testing.T) {
	var rec recorder
	srv, root := startServer(t, ftptest.Options{Hook: rec.hook})
	cfg := clientConfig(srv, 10*time.Second)
	cfg.Active = true
	c := dialServer(t, cfg)
	ctx := testCtx(t, 20*time.Second)
	data := pattern(1000)
	if n, err := c.StorSmall(ctx, "/a.bin", data); err != nil || n != 1000 {
		t.Fatalf("StorSmall = %d, %v", n, err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "a.bin")); err != nil || !slices.Equal(got, data) {
		t.Errorf("stored %d bytes, %v", len(got), err)
	}
	big := pattern(ftp.SmallUpload + 1)
	if n, err := c.StorSmall(ctx, "/b.bin", big); err != nil || n != int64(len(big)) {
		t.Fatalf("StorSmall of %d bytes = %d, %v", len(big), n, err)
	}
	if got, _ := os.Stat(filepath.Join(root, "b.bin")); got == nil || got.Size() != int64(len(big)) {
		t.Errorf("b.bin: %v, want %d bytes", got, len(big))
	}
}
