package sync

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// RemoteEntry is a remote listing entry with its path relative to the
// walked root, for `ferry ls`.
type RemoteEntry struct {
	Rel string
	ftp.Entry
}

// Walk is the result of walking a remote tree.
type Walk struct {
	Tree    plan.Tree
	Entries []RemoteEntry // every entry seen, symlinks included, in no particular order
	// Problems are what the walk could not know, each error naming the
	// path: folders that could not be listed completely (in Tree.Unknown)
	// and names refused as unsafe (their folders are in Tree.Incomplete).
	// A run with problems is incomplete.
	Problems []error
	// Warnings are entries skipped on purpose: symlinks and other special
	// entries (in Tree.Unknown). They do not make a run incomplete.
	Warnings []error
	// RootMissing is true when the root folder itself does not exist.
	RootMissing bool
	// Temps are leftover temporary files of ferry (relative paths) with
	// their sizes; they are not in Tree.
	Temps map[string]int64
	// ProbeDirs are scratch folders of killed probes (ftp.IsProbeDir),
	// relative paths; not in Tree.
	ProbeDirs []string
	// Listings is how many folder listings were made (retries included),
	// Conns on how many connections at most.
	Listings, Conns int
}

// WalkRemote lists root and every folder below it, with up to parallel
// listings in flight, each on a connection of the pool. The root's listing
// failing (after retries) is an error, except when the root does not exist
// (RootMissing). Folders below it whose listing failed or was incomplete are
// recorded in Tree.Unknown, never taken as empty. Remote symlinks cannot be told apart from files or folders, so they
// are recorded as unknown paths too: nothing is done to them or below them.
// exclude, when non-nil, prunes paths (and never lists excluded folders).
func WalkRemote(ctx context.Context, pool *ftp.Pool, root string, parallel int, exclude *Excluder) (*Walk, error) {
	return walkRemote(ctx, pool, root, parallel, exclude, []string{""}, nil)
}

// walkRemote lists the folders start (relative to root) and, recursively,
// the subfolders found there. With keep set, only the entries whose
// relative path keep accepts are taken (and only those folders entered):
// a change-only run lists the parents of the changed paths and keeps just
// those paths and what lies below them.
func walkRemote(ctx context.Context, pool *ftp.Pool, root string, parallel int, exclude *Excluder, start []string, keep func(rel string) bool) (*Walk, error) {
	if parallel < 1 {
		parallel = 1
	}
	w := &remoteWalker{
		pool: pool, root: root, exclude: exclude, keep: keep,
		out: &Walk{
			Tree:  plan.Tree{Entries: map[string]plan.Meta{}, Unknown: map[string]bool{}, Incomplete: map[string]bool{}},
			Temps: map[string]int64{},
		},
		queue: start,
		ctx:   ctx,
	}
	w.cond = gosync.NewCond(&w.mu)
	w.max = parallel
	w.mu.Lock()
	w.spawn(ctx)
	w.mu.Unlock()
	w.wg.Wait()
	if err := errors.Join(w.errs...); err != nil {
		return nil, err
	}
	w.out.Listings, w.out.Conns = w.lists, w.workers
	return w.out, nil
}

type remoteWalker struct {
	pool    *ftp.Pool
	root    string
	exclude *Excluder
	keep    func(rel string) bool // nil: every entry
	max     int                   // listings in flight at most

	wg      gosync.WaitGroup
	workers int     // started so far; guarded by mu
	errs    []error // one per worker; guarded by mu until wg.Wait

	mu     gosync.Mutex
	cond   *gosync.Cond
	queue  []string // folders (relative) waiting to be listed
	active int      // folders being listed
	failed error    // a fatal error: stop everyone
	// What connections cost, for wantWorker: the slowest login seen, and
	// the time spent in listings.
	loginCost time.Duration
	listTime  time.Duration
	lists     int
	ctx       context.Context
	out       *Walk
}

// spawn starts one more worker. The walk starts with one connection and
// adds one when the backlog of folders per worker would take longer to
// list than two logins (wantWorker): a login is dearer than a listing on
// some servers (vsftpd forks and runs PAM: measured, a no-op over 55
// folders took 89 ms on one connection and 133 ms on four), cheaper on
// others (proftpd's listings are slow), and a big tree is walked on up to
// max connections either way. Called with mu held.
func (w *remoteWalker) spawn(ctx context.Context) {
	i := w.workers
	w.workers++
	w.errs = append(w.errs, nil)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		err := w.work(ctx)
		w.mu.Lock()
		w.errs[i] = err
		w.mu.Unlock()
	}()
}

// wantWorker reports whether another connection would pay for its login.
// Called with mu held.
func (w *remoteWalker) wantWorker() bool {
	if w.workers >= w.max || w.failed != nil || w.lists == 0 {
		return false
	}
	avg := w.listTime / time.Duration(w.lists)
	backlog := time.Duration(len(w.queue)/w.workers) * avg
	return backlog > 2*w.loginCost
}

// next blocks until a folder is queued (ok) or the walk is over. A worker
// that has to wait gives its connection *held back to the pool first: the
// folders it waits for are being listed by other workers, and one of them
// may be waiting in Pool.Get for that very connection (a server that allows
// fewer logins than workers: each idle worker held a connection while the
// workers holding the folders waited for one, and the walk never ended).
func (w *remoteWalker) next(held **ftp.Conn) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(w.queue) == 0 && w.active > 0 && w.failed == nil {
		if c := *held; c != nil {
			*held = nil
			w.mu.Unlock()
			w.pool.Put(c)
			w.mu.Lock()
			continue
		}
		w.cond.Wait()
	}
	if len(w.queue) == 0 || w.failed != nil {
		w.cond.Broadcast()
		return "", false
	}
	dir := w.queue[len(w.queue)-1]
	w.queue = w.queue[:len(w.queue)-1]
	w.active++
	return dir, true
}

func (w *remoteWalker) work(ctx context.Context) error {
	var conn *ftp.Conn
	defer func() {
		if conn != nil {
			w.pool.Put(conn)
		}
	}()
	for {
		dir, ok := w.next(&conn)
		if !ok {
			return nil
		}
		if conn == nil {
			start := time.Now()
			c, err := w.pool.Get(ctx)
			if err != nil {
				w.fail(err)
				return err
			}
			w.mu.Lock()
			w.loginCost = max(w.loginCost, time.Since(start))
			w.mu.Unlock()
			conn = c
			conn.SetPrefetch(true)
		}
		start := time.Now()
		entries, err := conn.List(ctx, w.abs(dir))
		w.mu.Lock()
		w.listTime += time.Since(start)
		w.lists++
		w.mu.Unlock()
		// Transient failures (a dead connection, a 4xx such as "425 Cannot
		// open passive connection") get two more tries, on a fresh
		// connection when the old one died; what still fails leaves the
		// folder unknown.
		backoff := 100 * time.Millisecond
		for try := 1; try < 3 && err != nil && retryable(err) && ctx.Err() == nil; try++ {
			if !sleepCtx(ctx, backoff) {
				break
			}
			backoff *= 4
			if conn.Broken() {
				w.pool.Put(conn)
				conn = nil
				c, gerr := w.pool.Get(ctx)
				if gerr != nil {
					w.fail(gerr)
					return gerr
				}
				conn = c
				conn.SetPrefetch(true)
			}
			entries, err = conn.List(ctx, w.abs(dir))
			w.mu.Lock()
			w.lists++
			w.mu.Unlock()
		}
		if ctx.Err() != nil {
			w.fail(ctx.Err())
			return ctx.Err()
		}
		if dir == "" && rootFailed(err) {
			// Nothing at all is known: that is a failed run, not an
			// unknown folder.
			err = fmt.Errorf("listing remote folder %q: %w", w.root, err)
			w.fail(err)
			return err
		}
		w.add(dir, entries, err)
	}
}

func (w *remoteWalker) abs(rel string) string {
	if rel == "" {
		return w.root
	}
	return path.Join(w.root, rel)
}

func (w *remoteWalker) fail(err error) {
	w.mu.Lock()
	if w.failed == nil {
		w.failed = err
	}
	w.active--
	w.cond.Broadcast()
	w.mu.Unlock()
}

// add records one folder's listing and queues its subfolders.
func (w *remoteWalker) add(dir string, entries []ftp.Entry, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.cond.Broadcast()
	w.active--
	var inc *ftp.IncompleteError
	var fe *ftp.Error
	switch {
	case err == nil:
	case errors.As(err, &inc) && onlyBadNames(inc):
		// The listing is whole but for names ferry must not use: those
		// are skipped one by one and the rest syncs. The folder still
		// holds something unknown, so nothing under it is deleted.
		w.out.Tree.Incomplete[dir] = true
		for _, p := range inc.Problems {
			w.skipBadName(dir, p.(*ftp.BadNameError))
		}
	case errors.As(err, &inc):
		w.out.Tree.Unknown[dir] = true
		w.out.Problems = append(w.out.Problems, fmt.Errorf("remote folder %q: %w", w.abs(dir), err))
	case dir == "" && errors.As(err, &fe) && fe.Code == 550:
		w.out.RootMissing = true
		return
	default:
		w.out.Tree.Unknown[dir] = true
		w.out.Problems = append(w.out.Problems, fmt.Errorf("remote folder %q: %w", w.abs(dir), err))
		return
	}
	for _, e := range entries {
		rel := e.Name
		if dir != "" {
			rel = dir + "/" + e.Name
		}
		isDir := e.Type == ftp.TypeDir
		if isDir && ftp.IsProbeDir(e.Name) {
			// A probe's scratch folder, never synced; one a walk finds was
			// left by a probe that was killed (a run's own probe is over
			// before its walk), and the run removes it.
			w.out.ProbeDirs = append(w.out.ProbeDirs, rel)
			continue
		}
		if w.keep != nil && !w.keep(rel) {
			continue
		}
		if w.exclude.Excluded(rel, isDir) {
			continue
		}
		w.out.Entries = append(w.out.Entries, RemoteEntry{Rel: rel, Entry: e})
		switch e.Type {
		case ftp.TypeDir:
			w.out.Tree.Entries[rel] = plan.Meta{Kind: plan.Dir}
			w.queue = append(w.queue, rel)
			if w.wantWorker() {
				w.spawn(w.ctx)
			}
		case ftp.TypeFile:
			if isTemp(e.Name) {
				w.out.Temps[rel] = e.Size
				continue
			}
			w.out.Tree.Entries[rel] = plan.Meta{Kind: plan.File, Size: e.Size, ModTime: e.ModTime.UTC(), Precision: e.Precision}
		default:
			w.out.Tree.Unknown[rel] = true
			w.out.Warnings = append(w.out.Warnings, fmt.Errorf("remote %q is a %s: skipped", w.abs(rel), e.Type))
		}
	}
}

// rootFailed reports whether the root's listing error leaves nothing
// known: any error but an incomplete listing (its entries are real) and
// the 550 of a root that does not exist.
func rootFailed(err error) bool {
	var inc *ftp.IncompleteError
	var fe *ftp.Error
	return err != nil && !errors.As(err, &inc) && !(errors.As(err, &fe) && fe.Code == 550)
}

// onlyBadNames reports whether every problem of an incomplete listing is
// an unsafe name (no line left unparsed, no truncation): then every other
// entry of the folder is known.
func onlyBadNames(inc *ftp.IncompleteError) bool {
	for _, p := range inc.Problems {
		if _, ok := p.(*ftp.BadNameError); !ok {
			return false
		}
	}
	return len(inc.Problems) > 0
}

// skipBadName reports an unsafe name of folder dir as a problem. A name
// that is a valid local name all the same ("a\\b" on Unix) is also made an
// unknown path, so a local file of that name is neither uploaded over the
// server's nor deleted. Called with mu held.
func (w *remoteWalker) skipBadName(dir string, bad *ftp.BadNameError) {
	if bad.Name != "" && bad.Name != "." && bad.Name != ".." && !strings.ContainsAny(bad.Name, "/\x00") {
		rel := bad.Name
		if dir != "" {
			rel = dir + "/" + bad.Name
		}
		if w.exclude.Excluded(rel, false) && w.exclude.Excluded(rel, true) {
			return
		}
		w.out.Tree.Unknown[rel] = true
	}
	w.out.Problems = append(w.out.Problems, fmt.Errorf("remote folder %q: %w: skipped", w.abs(dir), bad))
}
