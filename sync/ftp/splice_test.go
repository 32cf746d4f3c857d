package ftp_test

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// fileSink is an ftp.FileSink over an open file that records what
// Received was told.
type fileSink struct {
	f        *os.File
	received []int64
	writes   int
}

func (s *fileSink) Write(p []byte) (int, error) { s.writes++; return s.f.Write(p) }
func (s *fileSink) File() *os.File              { return s.f }
func (s *fileSink) Received(n int64) error      { s.received = append(s.received, n); return nil }

// TestRetrFileSink: a download into a FileSink is spliced into the file,
// over several 1 MiB pieces, each reported to Received; nothing goes
// through Write. Retr and RetrModTime, passive and active.
func TestRetrFileSink(t *testing.T) {
	for _, active := range []bool{false, true} {
		srv := ftptest.NewServer(t.TempDir(), ftptest.Options{})
		t.Cleanup(srv.Close)
		cfg := clientConfig(srv, 10*time.Second)
		cfg.Active = active
		c := dialServer(t, cfg)
		ctx := testCtx(t, 20*time.Second)

		data := make([]byte, 2<<20+4321)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		if err := os.WriteFile(filepath.Join(srv.Root, "src"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, withTime := range []bool{false, true} {
			local := filepath.Join(t.TempDir(), "dst")
			f, err := os.Create(local)
			if err != nil {
				t.Fatal(err)
			}
			sink := &fileSink{f: f}
			var n int64
			if withTime {
				var mt time.Time
				n, mt, err = c.RetrModTime(ctx, "/src", 0, sink)
				if err == nil && mt.IsZero() {
					t.Errorf("active=%v: RetrModTime gave no mtime", active)
				}
			} else {
				n, err = c.Retr(ctx, "/src", 0, sink)
			}
			f.Close()
			if err != nil {
				t.Fatalf("active=%v withTime=%v: %v", active, withTime, err)
			}
			var sum int64
			for _, r := range sink.received {
				sum += r
			}
			if n != int64(len(data)) || sum != n || len(sink.received) < 2 || sink.writes != 0 {
				t.Errorf("active=%v withTime=%v: %d bytes, Received %v (sum %d), %d Writes; want %d in pieces, no Write",
					active, withTime, n, sink.received, sum, sink.writes, len(data))
			}
			if got, err := os.ReadFile(local); err != nil || !bytes.Equal(got, data) {
				t.Errorf("active=%v withTime=%v: local file %d bytes (err %v), differs from the server's", active, withTime, len(got), err)
			}
		}
	}
}

var _ ftp.FileSink = (*fileSink)(nil)
