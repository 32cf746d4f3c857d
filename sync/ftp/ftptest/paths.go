package ftptest

import (
	"errors"
	"io/fs"
	"path"
	"strings"
)

// resolve turns a command argument into an absolute virtual path, "/"
// being the served root. ".." never climbs above "/" (path.Clean), so
// "../../etc/passwd" at the root names "/etc/passwd" inside the root. The
// os.Root then refuses any symbolic link leading out of it.
func (s *Session) resolve(arg string) string {
	if arg == "" {
		return s.cwd
	}
	if strings.HasPrefix(arg, "/") {
		return path.Clean(arg)
	}
	return path.Clean(path.Join(s.cwd, arg))
}

// rootName turns an absolute virtual path into a name for os.Root.
func rootName(v string) string {
	n := strings.TrimPrefix(v, "/")
	if n == "" {
		return "."
	}
	return n
}

// fsReply picks the reply code for a failed file operation: 550 for all
// (not found, permission, escaping the root), as vsftpd does.
func fsReply(err error) (int, string) {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 550, "No such file or directory."
	case errors.Is(err, fs.ErrPermission):
		return 550, "Permission denied."
	case errors.Is(err, fs.ErrExist):
		return 550, "File exists."
	}
	return 550, "Requested action not taken."
}

func (s *Session) replyFSError(op, v string, err error) {
	s.logf("%s %s: %v", op, v, err)
	code, text := fsReply(err)
	s.Reply(code, text)
}

// quotePath doubles quotes for a 257 reply (RFC 959 Appendix II).
func quotePath(v string) string {
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
}
