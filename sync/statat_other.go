//go:build !unix

package sync

import (
	"fmt"
	"os"
	"time"
)

// statAt returns the size and mtime of the regular file full, without
// following a symlink.
func statAt(_ *os.File, full, _ string) (int64, time.Time, error) {
	info, err := os.Lstat(full)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !info.Mode().IsRegular() {
		return 0, time.Time{}, &os.PathError{Op: "lstat", Path: full, Err: errChanged}
	}
	return info.Size(), info.ModTime(), nil
}

// openDirAt opens the folder full; a symlink there is refused.
func openDirAt(_ *os.File, full, _ string) (*os.File, error) {
	info, err := os.Lstat(full)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: %w", full, errChanged)
	}
	return os.Open(full)
}
