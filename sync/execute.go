package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	gosync "sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// Store is the state cache as a run uses it, bound to one sync root. Put
// and Delete may buffer; Flush makes everything durable. Implementations
// must be safe for concurrent use.
type Store interface {
	Load(ctx context.Context) (plan.State, error)
	Put(path string, r plan.Record) error
	Delete(path string) error
	Flush(ctx context.Context) error
	// Meta and SetMeta keep small facts about the root between runs (its
	// device, how many files it held).
	Meta(ctx context.Context, key string) (string, bool, error)
	SetMeta(ctx context.Context, key, value string) error
}

// executor carries out one plan.
type executor struct {
	pool      *ftp.Pool
	root      *os.Root
	dirs      *localDirs // per-folder handles for the transfer hot path
	remoteDir string
	store     Store
	rep       Reporter
	parallel  int
	bw        *bandwidth      // --bwlimit; nil: none
	batch     *syncBatch      // batched fsync of downloads; nil: one fsync per file
	verify    bool            // --verify: check each transfer on the far side
	backup    *backups        // --backup-dir; nil: none
	watch     *watchdog       // fails actions when the whole run stalls; nil: none
	drain     <-chan struct{} // closed: start no more actions; nil: never
	stopped   atomic.Bool     // an action was left unstarted because of drain

	// Leftover temporaries (by final path, with their sizes) that a
	// transfer may resume; read-only during execution.
	resumeUp, resumeDown map[string]int64
	// tempNotes are the journal's notes of which version each leftover
	// temporary holds (tempjournal.go), by kind and path; guarded by mu.
	tempNotes map[string]JournalEntry

	mu  gosync.Mutex
	res *Result
}

// execute runs the plan phase by phase (package plan's ordering
// contract): clearing and folder creation in order, transfers in parallel
// (the actions of one conflict group in order on one worker), file deletes
// in parallel, folder deletes in order (deepest first), then the state-only
// actions. Failed actions are collected in the result; the run goes on with
// the rest.
func (e *executor) execute(ctx context.Context, p *plan.Plan) {
	byPhase := map[plan.Phase][]plan.Action{}
	for _, a := range p.Actions {
		byPhase[a.Phase] = append(byPhase[a.Phase], a)
	}
	e.serial(ctx, byPhase[plan.PhaseClear])
	e.serial(ctx, byPhase[plan.PhaseMkdir])
	e.parallelDo(ctx, groups(byPhase[plan.PhaseTransfer]))
	e.batch.flush()
	e.parallelDo(ctx, groups(byPhase[plan.PhaseDeleteFiles]))
	e.serial(ctx, byPhase[plan.PhaseDeleteDirs])
	for _, a := range byPhase[plan.PhaseRecord] {
		switch a.Op {
		case plan.Adopt:
			e.record(a.Path, plan.Record{Kind: a.Kind, Local: a.Local, Remote: a.Remote})
			e.mu.Lock()
			e.res.Adopted++
			e.mu.Unlock()
		case plan.Forget:
			e.forget(a.Path)
		}
	}
}

// groups splits actions into units of work: a conflict group's adjacent
// actions together, every other action alone.
func groups(as []plan.Action) [][]plan.Action {
	var out [][]plan.Action
	for i := 0; i < len(as); {
		j := i + 1
		if as[i].Conflict > 0 {
			for j < len(as) && as[j].Conflict == as[i].Conflict {
				j++
			}
		}
		out = append(out, as[i:j])
		i = j
	}
	return out
}

func (e *executor) record(path string, r plan.Record) {
	if err := e.store.Put(path, r); err != nil {
		e.warn(fmt.Errorf("state cache: %w", err))
	}
}

func (e *executor) forget(path string) {
	if err := e.store.Delete(path); err != nil {
		e.warn(fmt.Errorf("state cache: %w", err))
	}
}

func (e *executor) warn(err error) {
	e.mu.Lock()
	e.res.Warnings = append(e.res.Warnings, err)
	e.mu.Unlock()
	e.rep.Warn(err)
}

// draining reports whether the run was asked to start no more actions,
// and notes that one is being left.
func (e *executor) draining() bool {
	select {
	case <-e.drain:
		e.stopped.Store(true)
		return true
	default:
		return false
	}
}

func (e *executor) serial(ctx context.Context, as []plan.Action) {
	for _, a := range as {
		if ctx.Err() != nil || e.draining() {
			return
		}
		actx, end := e.watch.begin(ctx)
		e.one(actx, a)
		end()
	}
}

// parallelDo runs units of work on up to e.parallel goroutines. Within a
// unit, actions run in order and stop at the first failure (a conflict's
// copy must not be overwritten when its rename failed).
func (e *executor) parallelDo(ctx context.Context, units [][]plan.Action) {
	if len(units) == 0 {
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan []plan.Action)
	g.Go(func() error {
		defer close(work)
		for _, u := range units {
			if e.draining() {
				return nil
			}
			select {
			case work <- u:
			case <-gctx.Done():
				return nil
			case <-e.drain:
				e.stopped.Store(true)
				return nil
			}
		}
		return nil
	})
	for range min(e.parallel, len(units)) {
		g.Go(func() error {
			l := &lane{}
			lctx := withLane(gctx, l)
			for u := range work {
				uctx, end := e.watch.begin(lctx)
				e.unit(uctx, u)
				end()
			}
			e.closeLane(gctx, l)
			return nil
		})
	}
	g.Wait()
}

// unit runs one unit of work (see parallelDo).
func (e *executor) unit(ctx context.Context, u []plan.Action) {
	if u[0].Conflict > 0 && e.sameVersions(ctx, u[0]) {
		// Not a conflict after all: record the path as in step.
		a := u[0]
		e.record(a.Path, plan.Record{Kind: plan.File, Local: a.Local, Remote: a.Remote})
		e.mu.Lock()
		e.res.Adopted++
		e.mu.Unlock()
		return
	}
	kept := true
	for _, a := range u {
		if !e.one(ctx, a) {
			kept = false
			break
		}
	}
	if kept && u[0].Conflict > 0 {
		e.mu.Lock()
		e.res.Conflicts++
		e.mu.Unlock()
	}
}

// one runs a single action with retries and records its outcome; it
// reports whether the action succeeded. A download whose rename into place
// waits for a batched fsync (see syncBatch) and an upload whose rename
// waits in its worker's lane count as succeeded here; their outcomes are
// recorded when the batch is flushed, or the lane's commit sent.
func (e *executor) one(ctx context.Context, a plan.Action) bool {
	e.rep.Started(a)
	rec, n, fin, err := e.attempt(ctx, a)
	if err == nil && fin == committedLater {
		return true
	}
	if err == nil && fin != nil {
		e.batch.add(pending{a: a, rec: rec, n: n, fin: fin})
		return true
	}
	return e.finish(a, rec, n, err)
}

// finish reports and records one action's outcome.
func (e *executor) finish(a plan.Action, rec plan.Record, n int64, err error) bool {
	e.watch.progress()
	e.rep.Done(a, n, err)
	if err == nil {
		// The temporary is in place under its real name: its note goes.
		switch a.Op {
		case plan.Upload:
			e.dropTempNote(context.Background(), journalTempUp, a.Path)
		case plan.Download:
			e.dropTempNote(context.Background(), journalTempDown, a.Path)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.res.Failed = append(e.res.Failed, ActionError{Action: a, Err: err})
		return false
	}
	switch a.Op {
	case plan.Upload:
		e.res.FilesUp++
		e.res.BytesUp += n
	case plan.Download:
		e.res.FilesDown++
		e.res.BytesDown += n
	case plan.DeleteLocal, plan.DeleteRemote:
		e.res.Deleted++
	}
	switch a.Op {
	case plan.DeleteLocal, plan.DeleteRemote, plan.RenameLocal, plan.RenameRemote:
		e.forgetLocked(a.Path)
	default:
		if err := e.store.Put(a.Path, rec); err != nil {
			e.res.Warnings = append(e.res.Warnings, fmt.Errorf("state cache: %w", err))
		}
	}
	return true
}

func (e *executor) forgetLocked(path string) {
	if err := e.store.Delete(path); err != nil {
		e.res.Warnings = append(e.res.Warnings, fmt.Errorf("state cache: %w", err))
	}
}

// attempt runs an action, retrying transient failures (4xx replies, broken
// connections, timeouts) up to three times with growing pauses, and an
// upload the server kept incomplete (ErrUploadSize) once. An action the
// stall watchdog cancelled fails with the stall as its error, at once.
func (e *executor) attempt(ctx context.Context, a plan.Action) (plan.Record, int64, *finisher, error) {
	backoff := 250 * time.Millisecond
	short := 0 // uploads the server kept incomplete
	for try := 1; ; try++ {
		rec, n, fin, err := e.do(ctx, a)
		if err != nil {
			if stall := stallCause(ctx); stall != nil {
				err = stall // "context canceled" from deep down says less
			}
		}
		again := retryable(err)
		if errors.Is(err, ErrUploadSize) {
			short++
			again = short < 2
		}
		if err == nil || !again || try == 3 || ctx.Err() != nil {
			if err != nil {
				err = fmt.Errorf("%s %s: %w", a.Op, a.Path, err)
			}
			return rec, n, fin, err
		}
		if !sleepCtx(ctx, backoff) {
			err := ctx.Err()
			if stall := stallCause(ctx); stall != nil {
				err = stall
			}
			return rec, n, nil, fmt.Errorf("%s %s: %w", a.Op, a.Path, err)
		}
		backoff *= 4
	}
}

// sleepCtx waits d, or less when ctx ends first; it reports whether the
// whole wait passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retryable classifies errors: transient server replies and network
// failures are worth another try; permanent replies and local errors are
// not.
func retryable(err error) bool {
	var fe *ftp.Error
	if errors.As(err, &fe) {
		return fe.Transient()
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe *ftp.ProtocolError
	return errors.As(err, &pe) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// committedLater is do's finisher for an upload whose rename into place
// waits in its worker's lane: the lane reports and records it.
var committedLater = &finisher{}

// do runs an action once. Remote actions take a pooled connection (the
// worker's lane's, see lane). A download whose temporary waits for the
// batch's fsync returns its finisher, an upload whose rename waits in the
// lane committedLater; every other action is complete when do returns.
func (e *executor) do(ctx context.Context, a plan.Action) (plan.Record, int64, *finisher, error) {
	if a.Op == plan.Upload {
		return e.doUpload(ctx, a)
	}
	if a.Op == plan.Download {
		c, err := e.conn(ctx)
		if err != nil {
			return plan.Record{}, 0, nil, err
		}
		defer e.release(ctx, c)
		c.SetPrefetch(true)
		rec, n, fin, err := e.download(ctx, c, a)
		if err != nil {
			return rec, n, nil, err
		}
		if e.backup != nil && e.backup.local != "" {
			// The current local version goes to the backup folder just
			// before the new one is renamed into place.
			commit := fin.commit
			fin.commit = func(syncErr error) error {
				if syncErr == nil {
					if err := e.beforeOverwrite(ctx, nil, a); err != nil {
						commit(err) // removes the temporary
						return err
					}
				}
				return commit(syncErr)
			}
		}
		if fin.sync == nil { // already durable: finish now
			return rec, n, nil, fin.commit(nil)
		}
		return rec, n, fin, nil
	}
	rec, n, err := e.doOther(ctx, a)
	return rec, n, nil, err
}

// doUpload runs an upload. The commits waiting in the worker's lane stay
// waiting: they go out with this upload's size check.
func (e *executor) doUpload(ctx context.Context, a plan.Action) (plan.Record, int64, *finisher, error) {
	c, err := e.takeConn(ctx, laneOf(ctx))
	if err != nil {
		return plan.Record{}, 0, nil, err
	}
	defer e.release(ctx, c)
	if err := e.beforeOverwrite(ctx, c, a); err != nil {
		return plan.Record{}, 0, nil, err
	}
	c.SetPrefetch(true)
	rec, n, later, err := e.upload(ctx, c, a)
	if later {
		return rec, n, committedLater, nil
	}
	return rec, n, nil, err
}

// doOther runs every action but downloads and uploads.
func (e *executor) doOther(ctx context.Context, a plan.Action) (plan.Record, int64, error) {
	dirRec := plan.Record{Kind: plan.Dir, Local: plan.Meta{Kind: plan.Dir}, Remote: plan.Meta{Kind: plan.Dir}}
	switch a.Op {
	case plan.MkdirLocal:
		err := e.root.Mkdir(a.Path, 0o755)
		if errors.Is(err, fs.ErrExist) {
			if info, serr := e.root.Lstat(a.Path); serr == nil && info.IsDir() {
				err = nil
			}
		}
		return dirRec, 0, err
	case plan.DeleteLocal:
		if a.Kind == plan.Dir {
			e.dirs.forget(a.Path)
		} else if e.backup != nil && e.backup.local != "" {
			return plan.Record{}, 0, e.backupLocal(a.Path)
		}
		return plan.Record{}, 0, e.root.Remove(a.Path)
	case plan.RenameLocal:
		if _, err := e.root.Lstat(a.To); err == nil {
			return plan.Record{}, 0, fmt.Errorf("local %s already exists", a.To)
		}
		e.dirs.forget(a.Path)
		return plan.Record{}, 0, e.root.Rename(a.Path, a.To)
	}
	c, err := e.conn(ctx)
	if err != nil {
		return plan.Record{}, 0, err
	}
	defer e.release(ctx, c)
	switch a.Op {
	case plan.MkdirRemote:
		return dirRec, 0, ensureRemoteDir(ctx, c, e.remotePath(a.Path))
	case plan.DeleteRemote:
		if a.Kind == plan.Dir {
			return plan.Record{}, 0, c.Rmdir(ctx, e.remotePath(a.Path))
		}
		if e.backup != nil && e.backup.remote != "" {
			return plan.Record{}, 0, e.backupRemote(ctx, c, a.Path)
		}
		return plan.Record{}, 0, c.Delete(ctx, e.remotePath(a.Path))
	case plan.RenameRemote:
		// Conflict copies never overwrite: the planner may not know every
		// name (a scoped run sees part of the tree).
		if _, err := c.Stat(ctx, e.remotePath(a.To)); err == nil {
			return plan.Record{}, 0, fmt.Errorf("remote %s already exists", a.To)
		} else if c.Broken() {
			return plan.Record{}, 0, err
		}
		return plan.Record{}, 0, c.Rename(ctx, e.remotePath(a.Path), e.remotePath(a.To))
	}
	return plan.Record{}, 0, fmt.Errorf("unknown action %v", a.Op)
}
