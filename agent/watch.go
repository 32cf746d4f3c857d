package agent

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// watcher watches a local tree recursively (inotify watches one folder
// each) and collects the relative paths that changed. After a quiet spell
// of debounce (or at most maxWait after the first change of a burst) it
// signals ready; take returns the paths and starts a new batch.
//
// Folders created later get watches, and the new folder itself is
// reported, so the change-only run scans it (whatever was written there
// before its watch existed included). Removed and renamed-away folders
// lose theirs. Running out of watches (ENOSPC) or an overflowing event
// queue degrades the watcher: it keeps going, and the job falls back to
// full runs.
type watcher struct {
	root     string
	exclude  *ferrysync.Excluder
	ignore   func(rel string) bool // ferry's own files (state cache, locks)
	debounce time.Duration
	maxWait  time.Duration

	fs    *fsnotify.Watcher
	add   func(dir string) error // fs.Add; a test seam for running out of watches
	ready chan struct{}          // 1-buffered: a batch is waiting
	setup chan struct{}          // closed once the initial watches are in place
	done  chan struct{}          // closed when the event loop has ended
	// notify, when set before start, is called whenever a batch is
	// signalled (the status page shows a watch run waiting).
	notify func()

	mu       gosync.Mutex
	paths    map[string]bool
	watched  map[string]bool // absolute folders with a watch
	degraded string          // why; "" while fine
	lost     bool            // events were lost: the next run must be full
	self     map[string]selfMark
	// setupTook is how long the initial watches took (set before setup
	// is closed).
	setupTook time.Duration
}

// watching returns how many folders have a watch and how long the initial
// ones took to add.
func (w *watcher) watching() (folders int, took time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.watched), w.setupTook
}

// selfMark is a path ferry itself just wrote (a download) or removed in
// the tree: a change event for it is dropped while the path still looks
// the way ferry left it.
type selfMark struct {
	gone  bool
	size  int64 // -1: a folder
	mtime time.Time
	at    time.Time // when marked; marks expire after selfMarkTTL
}

// selfMarkTTL is how long a self mark drops events: long enough for the
// events of ferry's own writes to arrive, short enough that a user's
// edit that happens to leave size and mtime alike is not hidden for long.
const selfMarkTTL = time.Minute

func newWatcher(root string, exclude *ferrysync.Excluder, ignore func(string) bool, debounce time.Duration) (*watcher, error) {
	fw, err := fsnotify.NewBufferedWatcher(4096)
	if err != nil {
		return nil, err
	}
	maxWait := 10 * debounce
	if maxWait < 2*time.Second {
		maxWait = 2 * time.Second
	}
	w := &watcher{
		root: root, exclude: exclude, ignore: ignore, debounce: debounce, maxWait: maxWait,
		fs: fw, ready: make(chan struct{}, 1), setup: make(chan struct{}), done: make(chan struct{}),
		paths: map[string]bool{}, watched: map[string]bool{}, self: map[string]selfMark{},
	}
	w.add = fw.Add
	return w, nil
}

// start adds the initial watches in the background (a big tree must not
// delay the first sync) and runs the event loop until close.
func (w *watcher) start() {
	go func() {
		start := time.Now()
		w.addTree(w.root)
		w.mu.Lock()
		w.setupTook = time.Since(start)
		w.mu.Unlock()
		close(w.setup)
	}()
	go w.loop()
}

func (w *watcher) close() {
	w.fs.Close()
	<-w.done
}

// rel returns the slash-separated path of abs below the root, and false
// for the root itself or a path outside it.
func (w *watcher) rel(abs string) (string, bool) {
	r, err := filepath.Rel(w.root, abs)
	if err != nil || r == "." || strings.HasPrefix(r, "..") {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// addTree adds watches to dir and every folder below it, skipping
// excluded folders and symlinks.
func (w *watcher) addTree(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if rel, ok := w.rel(p); ok && (w.exclude.Excluded(rel, true) || w.ignore(rel)) {
			return filepath.SkipDir
		}
		if err := w.add(p); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				w.degrade("out of inotify watches (raise fs.inotify.max_user_watches)")
				return filepath.SkipAll
			}
			return nil // gone meanwhile, or unreadable: the runs report it
		}
		w.mu.Lock()
		w.watched[p] = true
		w.mu.Unlock()
		return nil
	})
}

func (w *watcher) degrade(why string) {
	w.mu.Lock()
	if w.degraded == "" {
		w.degraded = why
	}
	w.lost = true
	w.mu.Unlock()
	w.signal()
}

func (w *watcher) signal() {
	select {
	case w.ready <- struct{}{}:
	default:
	}
	if w.notify != nil {
		w.notify()
	}
}

// state returns the watcher's state for `ferry status`.
func (w *watcher) state() (string, string) {
	select {
	case <-w.setup:
	default:
		return WatchStarting, ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.degraded != "" {
		return WatchDegraded, w.degraded
	}
	return WatchOK, ""
}

func (w *watcher) loop() {
	defer close(w.done)
	var (
		timer     *time.Timer
		fire      <-chan time.Time
		burstFrom time.Time
	)
	for {
		select {
		case ev, ok := <-w.fs.Events:
			if !ok {
				return
			}
			if !w.event(ev) {
				continue
			}
			now := time.Now()
			if fire == nil {
				burstFrom = now
			}
			wait := w.debounce
			if rest := w.maxWait - now.Sub(burstFrom); rest < wait {
				wait = max(rest, 0)
			}
			if timer == nil {
				timer = time.NewTimer(wait)
			} else {
				timer.Reset(wait)
			}
			fire = timer.C
		case <-fire:
			fire = nil
			w.signal()
		case err, ok := <-w.fs.Errors:
			if !ok {
				return
			}
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				w.degrade("the event queue overflowed (raise fs.inotify.max_queued_events)")
			}
		}
	}
}

// event notes one change; it reports whether it is one a run must see.
func (w *watcher) event(ev fsnotify.Event) bool {
	rel, ok := w.rel(ev.Name)
	if !ok {
		return false
	}
	base := filepath.Base(ev.Name)
	if w.ignore(rel) || strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".ferry-tmp") {
		return false
	}
	isDir := false
	if ev.Has(fsnotify.Create) {
		if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
			isDir = true
		}
	}
	if w.exclude.Excluded(rel, isDir) || w.excludedAbove(rel) {
		return false
	}
	if isDir {
		// A new folder (made here or moved in): watch it and below.
		w.addTree(ev.Name)
	}
	if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
		w.unwatchTree(ev.Name)
	}
	w.mu.Lock()
	w.paths[rel] = true
	w.mu.Unlock()
	return true
}

// excludedAbove reports whether a folder above rel is excluded.
func (w *watcher) excludedAbove(rel string) bool {
	for dir := filepath.ToSlash(filepath.Dir(rel)); dir != "." && dir != ""; dir = filepath.ToSlash(filepath.Dir(dir)) {
		if w.exclude.Excluded(dir, true) {
			return true
		}
	}
	return false
}

// unwatchTree drops the watches of dir and below (a folder removed or
// renamed away; a moved folder keeps its inotify watch otherwise, and
// would report under its old name).
func (w *watcher) unwatchTree(dir string) {
	w.mu.Lock()
	var drop []string
	for p := range w.watched {
		if p == dir || strings.HasPrefix(p, dir+string(filepath.Separator)) {
			drop = append(drop, p)
			delete(w.watched, p)
		}
	}
	w.mu.Unlock()
	for _, p := range drop {
		w.fs.Remove(p)
	}
}

// markSelf records that ferry itself wrote (or removed) rel in the tree.
func (w *watcher) markSelf(rel string) {
	m := selfMark{gone: true, at: time.Now()}
	if st, err := os.Lstat(filepath.Join(w.root, filepath.FromSlash(rel))); err == nil {
		m = selfMark{size: st.Size(), mtime: st.ModTime(), at: m.at}
		if st.IsDir() {
			m.size = -1
		}
	}
	w.mu.Lock()
	w.self[rel] = m
	w.mu.Unlock()
}

// take returns the changed paths collected so far (nil when none) and
// whether events were lost, so the run must be a full one. Paths ferry
// itself wrote that still look as ferry left them are left out.
func (w *watcher) take() (paths []string, full bool) {
	now := time.Now()
	w.mu.Lock()
	ps, lost := w.paths, w.lost
	w.paths, w.lost = map[string]bool{}, false
	self := make(map[string]selfMark, len(w.self))
	for p, m := range w.self {
		if now.Sub(m.at) > selfMarkTTL {
			delete(w.self, p)
		} else {
			self[p] = m
		}
	}
	w.mu.Unlock()
	for p := range ps {
		if m, ok := self[p]; ok && m.matches(filepath.Join(w.root, filepath.FromSlash(p))) {
			continue
		}
		paths = append(paths, p)
	}
	return paths, lost
}

func (m selfMark) matches(abs string) bool {
	st, err := os.Lstat(abs)
	if m.gone {
		return errors.Is(err, fs.ErrNotExist)
	}
	if err != nil {
		return false
	}
	if m.size < 0 {
		return st.IsDir()
	}
	return st.Mode().IsRegular() && st.Size() == m.size && st.ModTime().Equal(m.mtime)
}
