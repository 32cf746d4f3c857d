package job

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrBusy is returned when another process holds a lock ferry needs: the
// agent's lock on a state cache, or a run's lock on a local folder.
var ErrBusy = errors.New("in use by another ferry process")

// lockFile is an exclusive advisory lock (flock) on a file; the kernel
// drops it when the process dies, so a killed ferry leaves no stale lock.
type lockFile struct{ f *os.File }

// tryLock takes the lock at path without waiting, writing this process's
// id into the file. When another process holds it, the error wraps
// ErrBusy and names that process.
func tryLock(path string) (*lockFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := flock(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("%w (pid %s)", ErrBusy, holder(path))
		}
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &lockFile{f: f}, nil
}

// holder is the process id written into the lock file at path, or "?".
func holder(path string) string {
	b, err := os.ReadFile(path)
	if pid := strings.TrimSpace(string(b)); err == nil && pid != "" {
		return pid
	}
	return "?"
}

// Unlock releases the lock.
func (l *lockFile) Unlock() {
	if l != nil && l.f != nil {
		l.f.Close() // closing the descriptor drops the flock
		l.f = nil
	}
}

// LockAgent takes the lock that lets one agent at a time use the state
// cache at statePath ("state.db.agent.lock" beside it). The error wraps
// ErrBusy when another agent runs on it.
func LockAgent(statePath string) (unlock func(), err error) {
	l, err := tryLock(statePath + ".agent.lock")
	if err != nil {
		return nil, fmt.Errorf("state cache %s: another agent runs on it: %w", statePath, err)
	}
	return l.Unlock, nil
}

// AgentRunning reports whether an agent holds the state cache at statePath.
func AgentRunning(statePath string) bool {
	if _, err := os.Stat(statePath + ".agent.lock"); err != nil {
		return false
	}
	l, err := tryLock(statePath + ".agent.lock")
	if err != nil {
		return errors.Is(err, ErrBusy)
	}
	l.Unlock()
	return false
}

// lockRoot takes the lock of local folder local, so one folder is never
// synced by two processes at once (the agent and a ferry push by hand),
// whatever state cache each uses: the lock is a flock on the folder
// itself. A folder that does not exist yet (a first pull) is not locked.
// While another process holds it, lockRoot calls waiting once and waits,
// polling, until it is free or ctx ends.
func lockRoot(ctx context.Context, local string, waiting func()) (*lockFile, error) {
	told := false
	for {
		f, err := os.Open(local)
		if errors.Is(err, os.ErrNotExist) {
			return &lockFile{}, nil
		}
		if err != nil {
			return nil, fmt.Errorf("locking %s: %w", local, err)
		}
		err = flock(f)
		if err == nil {
			return &lockFile{f: f}, nil
		}
		f.Close()
		if !errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("locking %s: %w", local, err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the other ferry process syncing %s: %w", local, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
