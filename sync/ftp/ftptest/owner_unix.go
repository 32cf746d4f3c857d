//go:build unix

package ftptest

import (
	"io/fs"
	"strconv"
	"syscall"
)

// owner returns the link count and numeric owner and group of fi, as
// vsftpd prints them.
func owner(fi fs.FileInfo) (nlink uint64, uid, gid string) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 1, "ftp", "ftp"
	}
	return uint64(st.Nlink), strconv.FormatUint(uint64(st.Uid), 10), strconv.FormatUint(uint64(st.Gid), 10)
}
