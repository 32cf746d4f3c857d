package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// runStore is the state cache of one root as a run uses it.
type runStore interface {
	ferrysync.Store
	Close(ctx context.Context) error
}

// openStore returns the root's store in *db, opening j.State when *db is
// nil. A dry run writes nothing: without a cache file it plans from empty
// state and creates no file (*db stays nil); with one it reads the root's
// records without registering the root. A file that is not a state cache
// is a *ferrysync.UsageError naming the state field.
func (j *Job) openStore(ctx context.Context, db **state.DB) (runStore, state.RootID, error) {
	opened := false
	if *db == nil {
		if j.DryRun {
			if _, err := os.Stat(j.State); errors.Is(err, os.ErrNotExist) {
				return dryStore{}, 0, nil
			}
		}
		d, err := state.Open(ctx, j.State)
		if err != nil {
			return nil, 0, &ferrysync.UsageError{Field: "state", Err: err}
		}
		*db, opened = d, true
	}
	fail := func(err error) (runStore, state.RootID, error) {
		if opened {
			(*db).Close()
			*db = nil
		}
		return nil, 0, err
	}
	if !j.DryRun {
		store, err := (*db).Bind(ctx, j.Local, j.Remote.Redacted)
		if err != nil {
			return fail(err)
		}
		return JournalledStore{store}, store.ID(), nil
	}
	roots, err := (*db).Roots(ctx)
	if err != nil {
		return fail(err)
	}
	for _, rt := range roots {
		if rt.Local == filepath.Clean(j.Local) && rt.Remote == j.Remote.Redacted {
			return dryStore{db: *db, id: rt.ID}, rt.ID, nil
		}
	}
	return dryStore{}, 0, nil
}

// JournalledStore is a root's state cache as a run uses it, journal
// included: a ferrysync.JournalStore (and a PartialStore).
type JournalledStore struct{ *state.RootStore }

var _ interface {
	ferrysync.JournalStore
	ferrysync.PartialStore
} = JournalledStore{}

// JournalEntries returns the root's pending journal entries.
func (s JournalledStore) JournalEntries(ctx context.Context) ([]ferrysync.JournalEntry, error) {
	es, err := s.RootStore.Journal(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ferrysync.JournalEntry, len(es))
	for i, e := range es {
		out[i] = ferrysync.JournalEntry{ID: e.ID, Kind: e.Kind, Path: e.Path, Data: e.Data}
	}
	return out, nil
}

// dryStore is a dry run's view of the state cache: it reads the root's
// records (none when db is nil) and discards every write.
type dryStore struct {
	db *state.DB
	id state.RootID
}

var _ runStore = dryStore{}

func (s dryStore) Load(ctx context.Context) (plan.State, error) {
	if s.db == nil {
		return plan.State{}, nil
	}
	return s.db.Load(ctx, s.id)
}

func (s dryStore) Meta(ctx context.Context, key string) (string, bool, error) {
	if s.db == nil {
		return "", false, nil
	}
	return s.db.RootMeta(ctx, s.id, key)
}

func (dryStore) Put(string, plan.Record) error                 { return nil }
func (dryStore) Delete(string) error                           { return nil }
func (dryStore) Flush(context.Context) error                   { return nil }
func (dryStore) SetMeta(context.Context, string, string) error { return nil }
func (dryStore) Close(context.Context) error                   { return nil }
