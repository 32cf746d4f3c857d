//go:build linux

package sync

import (
	"io/fs"
	"syscall"
	"time"
)

// ctimeOf returns the inode change time of a file's fstat.
func ctimeOf(info fs.FileInfo) time.Time {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Unix())
	}
	return time.Time{}
}
