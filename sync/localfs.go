package sync

import (
	"errors"
	"os"
	gosync "sync"
)

// localDirs hands out an *os.Root for each local folder a run writes into,
// opened once through the run's root. Operations on a name inside its own
// folder then cost one system call instead of a walk of every path
// component per call (os.Root resolves a path one component at a time:
// measured, nine openat calls per downloaded file without this).
//
// Every handle stays inside the run's root: it was opened through it, and
// names passed to it are single components.
type localDirs struct {
	root *os.Root

	mu   gosync.Mutex
	dirs map[string]*os.Root
}

// maxDirHandles bounds the open folder handles; folders beyond it are
// reached through the run's root, component by component.
const maxDirHandles = 256

func newLocalDirs(root *os.Root) *localDirs {
	return &localDirs{root: root, dirs: map[string]*os.Root{}}
}

// dir returns the handle of rel's folder and rel's base name.
func (l *localDirs) dir(rel string) (*os.Root, string, error) {
	dir, base := splitRel(rel)
	if dir == "" {
		return l.root, base, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if d, ok := l.dirs[dir]; ok {
		return d, base, nil
	}
	if len(l.dirs) >= maxDirHandles {
		return l.root, rel, nil
	}
	d, err := l.root.OpenRoot(dir)
	if err != nil {
		return nil, "", err
	}
	l.dirs[dir] = d
	return d, base, nil
}

// forget drops the handle of folder rel (before it is removed or renamed).
func (l *localDirs) forget(rel string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for d, h := range l.dirs {
		if d == rel || (len(d) > len(rel) && d[:len(rel)] == rel && d[len(rel)] == '/') {
			h.Close()
			delete(l.dirs, d)
		}
	}
}

func (l *localDirs) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var errs []error
	for _, d := range l.dirs {
		errs = append(errs, d.Close())
	}
	l.dirs = map[string]*os.Root{}
	return errors.Join(errs...)
}
