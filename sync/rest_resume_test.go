package sync_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// restLog records the REST offsets a test server was asked for.
type restLog struct {
	mu   gosync.Mutex
	args []string
}

func (l *restLog) hook(s *ftptest.Session, cmd, arg string) bool {
	if cmd == "REST" {
		l.mu.Lock()
		l.args = append(l.args, arg)
		l.mu.Unlock()
	}
	return false
}

func (l *restLog) got() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.args...)
}

// resumeRun runs one push or pull of local <-> /site on srv with a fresh
// state cache whose journal notes, as the interrupted run would have, that
// the leftover temporary of big.bin holds version noted ("SIZE MTIME-NS").
func resumeRun(t *testing.T, srv *ftptest.Server, mode ferrysync.Mode, local, noted string) *ferrysync.Result {
	t.Helper()
	kind := "temp-up"
	if mode == ferrysync.Pull {
		kind = "temp-down"
	}
	res := ftptestRun(t, srv.Addr, mode, local, func(o *ferrysync.Options) {
		js := journalled{o.Store.(*state.RootStore)}
		if _, err := js.JournalAdd(context.Background(), kind, "big.bin", noted); err != nil {
			t.Fatal(err)
		}
		o.Store = js
	})
	if len(res.Failed) > 0 {
		t.Fatalf("failed actions: %v", res.Failed)
	}
	return res
}

// stamp is how the journal names a version: size and mtime (ns).
func stamp(t *testing.T, p string, precision time.Duration) string {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d %d", st.Size(), st.ModTime().Truncate(precision).UnixNano())
}

// ftptestRun runs one sync of local <-> /site on the ftptest server at
// addr with a fresh state cache; edit adjusts the options.
func ftptestRun(t *testing.T, addr string, mode ferrysync.Mode, local string, edit func(*ferrysync.Options)) *ferrysync.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := db.Bind(ctx, local, "ftp://test@"+addr+"/site")
	if err != nil {
		t.Fatal(err)
	}
	pool := ftp.NewPool(ftp.Config{Addr: addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 10 * time.Second}, 2)
	defer pool.Close()
	o := ferrysync.Options{Mode: mode, Local: local, Pool: pool, Remote: "/site", Store: store, Parallel: 2, MaxDelete: -1}
	if edit != nil {
		edit(&o)
	}
	res, err := ferrysync.Run(ctx, o)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := store.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return res
}

func resumeBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestResumeLeftoverUpload: a killed push left the first 3 MiB of a 5 MiB
// file as the remote temporary; the next push resumes with REST at 3 MiB
// when the server allows it, and uploads the whole file when it refuses
// (proftpd) or when the leftover is not a prefix.
func TestResumeLeftoverUpload(t *testing.T) {
	const size, done = 5 << 20, 3 << 20
	data := resumeBytes(size, 1)
	// The file as it was before an edit of its first bytes: the leftover
	// of an upload of that version ends like the new one, but is not a
	// prefix of it.
	edited := append([]byte("an edit before the end"), data[22:]...)
	cases := []struct {
		name      string
		opts      ftptest.Options
		leftover  []byte
		noteOther bool // the journal notes another version than the file's
		wantRest  []string
	}{
		{"prefix resumed", ftptest.Options{}, data[:done], false, []string{"3080192", "3145728"}},
		{"server refuses REST STOR", ftptest.Options{RefuseRestSTOR: true}, data[:done], false, []string{"3080192", "3145728"}},
		{"not a prefix", ftptest.Options{}, resumeBytes(done, 2), false, []string{"3080192"}},
		{"leftover of an older version with the same end", ftptest.Options{}, edited[:done], true, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log restLog
			tc.opts.Hook = log.hook
			srv := ftptest.NewServer(t.TempDir(), tc.opts)
			t.Cleanup(srv.Close)
			local := t.TempDir()
			if err := os.WriteFile(filepath.Join(local, "big.bin"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(srv.Root, "site"), 0o755)
			if err := os.WriteFile(filepath.Join(srv.Root, "site", ".big.bin.ferry-tmp"), tc.leftover, 0o644); err != nil {
				t.Fatal(err)
			}
			noted := stamp(t, filepath.Join(local, "big.bin"), 0)
			if tc.noteOther {
				noted = fmt.Sprintf("%d %d", size, time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
			}
			res := resumeRun(t, srv, ferrysync.Push, local, noted)
			if res.FilesUp != 1 {
				t.Errorf("FilesUp = %d, want 1", res.FilesUp)
			}
			got, err := os.ReadFile(filepath.Join(srv.Root, "site", "big.bin"))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("remote big.bin: %d bytes, %v; want the %d source bytes", len(got), err, size)
			}
			if _, err := os.Stat(filepath.Join(srv.Root, "site", ".big.bin.ferry-tmp")); !os.IsNotExist(err) {
				t.Errorf("temporary still there: %v", err)
			}
			if rest := log.got(); !equalStrings(rest, tc.wantRest) {
				t.Errorf("REST offsets = %v, want %v", rest, tc.wantRest)
			}
		})
	}
}

// TestResumeLeftoverDownload: a killed pull left the first 3 MiB as the
// local temporary; the next pull restarts 64 KiB before its end, checks
// the overlap, and starts over when the leftover is not a prefix.
func TestResumeLeftoverDownload(t *testing.T) {
	const size, done = 5 << 20, 3 << 20
	data := resumeBytes(size, 3)
	cases := []struct {
		name     string
		leftover []byte
		wantRest []string
	}{
		{"prefix resumed", data[:done], []string{"3080192"}},
		{"not a prefix", resumeBytes(done, 4), []string{"3080192"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log restLog
			srv := ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: log.hook})
			t.Cleanup(srv.Close)
			os.MkdirAll(filepath.Join(srv.Root, "site"), 0o755)
			if err := os.WriteFile(filepath.Join(srv.Root, "site", "big.bin"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			local := t.TempDir()
			if err := os.WriteFile(filepath.Join(local, ".big.bin.ferry-tmp"), tc.leftover, 0o644); err != nil {
				t.Fatal(err)
			}
			res := resumeRun(t, srv, ferrysync.Pull, local, stamp(t, filepath.Join(srv.Root, "site", "big.bin"), time.Second))
			if res.FilesDown != 1 || res.BytesDown != size {
				t.Errorf("FilesDown = %d, BytesDown = %d; want 1, %d", res.FilesDown, res.BytesDown, size)
			}
			got, err := os.ReadFile(filepath.Join(local, "big.bin"))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("local big.bin: %d bytes, %v; want the %d remote bytes", len(got), err, size)
			}
			if _, err := os.Stat(filepath.Join(local, ".big.bin.ferry-tmp")); !os.IsNotExist(err) {
				t.Errorf("temporary still there: %v", err)
			}
			if rest := log.got(); !equalStrings(rest, tc.wantRest) {
				t.Errorf("REST offsets = %v, want %v", rest, tc.wantRest)
			}
		})
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
