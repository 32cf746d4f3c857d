package sync_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
)

var (
	twRoundsFlag = flag.Int("twoway.rounds", 0, "rounds per seed of TestTwoWayProperty (0: each variant's default)")
	twSeedsFlag  = flag.Int("twoway.seeds", 0, "seeds per variant of TestTwoWayProperty (0: each variant's default)")
	twSeedFlag   = flag.Uint64("twoway.seed", 1, "first seed of TestTwoWayProperty; with -twoway.seeds=1 it replays one seed")
)

// twVariant is one server setup of the property test.
type twVariant struct {
	server        string // see twServer.name
	seeds, rounds int    // defaults
}

// TestTwoWayProperty runs the real engine against a real server through
// seeded random rounds. Before each sync both sides get random operations
// (create; rewrite with the same size, with another size, with an mtime in
// the past or the future; delete; rename; mkdir; recursive rmdir; edits of
// one path on both sides; a new file inside a folder the other side
// deletes). After each sync it asserts:
//
//   - both trees are identical (names, kinds, sizes, sha256) and hold no
//     ".ferry-tmp" temporaries;
//   - every file version present on either side just before the sync is on
//     both sides afterwards, under its name or as a conflict copy of it
//     (NAME.conflict-YYYYMMDD-HHMMSS[-N].EXT), unless that side's copy was
//     unchanged since the last sync and the other side deleted or changed it;
//   - no content appears that neither side had;
//   - the run failed no action, and a second sync right after plans nothing.
//
// Remote operations are made directly in the served folder, with mtimes set
// to whole seconds. Each edit gets a fresh time from twClock, at least one
// listing-precision step away from every other time of the run, so an edit
// always changes what the listing shows: with LIST, recent times are shown
// to the minute and times older than six months or in the future to the
// day, so a same-size edit that moved the mtime by less than that would be
// invisible to any size-and-mtime sync (SPEC: "compares by size and
// modification time"), and is therefore never generated.
//
// Replay a failure with -run 'TestTwoWayProperty/VARIANT/seed=N'.
// -twoway.seeds, -twoway.rounds and -twoway.seed scale the run.
func TestTwoWayProperty(t *testing.T) {
	variants := []twVariant{
		{server: "ftptest-mlsd", seeds: 40, rounds: 8},
		{server: "ftptest-list", seeds: 20, rounds: 5},
		{server: "vsftpd", seeds: 3, rounds: 4},
	}
	for _, v := range variants {
		t.Run(v.server, func(t *testing.T) {
			t.Parallel()
			seeds, rounds := v.seeds, v.rounds
			if *twSeedsFlag > 0 {
				seeds = *twSeedsFlag
			}
			if *twRoundsFlag > 0 {
				rounds = *twRoundsFlag
			}
			if testing.Short() {
				seeds, rounds = max(1, seeds/8), max(2, rounds/2)
			}
			srv := twStart(t, v.server)
			t.Logf("%s: seeds %d..%d, %d rounds each", v.server, *twSeedFlag, *twSeedFlag+uint64(seeds)-1, rounds)
			for i := range seeds {
				seed := *twSeedFlag + uint64(i)
				t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
					t.Parallel()
					t.Logf("seed %d (replay: -run 'TestTwoWayProperty/%s/seed=%d$')", seed, v.server, seed)
					w := twNewWorld(t, srv, seed)
					w.play(t.Context(), rounds)
				})
			}
		})
	}
}

// twClock hands out modification times, each a listing-precision step
// away from all others: recent ones (shown to the minute by LIST), past
// ones older than six months and future ones (both shown to the day).
type twClock struct {
	now  time.Time
	step time.Duration // between recent times
	n    int
}

func (c *twClock) next() int { c.n++; return c.n }

func (c *twClock) recent() time.Time {
	return c.now.Add(-20 * 24 * time.Hour).Add(time.Duration(c.next()) * c.step)
}

func (c *twClock) past() time.Time {
	return c.now.Add(-400 * 24 * time.Hour).Add(-time.Duration(c.next()) * 25 * time.Hour)
}

func (c *twClock) future() time.Time {
	return c.now.Add(3 * 24 * time.Hour).Add(time.Duration(c.next()) * 25 * time.Hour)
}

// twWorld is one seed's sync root and its random history.
type twWorld struct {
	t     *testing.T
	rng   *rand.Rand
	j     *twJob
	clock twClock
	// synced is the tree both sides held after the last sync (nil before
	// the first).
	synced map[string]twEntry
}

// twAnchor is a local file no operation touches: a local root without
// files would (rightly) stop the run as "vanished".
const twAnchor = "anchor.txt"

// The name space of the random operations is small, so that operations
// of both sides meet: the same paths, a file "c" against a folder "a/c".
var (
	twDirs  = []string{"a", "b", "a/c", "b/d e", "a/c/z"}
	twFiles = []string{"f1.txt", "f2", ".hidden", "g h.md", "x.tar.gz", "c"}
)

func twNewWorld(t *testing.T, srv *twServer, seed uint64) *twWorld {
	step := 2 * time.Second
	if srv.list {
		step = 2 * time.Minute
	}
	now := time.Now().UTC().Truncate(time.Minute)
	return &twWorld{
		t: t, rng: rand.New(rand.NewPCG(seed, 0x7779)), clock: twClock{now: now, step: step},
		j: twNewJob(t, srv, fmt.Sprintf("seed-%d", seed)),
	}
}

func (w *twWorld) play(ctx context.Context, rounds int) {
	t := w.t
	twWrite(t, filepath.Join(w.j.local, twAnchor), []byte("anchor\n"), w.clock.recent())
	for round := range rounds {
		if round == 0 {
			// First run: both sides start with their own files (a merge).
			for s := range 2 {
				for range 3 + w.rng.IntN(5) {
					w.create(s)
				}
			}
		} else {
			for range 1 + w.rng.IntN(8) {
				w.randomOp(w.rng.IntN(2))
			}
			if w.rng.IntN(3) == 0 {
				w.bothEdit()
			}
			if w.rng.IntN(4) == 0 {
				w.addIntoDeleted()
			}
		}
		w.j.chown(t)
		w.sync(ctx, round)
		if t.Failed() {
			t.FailNow()
		}
	}
}

// sync runs one sync and checks the round's invariants.
func (w *twWorld) sync(ctx context.Context, round int) {
	t := w.t
	pre := [2]map[string]twEntry{twSnap(t, w.j.local), twSnap(t, w.j.remoteDisk())}
	res := w.j.mustRun(ctx, t, func(o *ferrysync.Options) { o.MaxDelete = 1 << 30 })
	t.Logf("round %d: up %d, down %d, deleted %d, adopted %d; plan:\n%s",
		round, res.FilesUp, res.FilesDown, res.Deleted, res.Adopted, strings.Join(twAllActions(res), "\n"))
	for _, err := range res.Warnings {
		t.Logf("round %d: warning: %v", round, err)
	}
	for _, p := range res.Plan.Problems {
		t.Errorf("round %d: plan problem: %s", round, p)
	}
	what := fmt.Sprintf("round %d", round)
	after := twAssertInStep(t, w.j, what)
	w.checkVersions(what, pre, after)
	twAssertNoOp(ctx, t, w.j, what)
	w.synced = after
}

// checkVersions asserts that no version was lost and none invented.
func (w *twWorld) checkVersions(what string, pre [2]map[string]twEntry, after map[string]twEntry) {
	t := w.t
	had := map[string]bool{}
	for s, tree := range pre {
		other := pre[1-s]
		for p, e := range tree {
			if e.dir {
				continue
			}
			had[e.sha] = true
			if old, ok := w.synced[p]; ok && !old.dir && old.sha == e.sha {
				// Unchanged on this side: it yields to a delete or change
				// on the other side.
				if o, ok := other[p]; !ok || o.dir || o.sha != e.sha {
					continue
				}
			}
			if !twKept(after, p, e.sha) {
				t.Errorf("%s: the %s version of %q (%d bytes, sha %.12s) was lost", what, twSideName(s), p, e.size, e.sha)
			}
		}
	}
	for p, e := range after {
		if !e.dir && !had[e.sha] {
			t.Errorf("%s: %q holds content neither side had (sha %.12s)", what, p, e.sha)
		}
	}
}

// twKept reports whether tree holds content sha at p or in a conflict
// copy of p.
func twKept(tree map[string]twEntry, p, sha string) bool {
	if e, ok := tree[p]; ok && !e.dir && e.sha == sha {
		return true
	}
	for q, e := range tree {
		if !e.dir && e.sha == sha && twIsConflictCopyOf(q, p) {
			return true
		}
	}
	return false
}

func twSideName(s int) string {
	if s == 0 {
		return "local"
	}
	return "remote"
}

// Random operations. Each one logs what it did; a name that does not fit
// (a parent that is a file, nothing to pick) makes it do nothing.

func (w *twWorld) randomOp(s int) {
	switch n := w.rng.IntN(16); {
	case n < 3:
		w.create(s)
	case n < 5:
		w.modify(s, "same size", w.clock.recent)
	case n < 7:
		w.modify(s, "other size", w.clock.recent)
	case n < 8:
		w.modify(s, "other size", w.clock.past)
	case n < 9:
		w.modify(s, "same size", w.clock.future)
	case n < 11:
		w.remove(s)
	case n < 13:
		w.rename(s)
	case n < 14:
		w.mkdir(s)
	default:
		w.rmdir(s)
	}
}

// mtime returns a time from gen for side s: whole seconds on the server,
// with a random fraction of a second locally.
func (w *twWorld) mtime(s int, gen func() time.Time) time.Time {
	m := gen()
	if s == 0 {
		m = m.Add(time.Duration(w.rng.Int64N(int64(time.Second))))
	}
	return m
}

func (w *twWorld) content(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte('a' + w.rng.IntN(26))
	}
	return b
}

func (w *twWorld) randomSize() int {
	if w.rng.IntN(8) == 0 {
		return 0
	}
	return 1 + w.rng.IntN(3000)
}

func (w *twWorld) disk(s int, p string) string {
	return filepath.Join(w.j.side(s), filepath.FromSlash(p))
}

// files and dirs list side s's files (the anchor left out) and folders.
func (w *twWorld) entries(s int, dirs bool) []string {
	var out []string
	snap := twSnap(w.t, w.j.side(s))
	for _, p := range twKeys(snap) {
		if snap[p].dir == dirs && p != twAnchor {
			out = append(out, p)
		}
	}
	return out
}

func (w *twWorld) pick(ps []string) (string, bool) {
	if len(ps) == 0 {
		return "", false
	}
	return ps[w.rng.IntN(len(ps))], true
}

// freePath picks a path of the name space that is free on side s and whose
// parents are folders or absent there.
func (w *twWorld) freePath(s int, inDir string) (string, bool) {
	for range 20 {
		dir := inDir
		if dir == "" && w.rng.IntN(3) > 0 {
			dir = twDirs[w.rng.IntN(len(twDirs))]
		}
		p := path.Join(dir, twFiles[w.rng.IntN(len(twFiles))])
		if w.fits(s, p) {
			return p, true
		}
	}
	return "", false
}

func (w *twWorld) fits(s int, p string) bool {
	if _, err := os.Lstat(w.disk(s, p)); err == nil {
		return false
	}
	for q := path.Dir(p); q != "."; q = path.Dir(q) {
		if fi, err := os.Lstat(w.disk(s, q)); err == nil && !fi.IsDir() {
			return false
		}
	}
	return true
}

func (w *twWorld) logf(s int, format string, args ...any) {
	w.t.Logf("  %s: "+format, append([]any{twSideName(s)}, args...)...)
}

func (w *twWorld) create(s int) {
	p, ok := w.freePath(s, "")
	if !ok {
		return
	}
	w.createAt(s, p)
}

func (w *twWorld) createAt(s int, p string) {
	m := w.mtime(s, w.clock.recent)
	data := w.content(w.randomSize())
	twWrite(w.t, w.disk(s, p), data, m)
	w.logf(s, "create %q (%d bytes, %s)", p, len(data), m.Format(time.RFC3339Nano))
}

func (w *twWorld) modify(s int, how string, gen func() time.Time) {
	p, ok := w.pick(w.entries(s, false))
	if ok {
		w.modifyAt(s, p, how, gen)
	}
}

// modifyAt rewrites p with new content: of the same size (when it has
// one) or another, and a new mtime from gen.
func (w *twWorld) modifyAt(s int, p, how string, gen func() time.Time) {
	old, err := os.ReadFile(w.disk(s, p))
	if err != nil {
		w.t.Fatal(err)
	}
	var data []byte
	if how == "same size" && len(old) > 0 {
		data = bytes.Clone(old)
		i := w.rng.IntN(len(data))
		data[i] ^= 0x20 // a letter changes case: never the old byte
	} else {
		for data = w.content(w.randomSize()); len(data) == len(old); {
			data = w.content(w.randomSize())
		}
	}
	m := w.mtime(s, gen)
	twWrite(w.t, w.disk(s, p), data, m)
	w.logf(s, "modify %q, %s (%d -> %d bytes, %s)", p, how, len(old), len(data), m.Format(time.RFC3339Nano))
}

func (w *twWorld) remove(s int) {
	if p, ok := w.pick(w.entries(s, false)); ok {
		if err := os.Remove(w.disk(s, p)); err != nil {
			w.t.Fatal(err)
		}
		w.logf(s, "delete %q", p)
	}
}

func (w *twWorld) rename(s int) {
	p, ok := w.pick(w.entries(s, false))
	if !ok {
		return
	}
	to, ok := w.freePath(s, "")
	if !ok {
		return
	}
	if err := os.MkdirAll(filepath.Dir(w.disk(s, to)), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(w.disk(s, p), w.disk(s, to)); err != nil {
		w.t.Fatal(err)
	}
	w.logf(s, "rename %q -> %q", p, to)
}

func (w *twWorld) mkdir(s int) {
	p := twDirs[w.rng.IntN(len(twDirs))]
	if !w.fits(s, p) {
		return
	}
	if err := os.MkdirAll(w.disk(s, p), 0o755); err != nil {
		w.t.Fatal(err)
	}
	w.logf(s, "mkdir %q", p)
}

func (w *twWorld) rmdir(s int) {
	if p, ok := w.pick(w.entries(s, true)); ok {
		if err := os.RemoveAll(w.disk(s, p)); err != nil {
			w.t.Fatal(err)
		}
		w.logf(s, "rmdir -r %q", p)
	}
}

// bothEdit rewrites one file that both sides hold, differently on each.
func (w *twWorld) bothEdit() {
	var both []string
	remote := map[string]bool{}
	for _, p := range w.entries(1, false) {
		remote[p] = true
	}
	for _, p := range w.entries(0, false) {
		if remote[p] {
			both = append(both, p)
		}
	}
	p, ok := w.pick(both)
	if !ok {
		return
	}
	how := []string{"same size", "other size"}
	w.logf(0, "edit on both sides:")
	w.modifyAt(0, p, how[w.rng.IntN(2)], w.clock.recent)
	w.modifyAt(1, p, how[w.rng.IntN(2)], w.clock.recent)
}

// addIntoDeleted deletes a folder both sides hold on one side and adds a
// file inside it on the other.
func (w *twWorld) addIntoDeleted() {
	remote := map[string]bool{}
	for _, p := range w.entries(1, true) {
		remote[p] = true
	}
	var both []string
	for _, p := range w.entries(0, true) {
		if remote[p] {
			both = append(both, p)
		}
	}
	dir, ok := w.pick(both)
	if !ok {
		return
	}
	s := w.rng.IntN(2)
	if err := os.RemoveAll(w.disk(s, dir)); err != nil {
		w.t.Fatal(err)
	}
	w.logf(s, "rmdir -r %q while the other side adds into it:", dir)
	if p, ok := w.freePath(1-s, dir); ok {
		w.createAt(1-s, p)
	}
}
