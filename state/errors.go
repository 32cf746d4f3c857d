package state

import (
	"errors"
	"fmt"
)

var (
	// ErrNotDatabase means the file at the state path exists but is not a
	// SQLite database. Open wraps it with the path.
	ErrNotDatabase = errors.New("not a SQLite database")

	// ErrPasswordInRemote means a remote URL given to the state cache still
	// contains a password in its userinfo. Callers must redact it first.
	ErrPasswordInRemote = errors.New("remote URL contains a password; the state cache never stores passwords")

	// ErrNotFound means the run, root or journal entry named by an id does
	// not exist.
	ErrNotFound = errors.New("not found")

	// ErrWriterClosed is returned by Put, Delete, DeleteTree and Flush
	// after the Writer has been closed.
	ErrWriterClosed = errors.New("state writer closed")
)

// VersionError means the database's schema is newer than this binary
// knows: it was written by a newer ferry. Nothing is changed in it.
type VersionError struct {
	Path    string
	Version int // schema version found in the file
	Known   int // highest schema version this binary knows
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("state: open %s: schema version %d is newer than this ferry knows (%d); use a newer ferry or another --state file",
		e.Path, e.Version, e.Known)
}
