package ftp

import (
	"fmt"
	"time"
)

// EntryType is the type of a listing entry.
type EntryType uint8

const (
	TypeFile EntryType = iota + 1
	TypeDir
	TypeLink  // symbolic link (LIST "l", MLSD "OS.unix=symlink" or "unix.slink")
	TypeOther // device, socket, unknown
)

func (t EntryType) String() string {
	switch t {
	case TypeFile:
		return "file"
	case TypeDir:
		return "dir"
	case TypeLink:
		return "link"
	}
	return "other"
}

// Entry is one name in a folder listing.
//
// ModTime is in UTC when the listing says so (MLSD "modify" facts are UTC per
// RFC 3659 section 2.3) and otherwise read in the location given to the parser
// (a LIST line has no zone). Precision says how exact ModTime is: time.Second
// (MLSD, MDTM), time.Minute ("Nov 24 06:31"), 24*time.Hour ("Nov 24  2024");
// 0 when the listing gave no time.
type Entry struct {
	Name      string
	Type      EntryType
	Size      int64
	ModTime   time.Time
	Precision time.Duration
	Mode      uint32 // permission bits when known (unix.mode, ls -l), else 0
	Target    string // symlink target when the listing gives one
}

// BadNameError reports a listing entry whose name is unsafe to use: "." or
// "..", empty, or containing "/", "\" or NUL. The entry is never returned as
// a name; callers report the error and treat the listing as incomplete.
type BadNameError struct {
	Name string
	Line string
}

func (e *BadNameError) Error() string {
	return fmt.Sprintf("ftp: unsafe name %q in listing line %q", e.Name, e.Line)
}

// checkName returns a *BadNameError for names a sync must never use.
func checkName(name, line string) error {
	if name == "" || name == "." || name == ".." {
		return &BadNameError{Name: name, Line: line}
	}
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '/', '\\', 0:
			return &BadNameError{Name: name, Line: line}
		}
	}
	return nil
}
