//go:build !unix

package ftptest

import "io/fs"

// owner returns placeholder link count, owner and group where the
// platform has no Unix stat.
func owner(fs.FileInfo) (nlink uint64, uid, gid string) { return 1, "ftp", "ftp" }
