package sync

import (
	"os"

	"golang.org/x/sys/unix"
)

const haveSyncfs = true

// syncfs flushes the whole filesystem that holds f (syncfs(2)).
func syncfs(f *os.File) error { return unix.Syncfs(int(f.Fd())) }
