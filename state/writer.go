package state

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// WriterOptions tunes a Writer. Zero fields take the defaults.
type WriterOptions struct {
	// BatchSize is the number of buffered changes that triggers a commit
	// (default 256).
	BatchSize int
	// MaxAge is the longest a buffered change waits before it is committed
	// (default 250ms).
	MaxAge time.Duration
	// MaxPending is the number of buffered changes at which Put blocks until
	// the writer's goroutine has taken them (default 16 × BatchSize), so a
	// slow disk slows the transfers instead of growing memory.
	MaxPending int
}

func (o WriterOptions) withDefaults() WriterOptions {
	if o.BatchSize <= 0 {
		o.BatchSize = 256
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 250 * time.Millisecond
	}
	if o.MaxPending < o.BatchSize {
		o.MaxPending = 16 * o.BatchSize
	}
	return o
}

// Writer records the executor's completed actions for one root. Put, Delete
// and DeleteTree only buffer; the Writer's own goroutine commits the buffer
// in one transaction once it holds BatchSize changes or its oldest change
// is MaxAge old, and on Flush and Close. A transaction therefore contains
// only buffered rows and never spans network I/O.
//
// Changes are applied in the order the calls returned. A process killed
// before a commit loses at most the changes buffered since the last one; a
// DB closed without closing its Writers loses the same.
//
// A failed commit breaks the Writer: that batch and every later change are
// dropped, and every later Put, Delete, DeleteTree, Flush and Close returns
// the commit error. All methods are safe for concurrent use.
type Writer struct {
	db   *DB
	root RootID
	opts WriterOptions

	mu      sync.Mutex
	cond    *sync.Cond // signalled when buf is taken, or on failure or close
	buf     []change
	firstAt time.Time // when buf became non-empty
	err     error     // sticky commit error
	closed  bool

	wake      chan struct{} // 1-buffered: buf became non-empty or full
	flushReq  chan chan error
	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

type changeOp uint8

const (
	opPut changeOp = iota + 1
	opDelete
	opDeleteTree
)

// change is one buffered row operation, its values already encoded.
type change struct {
	op   changeOp
	path string
	row  entryRow
}

type entryRow struct {
	kind, lkind, rkind int64
	lsize, rsize       int64
	lmtime, rmtime     sql.NullInt64
	lprec, rprec       int64
}

// Writer returns a Writer for root with the default options. The caller
// must Close it.
func (db *DB) Writer(root RootID) *Writer {
	return db.WriterWith(root, WriterOptions{})
}

// WriterWith returns a Writer for root with the given options. The caller
// must Close it.
func (db *DB) WriterWith(root RootID, opts WriterOptions) *Writer {
	w := &Writer{
		db:       db,
		root:     root,
		opts:     opts.withDefaults(),
		wake:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	w.cond = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Put records r as the state of path (a relative, slash-separated path),
// replacing any earlier Record. It fails at once, buffering nothing, for an
// invalid path, a Kind that is neither File nor Dir, or a time outside the
// years 1678-2262.
func (w *Writer) Put(path string, r plan.Record) error {
	row, err := encodeRecord(r)
	if err == nil {
		err = checkPath(path)
	}
	if err != nil {
		return fmt.Errorf("state: put %s: %w", path, err)
	}
	return w.add(change{op: opPut, path: path, row: row})
}

// Delete forgets path; nothing below it is touched.
func (w *Writer) Delete(path string) error {
	if err := checkPath(path); err != nil {
		return fmt.Errorf("state: delete %s: %w", path, err)
	}
	return w.add(change{op: opDelete, path: path})
}

// DeleteTree forgets path and everything below it; "" forgets the whole
// root.
func (w *Writer) DeleteTree(path string) error {
	if path != "" {
		if err := checkPath(path); err != nil {
			return fmt.Errorf("state: delete tree %s: %w", path, err)
		}
	}
	return w.add(change{op: opDeleteTree, path: path})
}

func (w *Writer) add(c change) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.err == nil && !w.closed && len(w.buf) >= w.opts.MaxPending {
		w.cond.Wait()
	}
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return ErrWriterClosed
	}
	w.buf = append(w.buf, c)
	if len(w.buf) == 1 {
		w.firstAt = time.Now()
		w.poke()
	} else if len(w.buf) >= w.opts.BatchSize {
		w.poke()
	}
	return nil
}

func (w *Writer) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Flush commits everything buffered before it was called and returns the
// first commit error the Writer met, if any. When ctx ends first Flush
// returns ctx.Err() and the commit still completes in the background.
func (w *Writer) Flush(ctx context.Context) error {
	w.mu.Lock()
	closed, err := w.closed, w.err
	w.mu.Unlock()
	if err != nil {
		return err
	}
	if closed {
		return ErrWriterClosed
	}
	return w.flush(ctx)
}

func (w *Writer) flush(ctx context.Context) error {
	reply := make(chan error, 1)
	select {
	case w.flushReq <- reply:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.done:
		return ErrWriterClosed
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close stops accepting changes, commits what is buffered, stops the
// Writer's goroutine and returns the first commit error, if any. If ctx
// ends before the final commit is handed over, the buffered changes are
// lost and Close returns ctx.Err(). Close after Close returns nil.
func (w *Writer) Close(ctx context.Context) error {
	err := ErrWriterClosed
	w.closeOnce.Do(func() {
		w.mu.Lock()
		w.closed = true
		w.cond.Broadcast()
		w.mu.Unlock()
		err = w.flush(ctx)
		close(w.stop)
		<-w.done
	})
	if err == ErrWriterClosed {
		return nil
	}
	return err
}

// run is the Writer's goroutine: the only one that commits, so batches
// reach the database in the order their changes were buffered.
func (w *Writer) run() {
	defer close(w.done)
	var timer <-chan time.Time
	for {
		select {
		case <-w.stop:
			return
		case reply := <-w.flushReq:
			reply <- w.commit()
		case <-w.wake:
			n, age := w.pending()
			if n >= w.opts.BatchSize {
				w.commit()
			} else if n > 0 && timer == nil {
				timer = time.After(w.opts.MaxAge - age)
			}
		case <-timer:
			timer = nil
			// The batch that armed the timer may have been committed since;
			// a newer one gets the rest of its own MaxAge.
			if n, age := w.pending(); n > 0 && age >= w.opts.MaxAge {
				w.commit()
			} else if n > 0 {
				timer = time.After(w.opts.MaxAge - age)
			}
		}
	}
}

func (w *Writer) pending() (int, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.buf), time.Since(w.firstAt)
}

// commit takes the whole buffer and writes it in one transaction. It
// returns the Writer's sticky error.
func (w *Writer) commit() error {
	w.mu.Lock()
	batch, err := w.buf, w.err
	w.buf = nil
	w.cond.Broadcast()
	w.mu.Unlock()
	if err != nil || len(batch) == 0 {
		return err
	}
	// Background: the transaction holds only buffered rows and waits at
	// most the busy timeout; cancelling it half-way would only lose them.
	if err := w.db.commitChanges(context.Background(), w.root, batch); err != nil {
		w.mu.Lock()
		if w.err == nil {
			w.err = fmt.Errorf("state: write root %d (%d changes): %w", w.root, len(batch), err)
		}
		err = w.err
		w.buf = nil
		w.cond.Broadcast()
		w.mu.Unlock()
		return err
	}
	return nil
}

// commitChanges applies a batch in one transaction.
func (db *DB) commitChanges(ctx context.Context, root RootID, batch []change) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := map[string]*sql.Stmt{}
	exec := func(query string, args ...any) error {
		st, ok := stmts[query]
		if !ok {
			if st, err = tx.PrepareContext(ctx, query); err != nil {
				return err
			}
			stmts[query] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	for _, c := range batch {
		var err error
		switch c.op {
		case opPut:
			r := c.row
			err = exec(`INSERT INTO entries (root_id, `+entryCols+`)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (root_id, path) DO UPDATE SET
				kind = excluded.kind,
				local_kind = excluded.local_kind, local_size = excluded.local_size,
				local_mtime = excluded.local_mtime, local_prec = excluded.local_prec,
				remote_kind = excluded.remote_kind, remote_size = excluded.remote_size,
				remote_mtime = excluded.remote_mtime, remote_prec = excluded.remote_prec`,
				root, c.path, r.kind, r.lkind, r.lsize, r.lmtime, r.lprec, r.rkind, r.rsize, r.rmtime, r.rprec)
		case opDelete:
			err = exec(`DELETE FROM entries WHERE root_id = ? AND path = ?`, root, c.path)
		case opDeleteTree:
			if c.path == "" {
				err = exec(`DELETE FROM entries WHERE root_id = ?`, root)
				break
			}
			err = exec(`DELETE FROM entries WHERE root_id = ? AND path = ?`, root, c.path)
			if err == nil {
				err = exec(`DELETE FROM entries WHERE root_id = ? AND path >= ? AND path < ?`,
					root, c.path+"/", c.path+"0")
			}
		}
		if err != nil {
			return fmt.Errorf("%s: %w", c.path, err)
		}
	}
	return tx.Commit()
}

func encodeRecord(r plan.Record) (entryRow, error) {
	if err := checkRecord(r); err != nil {
		return entryRow{}, err
	}
	lt, err := toNanos(r.Local.ModTime)
	if err != nil {
		return entryRow{}, fmt.Errorf("local mtime: %w", err)
	}
	rt, err := toNanos(r.Remote.ModTime)
	if err != nil {
		return entryRow{}, fmt.Errorf("remote mtime: %w", err)
	}
	return entryRow{
		kind: int64(r.Kind), lkind: int64(r.Local.Kind), rkind: int64(r.Remote.Kind),
		lsize: r.Local.Size, rsize: r.Remote.Size,
		lmtime: lt, rmtime: rt,
		lprec: int64(r.Local.Precision), rprec: int64(r.Remote.Precision),
	}, nil
}
