package sync_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// waitCounter counts a client's round trips to one server: a read of a
// control connection that follows a write of the client (to a control or
// a data connection) is one wait. Replies that arrive in several reads
// with no write between them are one wait, so the count does not depend
// on timing. Meant for one connection at a time (Parallel 1).
type waitCounter struct {
	mu      gosync.Mutex
	control string
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
	w.mu.Lock()
	if addr != w.control {
		w.dials++
	}
	w.mu.Unlock()
	return &countedConn{TCPConn: nc.(*net.TCPConn), w: w, control: addr == w.control}, nil
}

func (w *waitCounter) reset() (waits, dials int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	waits, dials = w.waits, w.dials
	w.waits, w.dials, w.wrote = 0, 0, false
	return waits, dials
}

type countedConn struct {
	*net.TCPConn // CloseWrite: an upload's end of file reaches the server
	w            *waitCounter
	control      bool
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
	return c.TCPConn.Read(p)
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	c.w.wrote = true
	c.w.mu.Unlock()
	return c.TCPConn.Write(p)
}

// smallFiles writes n small files (2 KiB) under dir/d.
func smallFiles(t *testing.T, dir string, n int) {
	t.Helper()
	for i := range n {
		writeFile(t, filepath.Join(dir, "d", fmt.Sprintf("f%03d.txt", i)), []byte(strings.Repeat(fmt.Sprint(i), 2048)[:2048]), baseTime.Add(time.Duration(i)*time.Second))
	}
}

// TestPushRoundTripsPerSmallFile pins what a small-file push costs in
// round trips, which is what it costs over the internet: per file one
// data connection and two waits (STOR with its bytes to the 226, then the
// write that checks its SIZE, renames the previous upload into place and
// asks for the next data port). Renaming each upload right after its 226,
// as ferry did, took three; a size check of its own would take four.
// Measured as the difference between pushes of 20 and 10 files, so the
// login, listing and last commit cancel out.
func TestPushRoundTripsPerSmallFile(t *testing.T) {
	push := func(n int) (waits, dials int) {
		srv := ftptest.NewServer(t.TempDir(), ftptest.Options{})
		t.Cleanup(srv.Close)
		w := &waitCounter{control: srv.Addr}
		tg := target{kind: "ftptest", root: srv.Root, uid: -1, gid: -1, cfg: ftp.Config{
			Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 20 * time.Second, Dial: w.dial,
		}}
		j := newJob(t, tg, "/site")
		smallFiles(t, j.local, n)
		res := j.mustRun(t.Context(), t, ferrysync.Push, func(o *ferrysync.Options) {
			o.Parallel = 1
			o.Pool.SetProfile(ftp.Profile{MTime: ftp.MTimeMFMT}) // as remembered from an earlier run
		})
		if res.FilesUp != n {
			t.Fatalf("push of %d files: FilesUp %d", n, res.FilesUp)
		}
		assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
		return w.reset()
	}
	w10, d10 := push(10)
	w20, d20 := push(20)
	if per := float64(w20-w10) / 10; per != 2 {
		t.Errorf("%.1f waits per file (%d for 10 files, %d for 20), want 2", per, w10, w20)
	}
	if per := float64(d20-d10) / 10; per != 1 {
		t.Errorf("%.1f data connections per file, want 1", per)
	}
}

// commandLog records the commands a server gets ("CMD arg").
type commandLog struct {
	mu   gosync.Mutex
	cmds []string
}

func (l *commandLog) hook(_ *ftptest.Session, cmd, arg string) bool {
	if cmd != "" {
		l.mu.Lock()
		l.cmds = append(l.cmds, strings.TrimSpace(cmd+" "+arg))
		l.mu.Unlock()
	}
	return false
}

func (l *commandLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.cmds)
}

// TestPushCommitTranscript pins the order of an upload's commands on one
// connection: the SIZE of each temporary right after its STOR, the commit
// of the previous one (its time set on the temporary, then RNFR and RNTO)
// in the same write, and the next EPSV; the last commit when the worker
// runs out of work, without an EPSV. Every final name changes only by an
// RNTO after its temporary's SIZE was read, and a time is only ever set on
// a temporary.
func TestPushCommitTranscript(t *testing.T) {
	var log commandLog
	tg := startTarget(t, "ftptest", ftptest.Options{Hook: log.hook})
	j := newJob(t, tg, "/site")
	writeTree(t, j.local, []node{
		{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
		{Path: "b.txt", Data: []byte("bb"), MTime: baseTime},
		{Path: "c.txt", Data: []byte("ccc"), MTime: baseTime},
	})
	j.mustRun(t.Context(), t, ferrysync.Push, func(o *ferrysync.Options) {
		o.Parallel = 1
		o.Pool.SetProfile(ftp.Profile{MTime: ftp.MTimeMFMT})
	})
	assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
	var got []string
	started := false
	for _, c := range log.list() {
		started = started || strings.HasPrefix(c, "STOR ")
		if started && c != "QUIT" {
			got = append(got, c)
		}
	}
	tmp := func(n string) string { return "/site/." + n + ".ferry-tmp" }
	mfmt := "MFMT " + ftp.FormatMDTMTime(baseTime) + " "
	want := []string{
		"STOR " + tmp("a.txt"),
		"SIZE " + tmp("a.txt"), "EPSV",
		"STOR " + tmp("b.txt"),
		"SIZE " + tmp("b.txt"), mfmt + tmp("a.txt"), "RNFR " + tmp("a.txt"), "RNTO /site/a.txt", "EPSV",
		"STOR " + tmp("c.txt"),
		"SIZE " + tmp("c.txt"), mfmt + tmp("b.txt"), "RNFR " + tmp("b.txt"), "RNTO /site/b.txt", "EPSV",
		mfmt + tmp("c.txt"), "RNFR " + tmp("c.txt"), "RNTO /site/c.txt",
	}
	if !slices.Equal(got, want) {
		t.Errorf("commands from the first STOR on\n got: %q\nwant: %q", got, want)
	}
}

// TestPushCommitWaitsAtMostOneUpload: with several workers each renames
// its previous upload in its next upload's write; none holds a commit
// back for longer, and every file is in place and recorded at the end.
func TestPushCommitWaitsAtMostOneUpload(t *testing.T) {
	var mu gosync.Mutex
	stored, renamed := map[string]int{}, map[string]int{}
	order := 0
	tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		mu.Lock()
		defer mu.Unlock()
		switch cmd {
		case "STOR":
			order++
			stored[fmt.Sprint(s.ID(), " ", arg)] = order
		case "RNFR":
			renamed[fmt.Sprint(s.ID(), " ", arg)] = order
		}
		return false
	}})
	j := newJob(t, tg, "/site")
	smallFiles(t, j.local, 40)
	res := j.mustRun(t.Context(), t, ferrysync.Push, func(o *ferrysync.Options) {
		o.Pool.SetProfile(ftp.Profile{MTime: ftp.MTimeMFMT})
	})
	if res.FilesUp != 40 {
		t.Fatalf("FilesUp = %d", res.FilesUp)
	}
	assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
	if n := len(j.records(t.Context(), t)); n != 41 { // 40 files and their folder
		t.Errorf("%d records, want 41", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for k, at := range stored {
		r, ok := renamed[k]
		if !ok {
			t.Errorf("%s: stored, never renamed on its connection", k)
			continue
		}
		// At most one more STOR of any connection between a STOR and
		// the rename of its temporary... per connection: count this
		// connection's STORs in between.
		sid := strings.SplitN(k, " ", 2)[0]
		between := 0
		for k2, at2 := range stored {
			if strings.SplitN(k2, " ", 2)[0] == sid && at2 > at && at2 <= r {
				between++
			}
		}
		if between > 1 {
			t.Errorf("%s: %d uploads of its connection before its rename, want at most 1", k, between)
		}
	}
}

// TestPushInterruptedBeforeCommit: a run killed after uploads but before
// their commits (here: the connection dies at the first RNFR) leaves only
// temporaries. No final name changed, nothing was recorded, and the next
// run finds the temporaries, sends the files again and leaves none.
func TestPushInterruptedBeforeCommit(t *testing.T) {
	var kill atomic.Pointer[context.CancelFunc]
	tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd != "RNFR" {
			return false
		}
		if cancel := kill.Swap(nil); cancel != nil {
			(*cancel)()
			s.Close()
			return true
		}
		return false
	}})
	tg.seed(t, "/site", []node{{Path: "a.txt", Data: []byte("old a"), MTime: baseTime}})
	j := newJob(t, tg, "/site")
	writeTree(t, j.local, []node{
		{Path: "a.txt", Data: []byte("new a"), MTime: baseTime.Add(time.Hour)},
		{Path: "b.txt", Data: []byte("new b"), MTime: baseTime.Add(time.Hour)},
		{Path: "c.txt", Data: []byte("new c"), MTime: baseTime.Add(time.Hour)},
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	kill.Store(&cancel)
	res, err := j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) {
		o.Parallel = 1
		o.Pool.SetProfile(ftp.Profile{MTime: ftp.MTimeMFMT})
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("killed run: %v, want context.Canceled", err)
	}
	if res.FilesUp != 0 {
		t.Errorf("killed run: FilesUp = %d, want 0", res.FilesUp)
	}
	after := snapshot(t, j.remoteDisk())
	left := temps(after)
	if len(left) == 0 {
		t.Fatalf("no temporary left by the killed run: %v", sortedKeys(after))
	}
	for _, p := range sortedKeys(after) {
		if slices.Contains(left, p) {
			continue
		}
		if p != "a.txt" {
			t.Errorf("killed run published %s", p)
		}
	}
	if got, _ := os.ReadFile(filepath.Join(j.remoteDisk(), "a.txt")); string(got) != "old a" {
		t.Errorf("a.txt = %q after the killed run, want the old version", got)
	}
	if st := j.records(t.Context(), t); len(st) != 0 {
		t.Errorf("killed run recorded %v", sortedKeys(st))
	}

	res = j.mustRun(t.Context(), t, ferrysync.Push, nil)
	if res.FilesUp != 3 {
		t.Errorf("next run: FilesUp = %d, want 3", res.FilesUp)
	}
	assertSameTree(t, "after the next run", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
	if n := len(j.records(t.Context(), t)); n != 3 {
		t.Errorf("next run: %d records, want 3", n)
	}
}
