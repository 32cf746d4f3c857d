package sync

import (
	"os"

	"golang.org/x/sys/unix"
)

const haveSyncfs = true

// syncfs flushes the whole filesystem that holds f (syncfs(2)).
func syncfs(f *os.File) error { return unix.Syncfs(int(f.Fd())) }

// startWriteback asks the kernel to begin writing f's bytes [off, off+n)
// to disk now, without waiting (sync_file_range(2) with
// SYNC_FILE_RANGE_WRITE), so that the fsync before the rename of a big
// download has little left to do.
func startWriteback(f *os.File, off, n int64) {
	unix.SyncFileRange(int(f.Fd()), off, n, unix.SYNC_FILE_RANGE_WRITE)
}
