//go:build unix

package sync

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// statAt returns the size and mtime of the entry name of the open folder
// dir (full is its path, for other systems), without following a symlink.
func statAt(dir *os.File, full, name string) (int64, time.Time, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, time.Time{}, &os.PathError{Op: "lstat", Path: full, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return 0, time.Time{}, &os.PathError{Op: "lstat", Path: full, Err: errChanged}
	}
	return st.Size, time.Unix(st.Mtim.Unix()), nil
}

// openDirAt opens the folder name inside dir without following a symlink
// (a folder replaced by a link since the listing is not entered).
func openDirAt(dir *os.File, full, name string) (*os.File, error) {
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: full, Err: err}
	}
	return os.NewFile(uintptr(fd), full), nil
}
