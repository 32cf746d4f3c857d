package state

import (
	"context"
	"errors"

	"github.com/ferrysync/ferry/sync/plan"
)

// RootStore is the state of one sync root, as a run uses it: it loads the
// root's records and buffers new ones through a Writer. It satisfies the
// engine's Store interface (package sync). Close it to flush.
type RootStore struct {
	db   *DB
	root RootID
	w    *Writer
}

// Bind returns the store of the root (local, remote), creating the root on
// first use. remote must carry no password (see CheckRemote).
func (db *DB) Bind(ctx context.Context, local, remote string) (*RootStore, error) {
	id, err := db.Root(ctx, local, remote)
	if err != nil {
		return nil, err
	}
	return &RootStore{db: db, root: id, w: db.Writer(id)}, nil
}

// ID is the root's id, for runs.
func (s *RootStore) ID() RootID { return s.root }

// Load returns every record of the root.
func (s *RootStore) Load(ctx context.Context) (plan.State, error) { return s.db.Load(ctx, s.root) }

// LoadUnder returns the records at or below prefixes.
func (s *RootStore) LoadUnder(ctx context.Context, prefixes []string) (plan.State, error) {
	return s.db.LoadUnder(ctx, s.root, prefixes)
}

// LoadPaths returns the records of exactly paths (see DB.LoadPaths).
func (s *RootStore) LoadPaths(ctx context.Context, paths []string) (plan.State, error) {
	return s.db.LoadPaths(ctx, s.root, paths)
}

// FileCounts returns the files the root's records know on each side.
func (s *RootStore) FileCounts(ctx context.Context) (local, remote int, err error) {
	return s.db.FileCounts(ctx, s.root)
}

// Put buffers a record.
func (s *RootStore) Put(path string, r plan.Record) error { return s.w.Put(path, r) }

// Delete buffers the removal of a path's record.
func (s *RootStore) Delete(path string) error { return s.w.Delete(path) }

// Flush commits everything buffered.
func (s *RootStore) Flush(ctx context.Context) error { return s.w.Flush(ctx) }

// Meta reads a fact about the root.
func (s *RootStore) Meta(ctx context.Context, key string) (string, bool, error) {
	return s.db.RootMeta(ctx, s.root, key)
}

// SetMeta stores a fact about the root.
func (s *RootStore) SetMeta(ctx context.Context, key, value string) error {
	return s.db.SetRootMeta(ctx, s.root, key, value)
}

// JournalAdd records, durably, that a non-atomic step on path is about to
// start (see DB.JournalAdd); unlike Put it is not buffered.
func (s *RootStore) JournalAdd(ctx context.Context, kind, path, data string) (int64, error) {
	return s.db.JournalAdd(ctx, s.root, kind, path, data)
}

// JournalDone removes the root's journal entry id.
func (s *RootStore) JournalDone(ctx context.Context, id int64) error {
	return s.db.JournalDone(ctx, id)
}

// Journal returns the root's pending journal entries, oldest first.
func (s *RootStore) Journal(ctx context.Context) ([]JournalEntry, error) {
	return s.db.Journal(ctx, s.root)
}

// Close flushes and stops the writer.
func (s *RootStore) Close(ctx context.Context) error {
	return errors.Join(s.w.Close(ctx))
}
