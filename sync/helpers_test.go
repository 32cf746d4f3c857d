package sync_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

// target is one FTP server the integration tests run against.
type target struct {
	kind string // "ftptest", "vsftpd", "pure-ftpd", "proftpd"
	cfg  ftp.Config
	root string // the served folder on disk: the client's "/"
	// uid and gid own what a test puts on the server (-1: leave as is).
	uid, gid int
}

// serverKinds are the servers of the matrix, the fast one first.
func serverKinds() []string { return append([]string{"ftptest"}, ftpd.Kinds()...) }

// startTarget starts a fresh server of kind for t; it is stopped when t
// ends. opts only applies to ftptest.
func startTarget(t *testing.T, kind string, opts ftptest.Options) target {
	t.Helper()
	if kind == "ftptest" {
		srv := ftptest.NewServer(t.TempDir(), opts)
		t.Cleanup(srv.Close)
		return target{
			kind: kind, root: srv.Root, uid: -1, gid: -1,
			cfg: ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 20 * time.Second},
		}
	}
	srv := ftpd.Start(t, kind, ftpd.Options{})
	return target{
		kind: kind, root: srv.Root, uid: srv.UID, gid: srv.GID,
		cfg: ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password, Timeout: 20 * time.Second},
	}
}

// forEachServer runs fn as a parallel subtest against each server kind.
func forEachServer(t *testing.T, fn func(t *testing.T, tg target)) {
	t.Helper()
	for _, kind := range serverKinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, startTarget(t, kind, ftptest.Options{}))
		})
	}
}

// disk returns the on-disk path of the remote folder dir ("/site").
func (tg target) disk(dir string) string {
	return filepath.Join(tg.root, filepath.FromSlash(strings.TrimPrefix(dir, "/")))
}

// chownTree gives the server's user everything under the remote folder
// dir (and dir's parents below the root), so the server may change it.
func (tg target) chownTree(t *testing.T, dir string) {
	t.Helper()
	if tg.uid < 0 {
		return
	}
	top := tg.disk(dir)
	err := filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, tg.uid, tg.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := filepath.Dir(top); len(p) > len(tg.root); p = filepath.Dir(p) {
		if err := os.Lchown(p, tg.uid, tg.gid); err != nil {
			t.Fatal(err)
		}
	}
}

// seed writes tree to the remote folder dir directly on the server's disk.
func (tg target) seed(t *testing.T, dir string, tree []node) {
	t.Helper()
	writeTree(t, tg.disk(dir), tree)
	tg.chownTree(t, dir)
}

// node is one entry of a test tree: a folder when Path ends in "/".
type node struct {
	Path  string
	Data  []byte
	MTime time.Time // zero: leave as written
}

// baseTime is the mtime most test files carry: long ago (vsftpd then lists
// a date with a year only) and with a fraction of a second, which the
// remote side drops.
var baseTime = time.Date(2023, 5, 6, 7, 8, 9, 500_000_000, time.UTC)

// richTree is the tree of the round-trip tests: nested and empty folders,
// an empty file, unicode, spaces, leading dashes, brackets and dotfiles.
func richTree() []node {
	rng := rand.New(rand.NewPCG(1, 2))
	bin := make([]byte, 300_000)
	for i := range bin {
		bin[i] = byte(rng.Uint32())
	}
	at := func(i int) time.Time { return baseTime.Add(time.Duration(i) * 37 * time.Minute) }
	return []node{
		{Path: "README.txt", Data: []byte("hello from ferry\n"), MTime: at(0)},
		{Path: "empty.txt", Data: nil, MTime: at(1)},
		{Path: "with space.txt", Data: []byte("spaces  inside\n"), MTime: at(2)},
		{Path: "two  spaces", Data: []byte("trailing\n"), MTime: at(3)},
		{Path: "héllo wörld ✓ 日本.txt", Data: []byte("naïve café ✓\n"), MTime: at(4)},
		{Path: "-leading dash", Data: []byte("dash\n"), MTime: at(5)},
		{Path: "[brackets] (1).txt", Data: []byte("brackets\n"), MTime: at(6)},
		{Path: ".htaccess", Data: []byte("Options -Indexes\n"), MTime: at(7)},
		{Path: ".well-known/security.txt", Data: []byte("Contact: x\n"), MTime: at(8)},
		{Path: "nested/a/b/deep.txt", Data: bytes.Repeat([]byte("deep\n"), 1000), MTime: at(9)},
		{Path: "nested/a/blob.bin", Data: bin, MTime: at(10)},
		{Path: "nested/empty/"},
		{Path: "empty folder/"},
		{Path: "-dash dir/ü file", Data: []byte("ü\n"), MTime: time.Now().Add(-time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)},
	}
}

// writeTree creates tree under dir.
func writeTree(t *testing.T, dir string, tree []node) {
	t.Helper()
	for _, n := range tree {
		p := filepath.Join(dir, filepath.FromSlash(n.Path))
		if strings.HasSuffix(n.Path, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, p, n.Data, n.MTime)
	}
}

func writeFile(t *testing.T, p string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

// fileInfo is what a snapshot keeps of one path.
type fileInfo struct {
	Dir   bool
	Size  int64
	SHA   string
	MTime int64 // Unix seconds
	Ino   uint64
	Ctime time.Time
}

// snapshot reads every entry below dir (symlinks included, not followed):
// the sha256 of each file, its mtime to the second, inode and ctime.
// A missing dir is an empty snapshot.
func snapshot(t *testing.T, dir string) map[string]fileInfo {
	t.Helper()
	out := map[string]fileInfo{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == dir {
			return fs.SkipAll
		}
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		st := info.Sys().(*syscall.Stat_t)
		fi := fileInfo{Dir: d.IsDir(), MTime: info.ModTime().Unix(), Ino: st.Ino, Ctime: time.Unix(st.Ctim.Unix())}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			fi.Size = int64(len(data))
			fi.SHA = hex.EncodeToString(sum[:])
		} else if !d.IsDir() {
			fi.SHA = "non-regular " + info.Mode().Type().String()
		}
		out[rel] = fi
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertSameTree checks that got holds exactly want's paths, with the same
// kinds, contents (sha256) and file mtimes to the second.
func assertSameTree(t *testing.T, what string, want, got map[string]fileInfo) {
	t.Helper()
	for _, p := range sortedKeys(want) {
		w := want[p]
		g, ok := got[p]
		switch {
		case !ok:
			t.Errorf("%s: %q missing", what, p)
		case w.Dir != g.Dir:
			t.Errorf("%s: %q is dir=%v, want dir=%v", what, p, g.Dir, w.Dir)
		case w.Dir:
		case w.SHA != g.SHA:
			t.Errorf("%s: %q sha256 %.12s (%d bytes), want %.12s (%d bytes)", what, p, g.SHA, g.Size, w.SHA, w.Size)
		case w.MTime != g.MTime:
			t.Errorf("%s: %q mtime %v, want %v", what, p, time.Unix(g.MTime, 0).UTC(), time.Unix(w.MTime, 0).UTC())
		}
	}
	for _, p := range sortedKeys(got) {
		if _, ok := want[p]; !ok {
			t.Errorf("%s: unexpected %q", what, p)
		}
	}
}

// assertUntouched checks that no file of before was rewritten, replaced or
// removed (same inode and ctime) and nothing was added.
func assertUntouched(t *testing.T, what string, before, after map[string]fileInfo) {
	t.Helper()
	for _, p := range sortedKeys(before) {
		b, a := before[p], after[p]
		if _, ok := after[p]; !ok {
			t.Errorf("%s: %q was removed", what, p)
			continue
		}
		if !b.Dir && (a.Ino != b.Ino || !a.Ctime.Equal(b.Ctime) || a.SHA != b.SHA) {
			t.Errorf("%s: %q was rewritten (inode %d→%d, ctime %v→%v)", what, p, b.Ino, a.Ino, b.Ctime, a.Ctime)
		}
	}
	for _, p := range sortedKeys(after) {
		if _, ok := before[p]; !ok {
			t.Errorf("%s: %q was added", what, p)
		}
	}
}

// without returns s minus the paths for which drop is true.
func without(s map[string]fileInfo, drop func(p string) bool) map[string]fileInfo {
	out := map[string]fileInfo{}
	for p, fi := range s {
		if !drop(p) {
			out[p] = fi
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// temps lists ferry's temporaries (".NAME.ferry-tmp") in a snapshot.
func temps(s map[string]fileInfo) []string {
	var out []string
	for _, p := range sortedKeys(s) {
		base := path.Base(p)
		if strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".ferry-tmp") {
			out = append(out, p)
		}
	}
	return out
}

// job is one sync root (a local folder and a remote folder) with its state
// cache file, run as the CLI would run it.
type job struct {
	tg     target
	local  string
	remote string // absolute remote folder
	state  string // state cache file
	// key is the remote as the state cache knows it; it stays the same
	// when a test moves the job to another server over the same folder.
	key string
}

func newJob(t *testing.T, tg target, remote string) *job {
	return &job{
		tg: tg, local: t.TempDir(), remote: remote, state: filepath.Join(t.TempDir(), "state.db"),
		key: "ftp://" + tg.cfg.User + "@" + tg.cfg.Addr + remote,
	}
}

// remoteDisk is the remote folder's path on the server's disk.
func (j *job) remoteDisk() string { return j.tg.disk(j.remote) }

// run runs one sync with a fresh pool and the job's state cache, after
// edit has adjusted the options. The store is closed (flushed) afterwards.
func (j *job) run(ctx context.Context, t *testing.T, mode ferrysync.Mode, edit func(o *ferrysync.Options)) (*ferrysync.Result, error) {
	t.Helper()
	db, err := state.Open(ctx, j.state)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := db.Bind(ctx, j.local, j.key)
	if err != nil {
		t.Fatal(err)
	}
	pool := ftp.NewPool(j.tg.cfg, 4)
	defer pool.Close()
	rep := &recorder{}
	o := ferrysync.Options{
		Mode: mode, Local: j.local, Pool: pool, Remote: j.remote, Store: journalled{store},
		Parallel: 4, MaxDelete: -1, Reporter: rep,
	}
	if edit != nil {
		edit(&o)
	}
	res, runErr := ferrysync.Run(ctx, o)
	if err := store.Close(context.WithoutCancel(ctx)); err != nil && runErr == nil {
		t.Fatalf("closing the state store: %v", err)
	}
	if res != nil {
		for _, f := range res.Failed {
			t.Logf("%s: failed: %v", mode, f)
		}
	}
	return res, runErr
}

// mustRun is run that fails the test on an error or a failed action.
func (j *job) mustRun(ctx context.Context, t *testing.T, mode ferrysync.Mode, edit func(o *ferrysync.Options)) *ferrysync.Result {
	t.Helper()
	res, err := j.run(ctx, t, mode, edit)
	if err != nil {
		t.Fatalf("%s: %v", mode, err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("%s: %d actions failed, first: %v", mode, len(res.Failed), res.Failed[0])
	}
	return res
}

// withStore opens the job's state cache, binds its root and hands the
// store to fn; both are closed afterwards.
func (j *job) withStore(ctx context.Context, t *testing.T, fn func(*state.RootStore)) {
	t.Helper()
	db, err := state.Open(ctx, j.state)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := db.Bind(ctx, j.local, j.key)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(ctx)
	fn(store)
}

// records loads the job's state cache.
func (j *job) records(ctx context.Context, t *testing.T) plan.State {
	t.Helper()
	var st plan.State
	j.withStore(ctx, t, func(s *state.RootStore) {
		var err error
		if st, err = s.Load(ctx); err != nil {
			t.Fatal(err)
		}
	})
	return st
}

// stateLen returns how many records the job's state cache holds.
func (j *job) stateLen(ctx context.Context, t *testing.T) int {
	t.Helper()
	return len(j.records(ctx, t))
}

// actions lists a result's plan as "op path" strings, sorted, leaving out
// Adopt and Forget (bookkeeping, nothing moves).
func actions(res *ferrysync.Result) []string {
	var out []string
	if res == nil || res.Plan == nil {
		return nil
	}
	for _, a := range res.Plan.Actions {
		if a.Op == plan.Adopt || a.Op == plan.Forget {
			continue
		}
		out = append(out, a.Op.String()+" "+a.Path)
	}
	sort.Strings(out)
	return out
}

// recorder is a Reporter that keeps warnings and can run a hook on
// progress (to simulate a kill mid-transfer).
type recorder struct {
	ferrysync.NopReporter
	mu       gosync.Mutex
	warnings []error
	progress func(a plan.Action, n int64)
}

func (r *recorder) Warn(err error) {
	r.mu.Lock()
	r.warnings = append(r.warnings, err)
	r.mu.Unlock()
}

func (r *recorder) Progress(a plan.Action, n int64) {
	if r.progress != nil {
		r.progress(a, n)
	}
}

// journalled is a state.RootStore with its journal, as package job hands
// it to a run (job.JournalledStore; the tests of sync do not import job).
type journalled struct{ *state.RootStore }

var _ ferrysync.JournalStore = journalled{}

func (s journalled) JournalEntries(ctx context.Context) ([]ferrysync.JournalEntry, error) {
	es, err := s.RootStore.Journal(ctx)
	var out []ferrysync.JournalEntry
	for _, e := range es {
		out = append(out, ferrysync.JournalEntry{ID: e.ID, Kind: e.Kind, Path: e.Path, Data: e.Data})
	}
	return out, err
}

// writeCounter is a Store that counts the writes a run makes.
type writeCounter struct {
	ferrysync.Store
	mu     gosync.Mutex
	writes []string
}

func (w *writeCounter) note(s string) {
	w.mu.Lock()
	w.writes = append(w.writes, s)
	w.mu.Unlock()
}

func (w *writeCounter) Put(p string, r plan.Record) error {
	w.note("put " + p)
	return w.Store.Put(p, r)
}

func (w *writeCounter) Delete(p string) error {
	w.note("delete " + p)
	return w.Store.Delete(p)
}

func (w *writeCounter) SetMeta(ctx context.Context, k, v string) error {
	w.note("meta " + k)
	return w.Store.SetMeta(ctx, k, v)
}
