package state

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

func TestWriterConcurrentPutsAllLand(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	// Small batches and a small pending limit so commits, and Puts blocked
	// on the limit, interleave with the writers.
	w := db.WriterWith(root, WriterOptions{BatchSize: 7, MaxPending: 20})
	const goroutines, each = 8, 500
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				if err := w.Put(fmt.Sprintf("g%d/f%04d", g, i), fileRecord(g*each+i)); err != nil {
					t.Errorf("Put: %v", err)
					return
				}
				if i%100 == 99 {
					if err := w.Flush(ctx); err != nil {
						t.Errorf("Flush: %v", err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	st, err := db.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != goroutines*each {
		t.Fatalf("Load: %d records, want %d", len(st), goroutines*each)
	}
	for g := range goroutines {
		for i := range each {
			p := fmt.Sprintf("g%d/f%04d", g, i)
			if !recordEqual(st[p], fileRecord(g*each+i)) {
				t.Fatalf("%s = %+v, want %+v", p, st[p], fileRecord(g*each+i))
			}
		}
	}
}

func TestWriterAppliesChangesInCallOrder(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	// BatchSize 2 puts the steps in different transactions.
	w := db.WriterWith(root, WriterOptions{BatchSize: 2})
	steps := []func() error{
		func() error { return w.Put("a/x", fileRecord(1)) },
		func() error { return w.Put("a/y", fileRecord(2)) },
		func() error { return w.Put("a", plan.Record{Kind: plan.Dir}) },
		func() error { return w.DeleteTree("a") },
		func() error { return w.Put("a/y", fileRecord(3)) },
		func() error { return w.Put("b", fileRecord(4)) },
		func() error { return w.Delete("b") },
		func() error { return w.Put("c", fileRecord(5)) },
		func() error { return w.Put("c", fileRecord(6)) },
	}
	for i, s := range steps {
		if err := s(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	mustOK(t, w.Close(ctx))
	st, err := db.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]plan.Record{"a/y": fileRecord(3), "c": fileRecord(6)}
	if len(st) != len(want) {
		t.Errorf("state %q, want %q", keys(st), []string{"a/y", "c"})
	}
	for p, r := range want {
		if !recordEqual(st[p], r) {
			t.Errorf("%s = %+v, want %+v", p, st[p], r)
		}
	}
}

// count reads the number of entries of root straight from SQL.
func count(t *testing.T, db *DB, root RootID) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(`SELECT count(*) FROM entries WHERE root_id = ?`, root).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriterCommitsFullBatchWithoutFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db, _ := openTest(t)
		defer db.Close()
		root := mustRoot(t, db, "/l", "ftp://h/")
		w := db.WriterWith(root, WriterOptions{BatchSize: 10, MaxAge: time.Hour})
		defer w.Close(context.Background())
		for i := range 9 {
			mustOK(t, w.Put(fmt.Sprint(i), fileRecord(i)))
		}
		synctest.Wait()
		if n := count(t, db, root); n != 0 {
			t.Fatalf("after 9 of 10: %d committed, want 0", n)
		}
		mustOK(t, w.Put("9", fileRecord(9)))
		synctest.Wait()
		if n := count(t, db, root); n != 10 {
			t.Fatalf("after a full batch: %d committed, want 10", n)
		}
	})
}

func TestWriterCommitsBatchOnceMaxAgeOld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db, _ := openTest(t)
		defer db.Close()
		root := mustRoot(t, db, "/l", "ftp://h/")
		const age = 250 * time.Millisecond
		w := db.WriterWith(root, WriterOptions{BatchSize: 1000, MaxAge: age})
		defer w.Close(context.Background())

		mustOK(t, w.Put("first", fileRecord(1)))
		time.Sleep(age / 2) // fake time inside the bubble
		mustOK(t, w.Put("second", fileRecord(2)))
		time.Sleep(age/2 - time.Nanosecond)
		synctest.Wait()
		if n := count(t, db, root); n != 0 {
			t.Fatalf("before MaxAge: %d committed, want 0", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := count(t, db, root); n != 2 {
			t.Fatalf("at MaxAge of the oldest change: %d committed, want 2", n)
		}
		// A new batch starts its own clock.
		time.Sleep(age / 2)
		mustOK(t, w.Put("third", fileRecord(3)))
		time.Sleep(age - time.Nanosecond)
		synctest.Wait()
		if n := count(t, db, root); n != 2 {
			t.Fatalf("new batch before its MaxAge: %d committed, want 2", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := count(t, db, root); n != 3 {
			t.Fatalf("new batch at its MaxAge: %d committed, want 3", n)
		}
	})
}

// TestWriterKilledLosesOnlyUnflushedBatch pins what survives a process that
// dies without closing its Writer: everything flushed (or committed by size
// or age), nothing buffered since.
func TestWriterKilledLosesOnlyUnflushedBatch(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	root := mustRoot(t, db, "/l", "ftp://h/")
	w := db.WriterWith(root, WriterOptions{BatchSize: 1000, MaxAge: time.Hour})
	for i := range 10 {
		mustOK(t, w.Put(fmt.Sprintf("flushed/%d", i), fileRecord(i)))
	}
	mustOK(t, w.Flush(ctx))
	for i := range 5 {
		mustOK(t, w.Put(fmt.Sprintf("buffered/%d", i), fileRecord(i)))
	}
	mustOK(t, db.Close()) // the "kill": the Writer is never flushed again

	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	st, err := db2.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 10 {
		t.Errorf("survivors %q, want the 10 flushed/*", keys(st))
	}
	for i := range 10 {
		if _, ok := st[fmt.Sprintf("flushed/%d", i)]; !ok {
			t.Errorf("flushed/%d lost", i)
		}
	}
	// The orphaned Writer reports that its last batch could not be written.
	if err := w.Close(ctx); err == nil {
		t.Errorf("Close of a Writer whose DB is closed: nil error, want the commit failure")
	}
}

func TestWriterCommitErrorIsSticky(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	w := db.Writer(RootID(12345)) // no such root: the foreign key fails the commit
	mustOK(t, w.Put("a", fileRecord(1)))
	err := w.Flush(ctx)
	if err == nil {
		t.Fatal("Flush of rows for a missing root succeeded")
	}
	if err2 := w.Put("b", fileRecord(2)); !errors.Is(err2, err) && err2 != err {
		t.Errorf("Put after failed commit = %v, want %v", err2, err)
	}
	if err2 := w.Flush(ctx); err2 != err {
		t.Errorf("second Flush = %v, want %v", err2, err)
	}
	if err2 := w.Close(ctx); err2 != err {
		t.Errorf("Close = %v, want %v", err2, err)
	}
}

func TestWriterRefusesChangesAfterClose(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	w := db.Writer(mustRoot(t, db, "/l", "ftp://h/"))
	mustOK(t, w.Close(ctx))
	if err := w.Put("a", fileRecord(1)); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Put after Close = %v, want ErrWriterClosed", err)
	}
	if err := w.Flush(ctx); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Flush after Close = %v, want ErrWriterClosed", err)
	}
	if err := w.Close(ctx); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}
