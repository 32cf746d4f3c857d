package sync_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

// This file holds the small helpers of the two-way tests (twoway_*_test.go).
// They are kept apart from the one-way tests' helpers, which may change.

// twServer is one FTP server the two-way tests run against.
type twServer struct {
	name string // "ftptest-mlsd", "ftptest-list", "vsftpd", "proftpd", "pure-ftpd"
	cfg  ftp.Config
	root string // the served folder on disk: the client's "/"
	// uid and gid own what a test writes on the server's disk (-1: as is).
	uid, gid int
	// list is true when the server lists with LIST only: times are
	// minute-precise for recent files and day-precise for files older than
	// six months or in the future.
	list bool
}

// twListShape is ftptest in vsftpd's shape: no MLSD/MLST, no MFMT, and
// times set with "MDTM time path".
func twListShape() ftptest.Options {
	return ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true}
}

// twStartFTPTest starts an in-process test server, stopped when t ends.
func twStartFTPTest(t *testing.T, name string, opts ftptest.Options) *twServer {
	t.Helper()
	srv := ftptest.NewServer(t.TempDir(), opts)
	t.Cleanup(srv.Close)
	return &twServer{
		name: name, root: srv.Root, uid: -1, gid: -1, list: opts.DisableMLSD,
		cfg: ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 20 * time.Second},
	}
}

// twStartReal starts a real server (vsftpd, proftpd, pure-ftpd), stopped
// when t ends; skipped where it cannot run unless FERRY_REQUIRE_FTP_SERVERS=1.
func twStartReal(t *testing.T, kind string) *twServer {
	t.Helper()
	srv := ftpd.Start(t, kind, ftpd.Options{})
	return &twServer{
		name: kind, root: srv.Root, uid: srv.UID, gid: srv.GID, list: kind == "vsftpd",
		cfg: ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password, Timeout: 20 * time.Second},
	}
}

// twStart starts the server named name (see twServer.name).
func twStart(t *testing.T, name string) *twServer {
	t.Helper()
	switch name {
	case "ftptest-mlsd":
		return twStartFTPTest(t, name, ftptest.Options{})
	case "ftptest-list":
		return twStartFTPTest(t, name, twListShape())
	}
	return twStartReal(t, name)
}

// twJob is one two-way sync root: a local folder, a remote folder and a
// state cache file, each run with a fresh pool, as the CLI runs it.
type twJob struct {
	srv    *twServer
	local  string
	remote string // absolute remote folder, "/name"
	state  string
}

// twNewJob makes an empty local folder and an empty remote folder "/name".
func twNewJob(t *testing.T, srv *twServer, name string) *twJob {
	t.Helper()
	j := &twJob{srv: srv, local: t.TempDir(), remote: "/" + name, state: filepath.Join(t.TempDir(), "state.db")}
	if err := os.MkdirAll(j.remoteDisk(), 0o755); err != nil {
		t.Fatal(err)
	}
	j.chown(t)
	return j
}

// remoteDisk is the remote folder on the server's disk.
func (j *twJob) remoteDisk() string {
	return filepath.Join(j.srv.root, strings.TrimPrefix(j.remote, "/"))
}

// side returns the folder on disk of the local (0) or remote (1) side.
func (j *twJob) side(s int) string {
	if s == 0 {
		return j.local
	}
	return j.remoteDisk()
}

// chown gives the server's user everything in the remote folder, so the
// server may rename and delete what a test wrote there directly.
func (j *twJob) chown(t *testing.T) {
	t.Helper()
	if j.srv.uid < 0 {
		return
	}
	err := filepath.WalkDir(j.remoteDisk(), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, j.srv.uid, j.srv.gid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// run runs one two-way sync with a fresh pool of 4 and the job's state
// cache, after edit (if any) adjusted the options; the store is closed
// (flushed) afterwards, also when the run failed.
func (j *twJob) run(ctx context.Context, t *testing.T, edit func(o *ferrysync.Options)) (*ferrysync.Result, error) {
	t.Helper()
	db, err := state.Open(context.WithoutCancel(ctx), j.state)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := "ftp://" + j.srv.cfg.User + "@" + j.srv.cfg.Addr + j.remote
	store, err := db.Bind(context.WithoutCancel(ctx), j.local, key)
	if err != nil {
		t.Fatal(err)
	}
	pool := ftp.NewPool(j.srv.cfg, 4)
	defer pool.Close()
	o := ferrysync.Options{
		Mode: ferrysync.TwoWay, Local: j.local, Pool: pool, Remote: j.remote, Store: journalled{store},
		Parallel: 4, MaxDelete: -1,
	}
	if edit != nil {
		edit(&o)
	}
	res, runErr := ferrysync.Run(ctx, o)
	if err := store.Close(context.WithoutCancel(ctx)); err != nil {
		t.Fatalf("closing the state store: %v", err)
	}
	return res, runErr
}

// mustRun is run that fails the test on an error or a failed action.
func (j *twJob) mustRun(ctx context.Context, t *testing.T, edit func(o *ferrysync.Options)) *ferrysync.Result {
	t.Helper()
	res, err := j.run(ctx, t, edit)
	if err != nil {
		t.Fatalf("two-way sync: %v", err)
	}
	if len(res.Failed) > 0 {
		t.Fatalf("two-way sync: %d actions failed: %v", len(res.Failed), res.Failed)
	}
	return res
}

// twEntry is what a snapshot keeps of one path.
type twEntry struct {
	dir   bool
	size  int64
	sha   string
	mtime time.Time
}

// twSnap reads every entry below dir: folders, and files with their size,
// sha256 and mtime. Anything else fails the test.
func twSnap(t *testing.T, dir string) map[string]twEntry {
	t.Helper()
	out := map[string]twEntry{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			out[rel] = twEntry{dir: true}
			return nil
		}
		if !d.Type().IsRegular() {
			return errors.New(p + " is neither a file nor a folder")
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = twEntry{size: int64(len(data)), sha: twSum(data), mtime: info.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func twSum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

// twTreeDiff lists how b differs from a in names, kinds, sizes and
// contents (not times); nil when they are the same tree.
func twTreeDiff(a, b map[string]twEntry) []string {
	var out []string
	for _, p := range twKeys(a) {
		x, y := a[p], b[p]
		if _, ok := b[p]; !ok {
			out = append(out, "only in the first: "+p)
			continue
		}
		if x.dir != y.dir || x.size != y.size || x.sha != y.sha {
			out = append(out, "differs: "+p)
		}
	}
	for _, p := range twKeys(b) {
		if _, ok := a[p]; !ok {
			out = append(out, "only in the second: "+p)
		}
	}
	return out
}

// twTemps lists ferry's temporaries (".NAME.ferry-tmp") in a snapshot.
func twTemps(s map[string]twEntry) []string {
	var out []string
	for _, p := range twKeys(s) {
		if b := path.Base(p); strings.HasPrefix(b, ".") && strings.HasSuffix(b, ".ferry-tmp") {
			out = append(out, p)
		}
	}
	return out
}

func twKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// twConflictMark is the marker ConflictName puts into a name.
var twConflictMark = regexp.MustCompile(`\.conflict-\d{8}-\d{6}(-[1-9]\d*)?`)

// twConflictMarkOnly matches a marker and nothing else.
var twConflictMarkOnly = regexp.MustCompile(`^\.conflict-\d{8}-\d{6}(-[1-9]\d*)?$`)

// twIsConflictCopyOf reports whether q is a conflict copy of p, as SPEC
// names them: NAME.conflict-YYYYMMDD-HHMMSS[-N].EXT in p's folder, with the
// marker before the extension (after the whole name for dotfiles and names
// without one).
func twIsConflictCopyOf(q, p string) bool {
	if path.Dir(q) != path.Dir(p) {
		return false
	}
	base, qb := path.Base(p), path.Base(q)
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 && i < len(base)-1 {
		stem, ext = base[:i], base[i:]
	}
	if !strings.HasPrefix(qb, stem) || !strings.HasSuffix(qb, ext) || len(qb) < len(stem)+len(ext) {
		return false
	}
	mark := qb[len(stem) : len(qb)-len(ext)]
	if !twConflictMarkOnly.MatchString(mark) {
		return false
	}
	_, err := time.Parse("20060102-150405", mark[len(".conflict-"):len(".conflict-")+15])
	return err == nil
}

// twIsConflictName reports whether a base name carries a conflict marker.
func twIsConflictName(p string) bool { return twConflictMark.MatchString(path.Base(p)) }

// twMoves lists the plan's actions as "op path" (renames as "op path ->
// to"), sorted, leaving out Adopt and Forget (bookkeeping, nothing moves).
func twMoves(res *ferrysync.Result) []string {
	var out []string
	if res == nil || res.Plan == nil {
		return nil
	}
	for _, a := range res.Plan.Actions {
		if a.Op == plan.Adopt || a.Op == plan.Forget {
			continue
		}
		s := a.Op.String() + " " + a.Path
		if a.To != "" {
			s += " -> " + a.To
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// twAllActions lists every action of the plan, bookkeeping included.
func twAllActions(res *ferrysync.Result) []string {
	var out []string
	if res == nil || res.Plan == nil {
		return nil
	}
	for _, a := range res.Plan.Actions {
		out = append(out, a.String())
	}
	return out
}

// twWrite writes data at p (creating its folder) and sets its mtime.
func twWrite(t *testing.T, p string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// twAssertNoOp runs a sync right after another and checks it plans and does
// nothing at all: no transfer, no delete, not even a state write.
func twAssertNoOp(ctx context.Context, t *testing.T, j *twJob, what string) {
	t.Helper()
	res := j.mustRun(ctx, t, nil)
	if n := len(res.Plan.Actions); n > 0 || res.FilesUp+res.FilesDown+res.Deleted > 0 {
		t.Errorf("%s: the sync right after is not a no-op: up %d, down %d, deleted %d, plan:\n%s",
			what, res.FilesUp, res.FilesDown, res.Deleted, strings.Join(twAllActions(res), "\n"))
	}
}

// twAssertInStep checks that both sides hold the same tree and no
// temporaries, and returns it.
func twAssertInStep(t *testing.T, j *twJob, what string) map[string]twEntry {
	t.Helper()
	l, r := twSnap(t, j.local), twSnap(t, j.remoteDisk())
	if d := twTreeDiff(l, r); len(d) > 0 {
		t.Errorf("%s: local (first) and remote (second) differ:\n%s", what, strings.Join(d, "\n"))
	}
	if tmp := append(twTemps(l), twTemps(r)...); len(tmp) > 0 {
		t.Errorf("%s: temporaries left: %q", what, tmp)
	}
	return l
}
