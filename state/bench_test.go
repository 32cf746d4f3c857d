package state

import (
	"context"
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
)

// hugeTree is the product's big-tree case: 50,000 files in 500 folders.
const hugeTree = 50_000

func hugePath(i int) string { return fmt.Sprintf("dir%03d/sub/file-%06d.dat", i%500, i) }

// reportRSS adds the process's peak resident set size, which must stay
// under 100 MB for the huge-tree case.
func reportRSS(b *testing.B) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MB") // Linux reports KiB
	}
}

func BenchmarkWriter50k(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
		if err != nil {
			b.Fatal(err)
		}
		root, err := db.Root(ctx, "/huge", "ftp://h/")
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		w := db.Writer(root)
		for i := range hugeTree {
			if err := w.Put(hugePath(i), fileRecord(i)); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(ctx); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	reportRSS(b)
}

func BenchmarkLoad50k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	root, err := db.Root(ctx, "/huge", "ftp://h/")
	if err != nil {
		b.Fatal(err)
	}
	w := db.Writer(root)
	for i := range hugeTree {
		if err := w.Put(hugePath(i), fileRecord(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		st, err := db.Load(ctx, root)
		if err != nil || len(st) != hugeTree {
			b.Fatalf("Load: %d records, %v", len(st), err)
		}
	}
	reportRSS(b)
}

func BenchmarkLoadUnder50k(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	root, err := db.Root(ctx, "/huge", "ftp://h/")
	if err != nil {
		b.Fatal(err)
	}
	w := db.Writer(root)
	for i := range hugeTree {
		if err := w.Put(hugePath(i), fileRecord(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(ctx); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		st, err := db.LoadUnder(ctx, root, []string{"dir007", "dir123/sub"})
		if err != nil || len(st) != 2*hugeTree/500 {
			b.Fatalf("LoadUnder: %d records, %v", len(st), err)
		}
	}
}
