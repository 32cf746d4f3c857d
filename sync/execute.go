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
	remoteDir string
	store     Store
	rep       Reporter
	parallel  int

	// Leftover temporaries (by final path, with their sizes) that a
	// transfer may resume; read-only during execution.
	resumeUp, resumeDown map[string]int64

	mu  gosync.Mutex
	res *Result
}

// execute runs the plan's actions in dependency order: folders are created
// first (parents before children), conflict renames next, then transfers in
// parallel, then file deletes, then folder deletes deepest first. Failed
// actions are collected in the result; the run goes on with the rest.
func (e *executor) execute(ctx context.Context, p *plan.Plan) {
	var mkdirs, renames, transfers, fileDeletes, dirDeletes []plan.Action
	for _, a := range p.Actions {
		switch a.Op {
		case plan.MkdirLocal, plan.MkdirRemote:
			mkdirs = append(mkdirs, a)
		case plan.RenameLocal, plan.RenameRemote:
			renames = append(renames, a)
		case plan.Upload, plan.Download:
			transfers = append(transfers, a)
		case plan.DeleteLocal, plan.DeleteRemote:
			if a.Kind == plan.Dir {
				dirDeletes = append(dirDeletes, a)
			} else {
				fileDeletes = append(fileDeletes, a)
			}
		case plan.Adopt:
			e.record(a.Path, plan.Record{Kind: a.Kind, Local: a.Local, Remote: a.Remote})
			e.mu.Lock()
			e.res.Adopted++
			e.mu.Unlock()
		case plan.Forget:
			e.forget(a.Path)
		}
	}
	e.mkdirs(ctx, mkdirs)
	e.serial(ctx, renames)
	e.parallelDo(ctx, transfers)
	e.parallelDo(ctx, fileDeletes)
	e.serial(ctx, dirDeletes)
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

// mkdirs creates folders in plan order. Remote ones go out in pipelined
// batches on one connection; a MKD refused because the folder exists is
// fine.
func (e *executor) mkdirs(ctx context.Context, as []plan.Action) {
	for _, a := range as {
		e.one(ctx, a)
	}
}

func (e *executor) serial(ctx context.Context, as []plan.Action) {
	for _, a := range as {
		if ctx.Err() != nil {
			return
		}
		e.one(ctx, a)
	}
}

// parallelDo runs actions on up to e.parallel goroutines.
func (e *executor) parallelDo(ctx context.Context, as []plan.Action) {
	if len(as) == 0 {
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan plan.Action)
	g.Go(func() error {
		defer close(work)
		for _, a := range as {
			select {
			case work <- a:
			case <-gctx.Done():
				return nil
			}
		}
		return nil
	})
	n := min(e.parallel, len(as))
	for i := 0; i < n; i++ {
		g.Go(func() error {
			for a := range work {
				e.one(gctx, a)
			}
			return nil
		})
	}
	g.Wait()
}

// one runs a single action with retries and records its outcome.
func (e *executor) one(ctx context.Context, a plan.Action) {
	e.rep.Started(a)
	rec, n, err := e.attempt(ctx, a)
	e.rep.Done(a, n, err)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.res.Failed = append(e.res.Failed, ActionError{Action: a, Err: err})
		return
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
	case plan.DeleteLocal, plan.DeleteRemote:
		e.forgetLocked(a.Path)
	case plan.RenameLocal, plan.RenameRemote:
	default:
		if err := e.store.Put(a.Path, rec); err != nil {
			e.res.Warnings = append(e.res.Warnings, fmt.Errorf("state cache: %w", err))
		}
	}
}

func (e *executor) forgetLocked(path string) {
	if err := e.store.Delete(path); err != nil {
		e.res.Warnings = append(e.res.Warnings, fmt.Errorf("state cache: %w", err))
	}
}

// attempt runs an action, retrying transient failures (4xx replies, broken
// connections, timeouts) up to three times with growing pauses.
func (e *executor) attempt(ctx context.Context, a plan.Action) (plan.Record, int64, error) {
	backoff := 250 * time.Millisecond
	for try := 1; ; try++ {
		rec, n, err := e.do(ctx, a)
		if err == nil || !retryable(err) || try == 3 || ctx.Err() != nil {
			if err != nil {
				err = fmt.Errorf("%s %s: %w", a.Op, a.Path, err)
			}
			return rec, n, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return rec, n, fmt.Errorf("%s %s: %w", a.Op, a.Path, ctx.Err())
		case <-t.C:
		}
		backoff *= 4
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

// do runs an action once. Remote actions take a pooled connection.
func (e *executor) do(ctx context.Context, a plan.Action) (plan.Record, int64, error) {
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
		return plan.Record{}, 0, e.root.Remove(a.Path)
	case plan.RenameLocal:
		if _, err := e.root.Lstat(a.To); err == nil {
			return plan.Record{}, 0, fmt.Errorf("local %s already exists", a.To)
		}
		return plan.Record{}, 0, e.root.Rename(a.Path, a.To)
	}
	c, err := e.pool.Get(ctx)
	if err != nil {
		return plan.Record{}, 0, err
	}
	defer e.pool.Put(c)
	switch a.Op {
	case plan.Upload:
		c.SetPrefetch(true)
		return e.upload(ctx, c, a)
	case plan.Download:
		c.SetPrefetch(true)
		return e.download(ctx, c, a)
	case plan.MkdirRemote:
		err := c.Mkdir(ctx, e.remotePath(a.Path))
		var fe *ftp.Error
		if errors.As(err, &fe) && fe.Code >= 500 && !c.Broken() {
			// Already there? A folder we can CWD into is as good.
			if cerr := c.Cwd(ctx, e.remotePath(a.Path)); cerr == nil {
				err = nil
			}
		}
		return dirRec, 0, err
	case plan.DeleteRemote:
		if a.Kind == plan.Dir {
			return plan.Record{}, 0, c.Rmdir(ctx, e.remotePath(a.Path))
		}
		return plan.Record{}, 0, c.Delete(ctx, e.remotePath(a.Path))
	case plan.RenameRemote:
		return plan.Record{}, 0, c.Rename(ctx, e.remotePath(a.Path), e.remotePath(a.To))
	}
	return plan.Record{}, 0, fmt.Errorf("unknown action %v", a.Op)
}
