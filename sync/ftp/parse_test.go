package ftp

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/listings/*.golden from the parsers' output")

// errKind names the error classes the parsers return, for tables.
type errKind int

const (
	errNone errKind = iota
	errSkip
	errParse
	errBadName
)

func (k errKind) String() string {
	return [...]string{"nil", "ErrSkip", "*ParseError", "*BadNameError"}[k]
}

// kindOf classifies err; it fails the test on an error of no known class.
func kindOf(t *testing.T, err error) errKind {
	t.Helper()
	var pe *ParseError
	var be *BadNameError
	switch {
	case err == nil:
		return errNone
	case errors.Is(err, ErrSkip):
		return errSkip
	case errors.As(err, &pe):
		return errParse
	case errors.As(err, &be):
		return errBadName
	}
	t.Fatalf("untyped error %T: %v", err, err)
	return 0
}

// fmtEntry renders an Entry on one line for failure messages and goldens.
func fmtEntry(e Entry) string {
	mt := "-"
	if !e.ModTime.IsZero() {
		mt = e.ModTime.Format(time.RFC3339Nano)
		if e.ModTime.Location() != time.UTC {
			mt += "(not UTC!)"
		}
	}
	s := fmt.Sprintf("name=%q type=%v size=%d modify=%s precision=%v mode=%04o", e.Name, e.Type, e.Size, mt, e.Precision, e.Mode)
	if e.Target != "" {
		s += fmt.Sprintf(" target=%q", e.Target)
	}
	return s
}

func sameEntry(a, b Entry) bool {
	return a.Name == b.Name && a.Type == b.Type && a.Size == b.Size && a.ModTime.Equal(b.ModTime) &&
		a.Precision == b.Precision && a.Mode == b.Mode && a.Target == b.Target &&
		(a.ModTime.IsZero() || a.ModTime.Location() == time.UTC)
}

func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load location %s: %v", name, err)
	}
	return loc
}

type entryCase struct {
	name string
	line string
	want Entry
	err  errKind
}

func checkEntry(t *testing.T, tc entryCase, got Entry, err error) {
	t.Helper()
	if k := kindOf(t, err); k != tc.err {
		t.Fatalf("line %q: error %v (%v), want %v", tc.line, k, err, tc.err)
	}
	if tc.err != errNone {
		if got != (Entry{}) {
			t.Errorf("line %q: error %v came with a non-empty entry %s", tc.line, err, fmtEntry(got))
		}
		return
	}
	if !sameEntry(got, tc.want) {
		t.Errorf("line %q:\n got %s\nwant %s", tc.line, fmtEntry(got), fmtEntry(tc.want))
	}
}

func TestParseMLSxLine(t *testing.T) {
	mod := utc(2026, 11, 26, 11, 57, 30)
	cases := []entryCase{
		{name: "pure-ftpd file",
			line: "type=file;size=6;modify=20261126115730;UNIX.mode=0644;UNIX.uid=999;UNIX.gid=995;unique=fe00g9844a3; plain.txt",
			want: Entry{Name: "plain.txt", Type: TypeFile, Size: 6, ModTime: mod, Precision: time.Second, Mode: 0o644}},
		{name: "proftpd file facts in other order",
			line: "modify=20261126115730;perm=adfrw;size=5000000000;type=file;unique=FE00U9844F8;UNIX.group=995;UNIX.groupname=ferrytest;UNIX.mode=0644;UNIX.owner=999;UNIX.ownername=ferrytest; big.bin",
			want: Entry{Name: "big.bin", Type: TypeFile, Size: 5000000000, ModTime: mod, Precision: time.Second, Mode: 0o644}},
		{name: "fact names and type value are case-insensitive (RFC 3659 7.5)",
			line: "TYPE=File;Size=3;MODIFY=20261126115730; a",
			want: Entry{Name: "a", Type: TypeFile, Size: 3, ModTime: mod, Precision: time.Second}},
		{name: "pure-ftpd dir uses sizd",
			line: "type=dir;sizd=4096;modify=20261126115730;UNIX.mode=0755; sub dir",
			want: Entry{Name: "sub dir", Type: TypeDir, Size: 4096, ModTime: mod, Precision: time.Second, Mode: 0o755}},
		{name: "proftpd dir without size",
			line: "modify=20261126115730;perm=flcdmpe;type=dir;UNIX.mode=01777; sticky",
			want: Entry{Name: "sticky", Type: TypeDir, ModTime: mod, Precision: time.Second, Mode: 0o1777}},
		{name: "sizd ignored for files",
			line: "type=file;sizd=4096; f",
			want: Entry{Name: "f", Type: TypeFile}},
		{name: "name keeps exactly what follows the one space: leading space",
			line: "type=file;size=2;modify=20261126115730;  leading space",
			want: Entry{Name: " leading space", Type: TypeFile, Size: 2, ModTime: mod, Precision: time.Second}},
		{name: "name with semicolons, equals and double spaces",
			line: "type=file;size=2; semi;colon=eq  x.txt",
			want: Entry{Name: "semi;colon=eq  x.txt", Type: TypeFile, Size: 2}},
		{name: "name beginning with a dash",
			line: "type=file;size=2; -dash",
			want: Entry{Name: "-dash", Type: TypeFile, Size: 2}},
		{name: "unicode name",
			line: "type=file;size=2; ünïcödé.txt",
			want: Entry{Name: "ünïcödé.txt", Type: TypeFile, Size: 2}},
		{name: "CRLF line ending tolerated",
			line: "type=file;size=2; a b\r\n",
			want: Entry{Name: "a b", Type: TypeFile, Size: 2}},
		{name: "proftpd symlink",
			line: "modify=20261126115730;perm=adfrw;size=9;type=OS.unix=symlink;UNIX.mode=0777; link",
			want: Entry{Name: "link", Type: TypeLink, Size: 9, ModTime: mod, Precision: time.Second, Mode: 0o777}},
		{name: "pure-ftpd slink with empty target",
			line: "type=OS.unix=slink:;size=21;modify=20261126115730;UNIX.mode=0777; link with space",
			want: Entry{Name: "link with space", Type: TypeLink, Size: 21, ModTime: mod, Precision: time.Second, Mode: 0o777}},
		{name: "slink with target",
			line: "type=OS.unix=slink:/srv/target;size=11; l",
			want: Entry{Name: "l", Type: TypeLink, Size: 11, Target: "/srv/target"}},
		{name: "unix.slink fact without type makes a link",
			line: "unix.slink=dest;size=4; l",
			want: Entry{Name: "l", Type: TypeLink, Size: 4, Target: "dest"}},
		{name: "pure-ftpd fifo is type=unknown",
			line: "type=unknown;size=0;modify=20261126115730;UNIX.mode=0644; fifo",
			want: Entry{Name: "fifo", Type: TypeOther, ModTime: mod, Precision: time.Second, Mode: 0o644}},
		{name: "device type is other",
			line: "type=OS.unix=chr-1/3; null",
			want: Entry{Name: "null", Type: TypeOther}},
		{name: "missing type is TypeOther",
			line: "size=5;modify=20261126115730; what",
			want: Entry{Name: "what", Type: TypeOther, Size: 5, ModTime: mod, Precision: time.Second}},
		{name: "empty facts",
			line: " only name",
			want: Entry{Name: "only name", Type: TypeOther}},
		{name: "last fact without semicolon tolerated",
			line: "type=file;size=7 x",
			want: Entry{Name: "x", Type: TypeFile, Size: 7}},
		{name: "modify with fraction keeps it, precision stays Second",
			line: "type=file;modify=20241124063100.123; f",
			want: Entry{Name: "f", Type: TypeFile, ModTime: time.Date(2024, 11, 24, 6, 31, 0, 123e6, time.UTC), Precision: time.Second}},
		{name: "perm and unknown facts ignored",
			line: "type=file;perm=adfrw;x.custom=whatever;lang=en; f",
			want: Entry{Name: "f", Type: TypeFile}},

		{name: "cdir is skipped", line: "type=cdir;sizd=4096;modify=20261126115730; .", err: errSkip},
		{name: "cdir with a path name is skipped", line: "type=cdir; /home/x", err: errSkip},
		{name: "pdir is skipped", line: "type=pdir;modify=20261126115730; ..", err: errSkip},
		{name: "dir named dot is skipped", line: "type=dir; .", err: errSkip},
		{name: "blank line is skipped", line: "", err: errSkip},

		{name: "file named dotdot is a bad name", line: "type=file;size=1; ..", err: errBadName},
		{name: "name with slash is a bad name", line: "type=file;size=1; a/b", err: errBadName},
		{name: "name with backslash is a bad name", line: "type=file;size=1; a\\b", err: errBadName},
		{name: "name with NUL is a bad name", line: "type=file;size=1; a\x00b", err: errBadName},
		{name: "empty name is a bad name", line: "type=file;size=1; ", err: errBadName},

		{name: "no space", line: "type=file;size=1;name", err: errParse},
		{name: "fact without equals", line: "type=file;size; f", err: errParse},
		{name: "empty fact", line: "type=file;;size=1; f", err: errParse},
		{name: "fact with empty name", line: "=file; f", err: errParse},
		{name: "size not a number", line: "type=file;size=abc; f", err: errParse},
		{name: "negative size", line: "type=file;size=-1; f", err: errParse},
		{name: "plus-signed size", line: "type=file;size=+1; f", err: errParse},
		{name: "size over int64", line: "type=file;size=9223372036854775808; f", err: errParse},
		{name: "bad sizd on a dir", line: "type=dir;sizd=x; d", err: errParse},
		{name: "modify too short", line: "type=file;modify=2024112406; f", err: errParse},
		{name: "modify month 13", line: "type=file;modify=20241324063100; f", err: errParse},
		{name: "unix.mode not octal", line: "type=file;unix.mode=0899; f", err: errParse},
		{name: "unix.mode too large", line: "type=file;unix.mode=0177777; f", err: errParse},
		{name: "line longer than MaxLineLen", line: "type=file; " + strings.Repeat("a", MaxLineLen), err: errParse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMLSxLine(tc.line)
			checkEntry(t, tc, got, err)
		})
	}
}

func TestParseMLSTLine(t *testing.T) {
	mod := utc(2026, 11, 26, 11, 57, 41)
	cases := []entryCase{
		{name: "proftpd answers with an absolute path",
			line: " modify=20261126115741;perm=adfrw;size=6;type=file;UNIX.mode=0644; /plain.txt",
			want: Entry{Name: "/plain.txt", Type: TypeFile, Size: 6, ModTime: mod, Precision: time.Second, Mode: 0o644}},
		{name: "pure-ftpd answers with the name",
			line: " type=file;size=6;modify=20261126115741;UNIX.mode=0644; plain.txt",
			want: Entry{Name: "plain.txt", Type: TypeFile, Size: 6, ModTime: mod, Precision: time.Second, Mode: 0o644}},
		{name: "cdir describes the directory itself",
			line: " type=cdir;modify=20261126115741; /sub dir",
			want: Entry{Name: "/sub dir", Type: TypeDir, ModTime: mod, Precision: time.Second}},
		{name: "no leading space", line: "type=file; a", err: errParse},
		{name: "no pathname separator", line: " type=file;", err: errParse},
		{name: "empty pathname", line: " type=file; ", err: errBadName},
		{name: "NUL in pathname", line: " type=file; a\x00", err: errBadName},
		{name: "bad fact", line: " size=x; a", err: errParse},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMLSTLine(tc.line)
			checkEntry(t, tc, got, err)
		})
	}
}

type listCase struct {
	entryCase
	now time.Time
	loc *time.Location
}

func TestParseListLineUnix(t *testing.T) {
	now := utc(2026, 11, 26, 11, 57, 30)
	min := time.Minute
	day := 24 * time.Hour
	cases := []listCase{
		{entryCase: entryCase{name: "vsftpd numeric owner and group",
			line: "-rw-r--r--    1 999      995             6 Nov 26 11:57 plain.txt",
			want: Entry{Name: "plain.txt", Type: TypeFile, Size: 6, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "pure-ftpd named group",
			line: "drwxr-xr-x    2 999        ferrytest        4096 Nov 26 11:57 sub dir",
			want: Entry{Name: "sub dir", Type: TypeDir, Size: 4096, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o755}}},
		{entryCase: entryCase{name: "proftpd size wider than its column",
			line: "-rw-r--r--   1 ferrytest ferrytest 5000000000 Nov 26 11:57 big.bin",
			want: Entry{Name: "big.bin", Type: TypeFile, Size: 5000000000, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "size near int64 max",
			line: "-rw-r--r-- 1 u g 9223372036854775807 Nov 26 11:57 huge",
			want: Entry{Name: "huge", Type: TypeFile, Size: 9223372036854775807, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "year instead of time gives day precision",
			line: "-rw-r--r--    1 999      995             2 Mar 05  2019 old.txt",
			want: Entry{Name: "old.txt", Type: TypeFile, Size: 2, ModTime: utc(2019, 3, 5, 0, 0, 0), Precision: day, Mode: 0o644}}},
		{entryCase: entryCase{name: "year with space-padded day (pure-ftpd)",
			line: "-rw-r--r--    1 999        ferrytest           2 Mar  5  2019 old.txt",
			want: Entry{Name: "old.txt", Type: TypeFile, Size: 2, ModTime: utc(2019, 3, 5, 0, 0, 0), Precision: day, Mode: 0o644}}},
		{entryCase: entryCase{name: "no group column (ls -o)",
			line: "-rw-r--r-- 1 owner 1234 Nov 24 06:31 file",
			want: Entry{Name: "file", Type: TypeFile, Size: 1234, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "no link count, owner or group",
			line: "-rw-r--r-- 1234 Nov 24 06:31 file",
			want: Entry{Name: "file", Type: TypeFile, Size: 1234, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "single-space columns and lower-case month",
			line: "-rw-r--r-- 1 u g 3 nov 24 2024 f",
			want: Entry{Name: "f", Type: TypeFile, Size: 3, ModTime: utc(2024, 11, 24, 0, 0, 0), Precision: day, Mode: 0o644}}},
		{entryCase: entryCase{name: "name keeps leading space",
			line: "-rw-r--r--    1 999      995             2 Nov 26 11:57  leading space",
			want: Entry{Name: " leading space", Type: TypeFile, Size: 2, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "name keeps leading space after a year",
			line: "-rw-r--r--    1 u g 2 Nov 26  2019   three",
			want: Entry{Name: "  three", Type: TypeFile, Size: 2, ModTime: utc(2019, 11, 26, 0, 0, 0), Precision: day, Mode: 0o644}}},
		{entryCase: entryCase{name: "name keeps inner double spaces and trailing space",
			line: "-rw-r--r-- 1 u g 2 Nov 26 11:57 name with  spaces.txt ",
			want: Entry{Name: "name with  spaces.txt ", Type: TypeFile, Size: 2, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "name beginning with a dash",
			line: "-rw-r--r--    1 999      995             2 Nov 26 11:57 -dash",
			want: Entry{Name: "-dash", Type: TypeFile, Size: 2, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "name that looks like a date",
			line: "-rw-r--r-- 1 u g 2 Nov 26 11:57 Dec 01 12:00 x",
			want: Entry{Name: "Dec 01 12:00 x", Type: TypeFile, Size: 2, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "owner named like a month",
			line: "-rw-r--r-- 1 Nov 12 2 Nov 26 11:57 x",
			want: Entry{Name: "x", Type: TypeFile, Size: 2, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "symlink splits name and target",
			line: "lrwxrwxrwx    1 999      995            21 Nov 26 11:57 link with space -> name with  spaces.txt",
			want: Entry{Name: "link with space", Type: TypeLink, Size: 21, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o777, Target: "name with  spaces.txt"}}},
		{entryCase: entryCase{name: "symlink target with arrow splits at the first arrow",
			line: "lrwxrwxrwx 1 u g 7 Nov 24 06:31 a -> b -> c",
			want: Entry{Name: "a", Type: TypeLink, Size: 7, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o777, Target: "b -> c"}}},
		{entryCase: entryCase{name: "symlink without target",
			line: "lrwxrwxrwx 1 u g 7 Nov 24 06:31 a",
			want: Entry{Name: "a", Type: TypeLink, Size: 7, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o777}}},
		{entryCase: entryCase{name: "arrow in a file name is kept",
			line: "-rw-r--r-- 1 u g 7 Nov 24 06:31 a -> b",
			want: Entry{Name: "a -> b", Type: TypeFile, Size: 7, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "character device with major, minor",
			line: "crw-rw-rw-   1 root     root       1,   3 Nov 24  2024 null",
			want: Entry{Name: "null", Type: TypeOther, ModTime: utc(2024, 11, 24, 0, 0, 0), Precision: day, Mode: 0o666}}},
		{entryCase: entryCase{name: "block device with glued major,minor",
			line: "brw-rw---- 1 root disk 8,0 Nov 24 06:31 sda",
			want: Entry{Name: "sda", Type: TypeOther, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o660}}},
		{entryCase: entryCase{name: "vsftpd device and fifo show size 0",
			line: "prw-r--r--    1 999      995             0 Nov 26 11:57 fifo",
			want: Entry{Name: "fifo", Type: TypeOther, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "ACL plus suffix",
			line: "-rw-r--r--+ 1 u g 5 Nov 24 06:31 acl",
			want: Entry{Name: "acl", Type: TypeFile, Size: 5, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "macOS extended attribute suffix",
			line: "drwxr-xr-x@ 3 u staff 96 Nov 24 06:31 mac",
			want: Entry{Name: "mac", Type: TypeDir, Size: 96, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o755}}},
		{entryCase: entryCase{name: "SELinux context dot suffix",
			line: "-rw-r--r--. 1 u g 5 Nov 24 06:31 se",
			want: Entry{Name: "se", Type: TypeFile, Size: 5, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},
		{entryCase: entryCase{name: "setuid s",
			line: "-rwsr-xr-x 1 u g 5 Nov 24 06:31 suid",
			want: Entry{Name: "suid", Type: TypeFile, Size: 5, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o4755}}},
		{entryCase: entryCase{name: "setuid S without execute, setgid s",
			line: "-rwSr-s--- 1 u g 5 Nov 24 06:31 ids",
			want: Entry{Name: "ids", Type: TypeFile, Size: 5, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o6650}}},
		{entryCase: entryCase{name: "sticky t",
			line: "drwxrwxrwt    2 999      995          4096 Nov 26 11:57 sticky",
			want: Entry{Name: "sticky", Type: TypeDir, Size: 4096, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o1777}}},
		{entryCase: entryCase{name: "sticky T without execute",
			line: "drwxrwx--T 2 u g 4096 Nov 26 11:57 st",
			want: Entry{Name: "st", Type: TypeDir, Size: 4096, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min, Mode: 0o1770}}},
		{entryCase: entryCase{name: "no permissions at all",
			line: "---------- 1 u g 0 Nov 26 11:57 locked",
			want: Entry{Name: "locked", Type: TypeFile, ModTime: utc(2026, 11, 26, 11, 57, 0), Precision: min}}},
		{entryCase: entryCase{name: "CRLF tolerated",
			line: "-rw-r--r-- 1 u g 5 Nov 24 06:31 crlf\r\n",
			want: Entry{Name: "crlf", Type: TypeFile, Size: 5, ModTime: utc(2026, 11, 24, 6, 31, 0), Precision: min, Mode: 0o644}}},

		{entryCase: entryCase{name: "total line is skipped", line: "total 12", err: errSkip}},
		{entryCase: entryCase{name: "blank line is skipped", line: "   ", err: errSkip}},
		{entryCase: entryCase{name: "dot directory of LIST -a is skipped",
			line: "drwxr-xr-x    5 999      995          4096 Nov 26 11:57 .", err: errSkip}},
		{entryCase: entryCase{name: "dotdot directory of LIST -a is skipped",
			line: "drwxr-xr-x    5 999      995          4096 Nov 26 11:57 ..", err: errSkip}},
		{entryCase: entryCase{name: "file named dotdot is a bad name",
			line: "-rw-r--r-- 1 u g 5 Nov 26 11:57 ..", err: errBadName}},
		{entryCase: entryCase{name: "link named dot is a bad name",
			line: "lrwxrwxrwx 1 u g 5 Nov 26 11:57 . -> x", err: errBadName}},
		{entryCase: entryCase{name: "slash in name is a bad name",
			line: "-rw-r--r-- 1 u g 5 Nov 26 11:57 ../../etc/passwd", err: errBadName}},
		{entryCase: entryCase{name: "backslash in name is a bad name",
			line: "-rw-r--r-- 1 u g 5 Nov 26 11:57 a\\b", err: errBadName}},
		{entryCase: entryCase{name: "link with empty name is a bad name",
			line: "lrwxrwxrwx 1 u g 5 Nov 26 11:57  -> x", err: errBadName}},

		{entryCase: entryCase{name: "no name", line: "-rw-r--r-- 1 u g 5 Nov 26 11:57", err: errParse}},
		{entryCase: entryCase{name: "no name, trailing space", line: "-rw-r--r-- 1 u g 5 Nov 26 11:57 ", err: errParse}},
		{entryCase: entryCase{name: "unknown month", line: "-rw-r--r-- 1 u g 5 Foo 26 11:57 x", err: errParse}},
		{entryCase: entryCase{name: "hour 25", line: "-rw-r--r-- 1 u g 5 Nov 26 25:00 x", err: errParse}},
		{entryCase: entryCase{name: "day 31 of November", line: "-rw-r--r-- 1 u g 5 Nov 31 10:00 x", err: errParse}},
		{entryCase: entryCase{name: "day 0", line: "-rw-r--r-- 1 u g 5 Nov 0 2020 x", err: errParse}},
		{entryCase: entryCase{name: "size over int64", line: "-rw-r--r-- 1 u g 9223372036854775808 Nov 26 11:57 x", err: errParse}},
		{entryCase: entryCase{name: "no size before the date", line: "-rw-r--r-- 1 u g Nov 26 11:57 x", err: errParse}},
		{entryCase: entryCase{name: "bad permission letter", line: "-rwqr--r-- 1 u g 5 Nov 26 11:57 x", err: errParse}},
		{entryCase: entryCase{name: "unknown type letter", line: "zrw-r--r-- 1 u g 5 Nov 26 11:57 x", err: errParse}},
		{entryCase: entryCase{name: "free text", line: "Permission denied", err: errParse}},
		{entryCase: entryCase{name: "EPLF is not understood", line: "+i8388621.29609,m824255902,/,\tdev", err: errParse}},
		{entryCase: entryCase{name: "line longer than MaxLineLen",
			line: "-rw-r--r-- 1 u g 5 Nov 26 11:57 " + strings.Repeat("x", MaxLineLen), err: errParse}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListLine(tc.line, now, time.UTC)
			checkEntry(t, tc.entryCase, got, err)
		})
	}
}

// TestParseListLineYear pins the rule for "Mon D HH:MM" lines: now's year
// in loc, unless that is more than 48 hours after now.
func TestParseListLineYear(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	kolkata := mustLoc(t, "Asia/Kolkata")
	file := func(line string) string { return "-rw-r--r-- 1 u g 1 " + line + " f" }
	want := func(tm time.Time, p time.Duration) Entry {
		return Entry{Name: "f", Type: TypeFile, Size: 1, ModTime: tm, Precision: p, Mode: 0o644}
	}
	cases := []listCase{
		{now: utc(2025, 1, 5, 12, 0, 0), loc: time.UTC, entryCase: entryCase{name: "date in the past this year",
			line: file("Jan 04 10:00"), want: want(utc(2025, 1, 4, 10, 0, 0), time.Minute)}},
		{now: utc(2025, 1, 5, 12, 0, 0), loc: time.UTC, entryCase: entryCase{name: "December seen in January is last year",
			line: file("Dec 31 23:59"), want: want(utc(2024, 12, 31, 23, 59, 0), time.Minute)}},
		{now: utc(2025, 1, 5, 12, 0, 0), loc: time.UTC, entryCase: entryCase{name: "up to 48 hours ahead (clock skew) stays this year",
			line: file("Jan 07 11:00"), want: want(utc(2025, 1, 7, 11, 0, 0), time.Minute)}},
		{now: utc(2025, 1, 5, 12, 0, 0), loc: time.UTC, entryCase: entryCase{name: "more than 48 hours ahead is last year",
			line: file("Jan 07 13:00"), want: want(utc(2024, 1, 7, 13, 0, 0), time.Minute)}},
		{now: utc(2025, 1, 10, 0, 0, 0), loc: time.UTC, entryCase: entryCase{name: "Feb 29 in a non-leap year falls back to the leap year before",
			line: file("Feb 29 10:00"), want: want(utc(2024, 2, 29, 10, 0, 0), time.Minute)}},
		{now: utc(2027, 6, 1, 0, 0, 0), loc: time.UTC, entryCase: entryCase{name: "Feb 29 with no leap year in reach",
			line: file("Feb 29 10:00"), err: errParse}},
		{now: utc(2026, 11, 26, 12, 0, 0), loc: ny, entryCase: entryCase{name: "New York time returned as UTC",
			line: file("Nov 24 06:31"), want: want(utc(2026, 11, 24, 11, 31, 0), time.Minute)}},
		{now: utc(2026, 7, 26, 12, 0, 0), loc: ny, entryCase: entryCase{name: "New York summer time returned as UTC",
			line: file("Jul 24 06:31"), want: want(utc(2026, 7, 24, 10, 31, 0), time.Minute)}},
		{now: utc(2026, 11, 26, 12, 0, 0), loc: kolkata, entryCase: entryCase{name: "Kolkata half-hour offset",
			line: file("Nov 24 06:31"), want: want(utc(2026, 11, 24, 1, 1, 0), time.Minute)}},
		{now: utc(2026, 11, 26, 12, 0, 0), loc: kolkata, entryCase: entryCase{name: "year form is midnight in loc",
			line: file("Nov 24  2019"), want: want(utc(2019, 11, 23, 18, 30, 0), 24*time.Hour)}},
		{now: utc(2025, 1, 1, 2, 0, 0), loc: ny, entryCase: entryCase{name: "the year is now's year in loc, not in UTC",
			line: file("Dec 31 20:00"), want: want(utc(2025, 1, 1, 1, 0, 0), time.Minute)}},
		{now: utc(2025, 1, 1, 2, 0, 0), loc: nil, entryCase: entryCase{name: "nil location means UTC",
			line: file("Jan 01 01:00"), want: want(utc(2025, 1, 1, 1, 0, 0), time.Minute)}},
		{now: utc(2026, 11, 26, 11, 57, 30), loc: time.UTC, entryCase: entryCase{name: "pure-ftpd shows far-future files with a time: read as last year",
			line: file("Jan  2 03:04"), want: want(utc(2026, 1, 2, 3, 4, 0), time.Minute)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListLine(tc.line, tc.now, tc.loc)
			checkEntry(t, tc.entryCase, got, err)
		})
	}
}

func TestParseListLineDOS(t *testing.T) {
	now := utc(2026, 11, 26, 11, 57, 30)
	ny := mustLoc(t, "America/New_York")
	kolkata := mustLoc(t, "Asia/Kolkata")
	dir := func(name string, tm time.Time) Entry {
		return Entry{Name: name, Type: TypeDir, ModTime: tm, Precision: time.Minute}
	}
	file := func(name string, size int64, tm time.Time) Entry {
		return Entry{Name: name, Type: TypeFile, Size: size, ModTime: tm, Precision: time.Minute}
	}
	cases := []listCase{
		{loc: time.UTC, entryCase: entryCase{name: "IIS dir with 2-digit year",
			line: "11-24-24  06:31AM       <DIR>          aspnet_client", want: dir("aspnet_client", utc(2024, 11, 24, 6, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "IIS file with 4-digit year and PM",
			line: "11-24-2024  06:31PM              4096 name", want: file("name", 4096, utc(2024, 11, 24, 18, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "24-hour clock",
			line: "11-24-2024  18:31                4096 name", want: file("name", 4096, utc(2024, 11, 24, 18, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "12AM is midnight",
			line: "01-02-25  12:05AM                 1 a", want: file("a", 1, utc(2025, 1, 2, 0, 5, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "12PM is noon",
			line: "01-02-25  12:05PM                 1 a", want: file("a", 1, utc(2025, 1, 2, 12, 5, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "AM/PM as its own field, lower case",
			line: "01-02-2025  06:31 pm              1 a", want: file("a", 1, utc(2025, 1, 2, 18, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "2-digit year 70-99 is 19xx",
			line: "12-31-99  11:59PM       <DIR>          y2k", want: dir("y2k", utc(1999, 12, 31, 23, 59, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "2-digit year 00-69 is 20xx",
			line: "01-01-69  01:00AM                 0 z", want: file("z", 0, utc(2069, 1, 1, 1, 0, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "slash-separated date",
			line: "11/24/2024  06:31PM         5000000000 big.iso", want: file("big.iso", 5000000000, utc(2024, 11, 24, 18, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "file name with spaces and leading space kept",
			line: "11-24-24  06:31AM                 7  my file .txt", want: file(" my file .txt", 7, utc(2024, 11, 24, 6, 31, 0))}},
		{loc: time.UTC, entryCase: entryCase{name: "dir name with spaces, padding dropped",
			line: "11-24-24  06:31AM       <DIR>          Program Files", want: dir("Program Files", utc(2024, 11, 24, 6, 31, 0))}},
		{loc: ny, entryCase: entryCase{name: "New York local time to UTC",
			line: "11-24-24  06:31AM       <DIR>          d", want: dir("d", utc(2024, 11, 24, 11, 31, 0))}},
		{loc: kolkata, entryCase: entryCase{name: "Kolkata local time to UTC",
			line: "11-24-24  06:31AM       <DIR>          d", want: dir("d", utc(2024, 11, 24, 1, 1, 0))}},

		{loc: time.UTC, entryCase: entryCase{name: "dot dir skipped", line: "11-24-24  06:31AM       <DIR>          .", err: errSkip}},
		{loc: time.UTC, entryCase: entryCase{name: "file named dotdot is a bad name", line: "11-24-24  06:31AM   1 ..", err: errBadName}},
		{loc: time.UTC, entryCase: entryCase{name: "backslash is a bad name", line: "11-24-24  06:31AM   1 a\\b", err: errBadName}},
		{loc: time.UTC, entryCase: entryCase{name: "13PM", line: "11-24-24  13:31PM   1 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "0AM", line: "11-24-24  00:31AM   1 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "24-hour 24:00", line: "11-24-24  24:00   1 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "Feb 30", line: "02-30-24  10:00AM   1 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "month 13", line: "13-01-24  10:00AM   1 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "junction is not understood", line: "11-24-24  06:31AM  <JUNCTION>  a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "no name", line: "11-24-24  06:31AM   1", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "size over int64", line: "11-24-24  06:31AM   9223372036854775808 a", err: errParse}},
		{loc: time.UTC, entryCase: entryCase{name: "3-digit year", line: "11-24-202  06:31AM   1 a", err: errParse}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseListLine(tc.line, now, tc.loc)
			checkEntry(t, tc.entryCase, got, err)
		})
	}
}

func TestParseErrorKeepsLineAndReason(t *testing.T) {
	long := "-x " + strings.Repeat("y", MaxLineLen)
	for _, line := range []string{"Permission denied", long} {
		_, err := ParseListLine(line, time.Time{}, time.UTC)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("ParseListLine(%.20q): %v, want *ParseError", line, err)
		}
		if !strings.HasPrefix(line, pe.Line) || pe.Line == "" || len(pe.Line) > 512 || pe.Reason == "" {
			t.Errorf("ParseError{Line: %.40q (len %d), Reason: %q}: want a non-empty prefix of the line, at most 512 bytes, and a reason", pe.Line, len(pe.Line), pe.Reason)
		}
	}
}

func TestParseMDTMTime(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{"seconds", "20241124063100", utc(2024, 11, 24, 6, 31, 0), true},
		{"milliseconds (RFC 3659 2.3)", "20241124063100.123", time.Date(2024, 11, 24, 6, 31, 0, 123e6, time.UTC), true},
		{"one fraction digit", "20241124063100.5", time.Date(2024, 11, 24, 6, 31, 0, 5e8, time.UTC), true},
		{"nanoseconds", "20241124063100.000000001", time.Date(2024, 11, 24, 6, 31, 0, 1, time.UTC), true},
		{"whole 213 reply", "213 20261126115741", utc(2026, 11, 26, 11, 57, 41), true},
		{"CRLF and spaces", " 20261126115741 \r\n", utc(2026, 11, 26, 11, 57, 41), true},
		{"leap day", "20240229000000", utc(2024, 2, 29, 0, 0, 0), true},
		{"empty", "", time.Time{}, false},
		{"too short", "2024112406310", time.Time{}, false},
		{"too long (Y2K bug 19100)", "191001124063100", time.Time{}, false},
		{"letters", "2024112406310x", time.Time{}, false},
		{"empty fraction", "20241124063100.", time.Time{}, false},
		{"10 fraction digits", "20241124063100.1234567890", time.Time{}, false},
		{"month 13", "20241324063100", time.Time{}, false},
		{"Feb 30", "20240230063100", time.Time{}, false},
		{"Feb 29 non-leap", "20250229063100", time.Time{}, false},
		{"hour 24", "20241124240000", time.Time{}, false},
		{"second 60", "20241124235960", time.Time{}, false},
		{"other reply code", "550 20241124063100", time.Time{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseMDTMTime(tc.in)
			if tc.ok {
				if err != nil || !got.Equal(tc.want) || got.Location() != time.UTC {
					t.Fatalf("ParseMDTMTime(%q) = %v, %v; want %v in UTC", tc.in, got, err, tc.want)
				}
				return
			}
			if kindOf(t, err) != errParse || !got.IsZero() {
				t.Fatalf("ParseMDTMTime(%q) = %v, %v; want zero time and *ParseError", tc.in, got, err)
			}
		})
	}
}

func TestFormatMDTMTime(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	cases := []struct {
		name string
		in   time.Time
		want string
	}{
		{"UTC", utc(2024, 11, 24, 6, 31, 0), "20241124063100"},
		{"converted to UTC", time.Date(2024, 11, 24, 1, 31, 0, 0, ny), "20241124063100"},
		{"fraction dropped", time.Date(2024, 11, 24, 6, 31, 0, 999e6, time.UTC), "20241124063100"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := FormatMDTMTime(tc.in)
			if got != tc.want {
				t.Fatalf("FormatMDTMTime(%v) = %q, want %q", tc.in, got, tc.want)
			}
			back, err := ParseMDTMTime(got)
			if err != nil || !back.Equal(tc.in.Truncate(time.Second)) {
				t.Fatalf("ParseMDTMTime(%q) = %v, %v; want %v", got, back, err, tc.in.Truncate(time.Second))
			}
		})
	}
}

func TestParseEPSV(t *testing.T) {
	cases := []struct {
		name  string
		reply string
		want  int // 0: *ParseError
	}{
		{"vsftpd and proftpd", "229 Entering Extended Passive Mode (|||31676|)", 31676},
		{"pure-ftpd", "229 Extended Passive mode OK (|||12345|)", 12345},
		{"text only", "Entering Extended Passive Mode (|||6446|)", 6446},
		{"other delimiter (RFC 2428 section 3)", "229 Entering Extended Passive Mode (!!!6446!)", 6446},
		{"tilde delimiter", "229 ok (~~~1~)", 1},
		{"port 65535", "229 (|||65535|)", 65535},
		{"earlier parenthesis ignored", "229 Entering (EPSV) mode (|||6446|).", 6446},
		{"CRLF", "229 Entering Extended Passive Mode (|||6446|)\r\n", 6446},
		{"port 0", "229 (|||0|)", 0},
		{"port 65536", "229 (|||65536|)", 0},
		{"no closing parenthesis", "229 (|||6446|", 0},
		{"address field not empty", "229 (|1|127.0.0.1|6446|)", 0},
		{"digit delimiter", "229 (11164461)", 0},
		{"space delimiter", "229 (   6446 )", 0},
		{"mixed delimiters", "229 (|!|6446|)", 0},
		{"no port", "229 (||||)", 0},
		{"no parenthesis", "229 Entering Extended Passive Mode |||6446|", 0},
		{"PASV reply", "227 Entering Passive Mode (127,0,0,1,123,249).", 0},
		{"empty", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseEPSV(tc.reply)
			if tc.want != 0 {
				if err != nil || got != tc.want {
					t.Fatalf("ParseEPSV(%q) = %d, %v; want %d", tc.reply, got, err, tc.want)
				}
				return
			}
			if kindOf(t, err) != errParse || got != 0 {
				t.Fatalf("ParseEPSV(%q) = %d, %v; want 0 and *ParseError", tc.reply, got, err)
			}
		})
	}
}

func TestParsePASV(t *testing.T) {
	cases := []struct {
		name  string
		reply string
		ip    string // "": *ParseError
		port  int
	}{
		{"vsftpd", "227 Entering Passive Mode (127,0,0,1,123,249).", "127.0.0.1", 123*256 + 249},
		{"pure-ftpd", "227 Entering Passive Mode (127,0,0,1,48,206)", "127.0.0.1", 48*256 + 206},
		{"proftpd", "227 Entering Passive Mode (127,0,0,1,88,32).", "127.0.0.1", 88*256 + 32},
		{"no parentheses", "227 Entering Passive Mode 10,1,2,3,4,5", "10.1.2.3", 4*256 + 5},
		{"equals sign form", "227 =192,168,0,10,255,255", "192.168.0.10", 65535},
		{"spaces around commas", "227 Entering Passive Mode (10, 0, 0, 1, 1, 0)", "10.0.0.1", 256},
		{"text only", "Entering Passive Mode (1,2,3,4,0,1)", "1.2.3.4", 1},
		{"numbers in text before", "227 Mode 2 (1,2,3,4,0,1)", "1.2.3.4", 1},
		{"shorter run before", "227 v1,2 (1,2,3,4,0,1)", "1.2.3.4", 1},
		{"number above 255", "227 (127,0,0,256,1,1)", "", 0},
		{"port 0", "227 (127,0,0,1,0,0)", "", 0},
		{"five numbers", "227 (127,0,0,1,5)", "", 0},
		{"seven numbers", "227 (127,0,0,1,5,6,7)", "", 0},
		{"long number", "227 (0127,0,0,1,5,6)", "", 0},
		{"trailing comma", "227 (127,0,0,1,5,)", "", 0},
		{"negative", "227 (127,0,0,1,-5,6)", "", 0},
		{"EPSV reply", "229 Entering Extended Passive Mode (|||31676|)", "", 0},
		{"empty", "", "", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ip, port, err := ParsePASV(tc.reply)
			if tc.ip != "" {
				if err != nil || !ip.Equal(net.ParseIP(tc.ip)) || len(ip) != 4 || port != tc.port {
					t.Fatalf("ParsePASV(%q) = %v, %d, %v; want %s, %d", tc.reply, ip, port, err, tc.ip, tc.port)
				}
				return
			}
			if kindOf(t, err) != errParse || ip != nil || port != 0 {
				t.Fatalf("ParsePASV(%q) = %v, %d, %v; want nil, 0, *ParseError", tc.reply, ip, port, err)
			}
		})
	}
}

func TestParseFeat(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		want  map[string]string
	}{
		{name: "vsftpd 3.0.3",
			lines: []string{" UTF8", " EPRT", " EPSV", " MDTM", " PASV", " REST STREAM", " SIZE", " TVFS"},
			want:  map[string]string{"UTF8": "", "EPRT": "", "EPSV": "", "MDTM": "", "PASV": "", "REST": "STREAM", "SIZE": "", "TVFS": ""}},
		{name: "pure-ftpd 1.0.50 with reply lines around the body",
			lines: []string{"211-Extensions supported:", " UTF8", " EPRT", " IDLE", " MDTM", " SIZE", " MFMT", " REST STREAM",
				" MLST type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;", " MLSD", " PRET", " AUTH TLS",
				" PBSZ", " PROT", " TVFS", " ESTA", " PASV", " EPSV", " ESTP", "211 End."},
			want: map[string]string{"UTF8": "", "EPRT": "", "IDLE": "", "MDTM": "", "SIZE": "", "MFMT": "", "REST": "STREAM",
				"MLST": "type*;size*;sizd*;modify*;UNIX.mode*;UNIX.uid*;UNIX.gid*;unique*;", "MLSD": "", "PRET": "",
				"AUTH": "TLS", "PBSZ": "", "PROT": "", "TVFS": "", "ESTA": "", "PASV": "", "EPSV": "", "ESTP": ""}},
		{name: "proftpd 1.3.8 multi-word values",
			lines: []string{" CLNT", " LANG C.UTF-8*", " MFF modify;UNIX.group;UNIX.mode;", " MFMT",
				" MLST modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;",
				" RANG STREAM", " SITE MKDIR", " SITE RMDIR", " SITE SYMLINK", " SITE UTIME"},
			want: map[string]string{"CLNT": "", "LANG": "C.UTF-8*", "MFF": "modify;UNIX.group;UNIX.mode;", "MFMT": "",
				"MLST": "modify*;perm*;size*;type*;unique*;UNIX.group*;UNIX.groupname*;UNIX.mode*;UNIX.owner*;UNIX.ownername*;",
				"RANG": "STREAM", "SITE": "MKDIR\nRMDIR\nSYMLINK\nUTIME"}},
		{name: "key upper-cased, value kept, CRLF and extra spaces trimmed",
			lines: []string{" mlst Type*;Size*;\r\n", "  auth   TLS  "},
			want:  map[string]string{"MLST": "Type*;Size*;", "AUTH": "TLS"}},
		{name: "repeated feature joined in order",
			lines: []string{" AUTH TLS", " AUTH SSL"},
			want:  map[string]string{"AUTH": "TLS\nSSL"}},
		{name: "missing leading space accepted",
			lines: []string{"MDTM", "SIZE"},
			want:  map[string]string{"MDTM": "", "SIZE": ""}},
		{name: "non-features ignored",
			lines: []string{"", "   ", "211-Features:", "211 End", " BAD\x00LINE", " " + strings.Repeat("X", MaxLineLen+1), " EPSV"},
			want:  map[string]string{"EPSV": ""}},
		{name: "nothing", lines: nil, want: map[string]string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ParseFeat(tc.lines)
			if len(got) != len(tc.want) {
				t.Errorf("ParseFeat: %d features %q, want %d %q", len(got), got, len(tc.want), tc.want)
			}
			for k, v := range tc.want {
				if g, ok := got[k]; !ok || g != v {
					t.Errorf("ParseFeat()[%q] = %q (present %v), want %q", k, g, ok, v)
				}
			}
		})
	}
}

// TestListingGolden parses listings captured from the Debian 12 servers
// (testdata/listings/README.md) and compares the result line by line with
// the .golden file next to each; -update rewrites the goldens.
func TestListingGolden(t *testing.T) {
	captured := utc(2026, 11, 26, 11, 57, 30) // when the listings were taken; the servers ran in UTC
	files, err := filepath.Glob("testdata/listings/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captured listings: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
				var e Entry
				var err error
				if strings.HasSuffix(file, ".mlsd.txt") {
					e, err = ParseMLSxLine(line + "\r\n")
				} else {
					e, err = ParseListLine(line+"\r\n", captured, time.UTC)
				}
				switch kindOf(t, err) {
				case errNone:
					fmt.Fprintln(&out, fmtEntry(e))
				case errSkip:
					fmt.Fprintln(&out, "skip")
				default:
					fmt.Fprintf(&out, "error %v\n", err)
				}
			}
			golden := strings.TrimSuffix(file, ".txt") + ".golden"
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			gotLines, wantLines := strings.Split(out.String(), "\n"), strings.Split(string(want), "\n")
			for i := 0; i < len(gotLines) || i < len(wantLines); i++ {
				var g, w string
				if i < len(gotLines) {
					g = gotLines[i]
				}
				if i < len(wantLines) {
					w = wantLines[i]
				}
				if g != w {
					t.Errorf("%s line %d:\n got %s\nwant %s", golden, i+1, g, w)
				}
			}
		})
	}
}
