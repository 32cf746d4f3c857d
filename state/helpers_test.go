package state

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// openTest opens a fresh state file in t.TempDir and closes it at cleanup.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, path
}

func mustRoot(t *testing.T, db *DB, local, remote string) RootID {
	t.Helper()
	id, err := db.Root(context.Background(), local, remote)
	if err != nil {
		t.Fatalf("Root(%q, %q): %v", local, remote, err)
	}
	return id
}

// fileRecord is a File Record whose times and sizes derive from n.
func fileRecord(n int) plan.Record {
	t := time.Date(2024, 5, 6, 7, 8, 9, n, time.UTC)
	return plan.Record{
		Kind:   plan.File,
		Local:  plan.Meta{Kind: plan.File, Size: int64(n), ModTime: t, Precision: time.Nanosecond},
		Remote: plan.Meta{Kind: plan.File, Size: int64(n), ModTime: t.Truncate(time.Second), Precision: time.Second},
	}
}

// putAll writes records through a Writer and closes it.
func putAll(t *testing.T, db *DB, root RootID, recs map[string]plan.Record) {
	t.Helper()
	w := db.Writer(root)
	for p, r := range recs {
		if err := w.Put(p, r); err != nil {
			t.Fatalf("Put(%q): %v", p, err)
		}
	}
	if err := w.Close(context.Background()); err != nil {
		t.Fatalf("Writer.Close: %v", err)
	}
}
