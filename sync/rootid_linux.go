package sync

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// rootIdentity returns the device of folder p and a string that changes
// when p is deleted and re-created: its inode and birth time. A folder
// re-created at once often gets the same inode back (ext4 does), so the
// inode alone does not tell; the birth time to the nanosecond does.
func rootIdentity(p string) (dev uint64, id string) {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, p, 0, unix.STATX_INO|unix.STATX_BTIME, &st); err != nil {
		return 0, ""
	}
	id = fmt.Sprint(st.Ino)
	if st.Mask&unix.STATX_BTIME != 0 {
		id += fmt.Sprintf("@%d.%09d", st.Btime.Sec, st.Btime.Nsec)
	}
	return unix.Mkdev(st.Dev_major, st.Dev_minor), id
}
