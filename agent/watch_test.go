package agent

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// startTestWatcher watches root (real inotify) and waits for its initial
// watches.
func startTestWatcher(t *testing.T, root string, excludes []string, seam func(w *watcher)) *watcher {
	t.Helper()
	ex, err := ferrysync.NewExcluder(excludes)
	if err != nil {
		t.Fatal(err)
	}
	own := func(rel string) bool { return rel == "state.db" || rel == "state.db-wal" }
	w, err := newWatcher(root, ex, own, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if seam != nil {
		seam(w)
	}
	w.start()
	t.Cleanup(w.close)
	<-w.setup
	return w
}

// next waits for the watcher's next batch.
func next(t *testing.T, w *watcher) ([]string, bool) {
	t.Helper()
	select {
	case <-w.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("no change reported within 5 s")
	}
	paths, full := w.take()
	slices.Sort(paths)
	return paths, full
}

func write(t *testing.T, p, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestWatcherReportsChangedPathsOnly(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, "keep/old.txt"), "x")
	w := startTestWatcher(t, root, []string{"*.tmp", "build/"}, nil)

	// What never triggers: excluded names and folders, ferry's
	// temporaries, the state cache.
	write(t, filepath.Join(root, "x.tmp"), "excluded")
	write(t, filepath.Join(root, "build/out.o"), "excluded folder")
	write(t, filepath.Join(root, ".a.txt.ferry-tmp"), "temporary")
	write(t, filepath.Join(root, "state.db"), "state")
	// What does.
	write(t, filepath.Join(root, "keep/new.txt"), "new")
	paths, full := next(t, w)
	if full || !slices.Equal(paths, []string{"keep/new.txt"}) {
		t.Errorf("batch = %q (full %v), want only keep/new.txt", paths, full)
	}

	// A new folder is reported itself (its run scans it, whatever was
	// written before its watch existed included), and gets a watch.
	write(t, filepath.Join(root, "fresh/deep/a.txt"), "a")
	paths, _ = next(t, w)
	if !slices.Contains(paths, "fresh") {
		t.Errorf("batch = %q, want the new folder fresh", paths)
	}
	write(t, filepath.Join(root, "fresh/deep/b.txt"), "b")
	paths, _ = next(t, w)
	if !slices.Contains(paths, "fresh/deep/b.txt") {
		t.Errorf("batch = %q, want fresh/deep/b.txt (a watch on the new folder)", paths)
	}

	// A renamed folder: both names are reported, and the old name's
	// watch is gone (a later change inside reports the new name only).
	if err := os.Rename(filepath.Join(root, "keep"), filepath.Join(root, "moved")); err != nil {
		t.Fatal(err)
	}
	paths, _ = next(t, w)
	if !slices.Contains(paths, "keep") || !slices.Contains(paths, "moved") {
		t.Errorf("batch after a folder rename = %q, want keep and moved", paths)
	}
	write(t, filepath.Join(root, "moved/later.txt"), "later")
	paths, _ = next(t, w)
	if !slices.Equal(paths, []string{"moved/later.txt"}) {
		t.Errorf("batch = %q, want moved/later.txt", paths)
	}
}

// TestWatcherDropsItsOwnWrites: a download ferry made into the tree does
// not come back as a change, but a later edit of the same file does.
func TestWatcherDropsItsOwnWrites(t *testing.T) {
	root := t.TempDir()
	w := startTestWatcher(t, root, nil, nil)
	p := filepath.Join(root, "down.txt")
	write(t, p, "downloaded")
	w.markSelf("down.txt")
	write(t, filepath.Join(root, "other.txt"), "user")
	paths, _ := next(t, w)
	if !slices.Equal(paths, []string{"other.txt"}) {
		t.Errorf("batch = %q, want other.txt only (down.txt was ferry's own write)", paths)
	}
	write(t, p, "edited by the user afterwards")
	paths, _ = next(t, w)
	if !slices.Equal(paths, []string{"down.txt"}) {
		t.Errorf("batch = %q, want down.txt (changed since ferry wrote it)", paths)
	}
}

// TestWatcherOutOfWatchesDegrades pins the watcher limits: running out of
// inotify watches (ENOSPC) does not stop the watcher; it says it is
// degraded and asks for a full run.
func TestWatcherOutOfWatchesDegrades(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"a", "b", "c"} {
		write(t, filepath.Join(root, d, "f"), "x")
	}
	w := startTestWatcher(t, root, nil, func(w *watcher) {
		real, n := w.add, 0
		w.add = func(dir string) error {
			if n++; n > 2 {
				return syscall.ENOSPC
			}
			return real(dir)
		}
	})
	if state, why := w.state(); state != WatchDegraded || why == "" {
		t.Errorf("state = %s (%s), want degraded with a reason", state, why)
	}
	if _, full := next(t, w); !full {
		t.Error("a degraded watcher did not ask for a full run")
	}
}
