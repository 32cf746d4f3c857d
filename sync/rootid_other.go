//go:build !linux

package sync

import (
	"fmt"
	"os"
	"syscall"
)

// rootIdentity returns the device of folder p and its inode, to notice an
// unmounted disk or a folder deleted and re-created (where the system
// gives the new folder another inode).
func rootIdentity(p string) (dev uint64, id string) {
	fi, err := os.Stat(p)
	if err != nil {
		return 0, ""
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev), fmt.Sprint(st.Ino)
	}
	return 0, ""
}
