package ftp

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// This file holds the pure parsers for what an FTP server sends as text:
// listing lines (MLSD/MLST per RFC 3659 and LIST in Unix "ls -l" and
// Windows/IIS form), MDTM times, EPSV and PASV replies, and FEAT bodies.
// None of them does I/O or reads the clock: LIST lines without a year take
// "now" and the server's location as arguments.

// MaxLineLen is the longest listing line or reply text the parsers accept,
// in bytes. Longer input is a *ParseError, never truncated silently.
const MaxLineLen = 8 << 10

// maxErrLine is how much of an offending line a *ParseError keeps.
const maxErrLine = 512

// ErrSkip is returned by the listing parsers for lines that are understood
// but name no entry: MLSD "cdir"/"pdir" facts, LIST "total N" lines, the
// "." and ".." directories that "LIST -a" prints, and blank lines. Callers
// drop the line and go on; it does not make a listing incomplete.
var ErrSkip = errors.New("ftp: listing line names no entry")

// ParseError reports text from the server that a parser did not understand.
// Line is the offending line or reply text (cut to its first 512 bytes when
// longer) and Reason says what was wrong with it. A listing with such a line
// must be treated as incomplete.
type ParseError struct {
	Line   string
	Reason string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("ftp: cannot parse %q: %s", e.Line, e.Reason)
}

func parseErr(line, reason string) *ParseError {
	if len(line) > maxErrLine {
		line = line[:maxErrLine]
	}
	return &ParseError{Line: line, Reason: reason}
}

// trimEOL removes one trailing line ending (CRLF, LF or CR).
func trimEOL(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// checkLen rejects lines longer than MaxLineLen.
func checkLen(line string) error {
	if len(line) > MaxLineLen {
		return parseErr(line, fmt.Sprintf("line longer than %d bytes", MaxLineLen))
	}
	return nil
}

// ---- MLSD / MLST (RFC 3659 section 7) ----

// ParseMLSxLine parses one line of an MLSD listing (RFC 3659 section 7.2),
// given without its line ending (one trailing CRLF or LF is tolerated):
//
//	fact=value;fact=value; name
//
// The facts run up to the first space; exactly that one space separates them
// from the name, which is kept byte for byte and may contain spaces, ";" and
// "=" (and begin with spaces). Fact names and the "type" value are matched
// case-insensitively (section 7.5). Facts used:
//
//   - type: "file" → TypeFile, "dir" → TypeDir, "OS.unix=symlink",
//     "OS.unix=slink" and "OS.unix=slink:TARGET" → TypeLink (Target set when
//     given); "cdir" and "pdir" → ErrSkip; anything else ("unknown",
//     "OS.unix=chr-1/3", ...) → TypeOther.
//   - size: Size; for directories without "size" the "sizd" fact is used.
//   - modify: ModTime (UTC, section 2.3) with Precision time.Second; a
//     fraction of a second is kept in ModTime, Precision stays time.Second.
//   - unix.mode: Mode, in octal (e.g. 0644, 01777).
//   - unix.slink: Target (and TypeLink when there is no type fact).
//
// Other facts (perm, unique, unix.owner, ...) are ignored. A line without a
// type fact yields TypeOther: the entry exists but its kind is unknown, so a
// sync must neither descend into it nor transfer it. A fact that is present
// but malformed (size not a non-negative integer, modify not a time, mode
// not octal), a missing space or an over-long line is a *ParseError. A name
// that checkName rejects is a *BadNameError, except "." and ".." with a
// directory type, which are ErrSkip.
func ParseMLSxLine(line string) (Entry, error) {
	line = trimEOL(line)
	if err := checkLen(line); err != nil {
		return Entry{}, err
	}
	if strings.TrimSpace(line) == "" {
		return Entry{}, ErrSkip
	}
	sp := strings.IndexByte(line, ' ')
	if sp < 0 {
		return Entry{}, parseErr(line, "no space between facts and name")
	}
	e, kind, err := parseFacts(line, line[:sp])
	if err != nil {
		return Entry{}, err
	}
	e.Name = line[sp+1:]
	isDir := kind == "dir" || kind == "cdir" || kind == "pdir"
	if isDir && (e.Name == "." || e.Name == "..") {
		return Entry{}, ErrSkip
	}
	if kind == "cdir" || kind == "pdir" {
		return Entry{}, ErrSkip
	}
	if err := checkName(e.Name, line); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// ParseMLSTLine parses the entry line of an MLST reply (RFC 3659 section
// 7.2): the line between "250-" and "250 End", which starts with one space
// that is not part of the entry. Facts are read as by ParseMLSxLine, but
// "cdir" and "pdir" are reported as TypeDir (MLST of a directory describes
// that directory), and Name is the pathname exactly as the server sent it:
// it may be absolute or contain "/" (proftpd answers "MLST a" with "/a"),
// so callers must not use it as a local name. An empty or NUL-containing
// pathname is a *BadNameError.
func ParseMLSTLine(line string) (Entry, error) {
	line = trimEOL(line)
	if err := checkLen(line); err != nil {
		return Entry{}, err
	}
	if !strings.HasPrefix(line, " ") {
		return Entry{}, parseErr(line, "MLST entry line does not start with a space")
	}
	body := line[1:]
	sp := strings.IndexByte(body, ' ')
	if sp < 0 {
		return Entry{}, parseErr(line, "no space between facts and pathname")
	}
	e, kind, err := parseFacts(line, body[:sp])
	if err != nil {
		return Entry{}, err
	}
	if kind == "cdir" || kind == "pdir" {
		e.Type = TypeDir
	}
	e.Name = body[sp+1:]
	if e.Name == "" || strings.IndexByte(e.Name, 0) >= 0 {
		return Entry{}, &BadNameError{Name: e.Name, Line: line}
	}
	return e, nil
}

// parseFacts reads a facts string ("a=b;c=d;") into an Entry without a name.
// kind is the lower-cased type value with any "os.unix=slink:" target
// removed ("file", "dir", "cdir", "pdir", "symlink", or other).
func parseFacts(line, facts string) (e Entry, kind string, err error) {
	var size, sizd string
	var haveSize, haveSizd bool
	for facts != "" {
		fact := facts
		rest := ""
		if i := strings.IndexByte(facts, ';'); i >= 0 {
			fact, rest = facts[:i], facts[i+1:]
		}
		facts = rest
		if fact == "" {
			return Entry{}, "", parseErr(line, "empty fact")
		}
		eq := strings.IndexByte(fact, '=')
		if eq <= 0 {
			return Entry{}, "", parseErr(line, fmt.Sprintf("fact %q is not name=value", fact))
		}
		name, value := strings.ToLower(fact[:eq]), fact[eq+1:]
		switch name {
		case "type":
			kind, e.Type, e.Target = mlsxType(value)
		case "size":
			size, haveSize = value, true
		case "sizd":
			sizd, haveSizd = value, true
		case "modify":
			t, err := ParseMDTMTime(value)
			if err != nil {
				return Entry{}, "", parseErr(line, fmt.Sprintf("bad modify fact %q", value))
			}
			e.ModTime, e.Precision = t, time.Second
		case "unix.mode":
			m, err := strconv.ParseUint(value, 8, 32)
			if err != nil || m > 0o7777 {
				return Entry{}, "", parseErr(line, fmt.Sprintf("bad unix.mode fact %q", value))
			}
			e.Mode = uint32(m)
		case "unix.slink":
			e.Target = value
			if kind == "" {
				kind = "symlink"
			}
		}
	}
	if e.Type == 0 {
		e.Type = TypeOther
		if kind == "symlink" {
			e.Type = TypeLink
		}
	}
	switch {
	case haveSize:
		if e.Size, err = parseSize(size); err != nil {
			return Entry{}, "", parseErr(line, fmt.Sprintf("bad size fact %q", size))
		}
	case haveSizd && e.Type == TypeDir:
		if e.Size, err = parseSize(sizd); err != nil {
			return Entry{}, "", parseErr(line, fmt.Sprintf("bad sizd fact %q", sizd))
		}
	}
	return e, kind, nil
}

// mlsxType maps a "type" fact value to an EntryType.
func mlsxType(value string) (kind string, t EntryType, target string) {
	lower := strings.ToLower(value)
	switch lower {
	case "file":
		return lower, TypeFile, ""
	case "dir", "cdir", "pdir":
		return lower, TypeDir, ""
	case "os.unix=symlink", "os.unix=slink":
		return "symlink", TypeLink, ""
	}
	if strings.HasPrefix(lower, "os.unix=slink:") {
		return "symlink", TypeLink, value[len("os.unix=slink:"):]
	}
	return lower, TypeOther, ""
}

// parseSize reads a non-negative decimal int64.
func parseSize(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errors.New("not a size")
	}
	return strconv.ParseInt(s, 10, 64)
}

// ---- MDTM ----

// ParseMDTMTime parses a time as MDTM replies and MLSx "modify" facts give
// it (RFC 3659 sections 2.3 and 3): YYYYMMDDHHMMSS with an optional fraction
// of a second ".s" of 1 to 9 digits, always UTC. A leading "213 " reply code
// and surrounding spaces are tolerated. Out-of-range fields (month 13, Feb
// 30, hour 24, second 60) are a *ParseError. The result is in UTC.
func ParseMDTMTime(s string) (time.Time, error) {
	orig := s
	s = strings.TrimSpace(trimEOL(s))
	s = strings.TrimPrefix(s, "213 ")
	frac := ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s, frac = s[:i], s[i+1:]
		if frac == "" || len(frac) > 9 || !allDigits(frac) {
			return time.Time{}, parseErr(orig, "bad fraction of a second")
		}
	}
	if len(s) != 14 || !allDigits(s) {
		return time.Time{}, parseErr(orig, "time is not YYYYMMDDHHMMSS")
	}
	n := func(i, j int) int { v, _ := strconv.Atoi(s[i:j]); return v }
	nsec := 0
	if frac != "" {
		nsec, _ = strconv.Atoi(frac + strings.Repeat("0", 9-len(frac)))
	}
	t, ok := exactDate(n(0, 4), time.Month(n(4, 6)), n(6, 8), n(8, 10), n(10, 12), n(12, 14), nsec, time.UTC)
	if !ok {
		return time.Time{}, parseErr(orig, "time field out of range")
	}
	return t, nil
}

// FormatMDTMTime formats t in UTC as YYYYMMDDHHMMSS, the form MFMT and the
// "MDTM time path" extension take (fractions of a second are dropped).
func FormatMDTMTime(t time.Time) string {
	return t.UTC().Format("20060102150405")
}

// exactDate is time.Date that refuses to normalise out-of-range fields.
func exactDate(y int, mo time.Month, d, h, mi, s, ns int, loc *time.Location) (time.Time, bool) {
	if mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59 || h < 0 || mi < 0 || s < 0 {
		return time.Time{}, false
	}
	t := time.Date(y, mo, d, h, mi, s, ns, loc)
	if t.Day() != d || t.Month() != mo {
		return time.Time{}, false
	}
	return t, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ---- EPSV / PASV ----

// ParseEPSV returns the port of an EPSV reply text such as
// "229 Entering Extended Passive Mode (|||6446|)" (RFC 2428 section 3). The
// delimiter is the character after "(" and may be any of ASCII 33-126
// except a digit; the network-protocol and address fields must be empty.
// Every "(" in the text is tried, so other parentheses do not matter. A port outside 1-65535
// or any other shape is a *ParseError.
func ParseEPSV(reply string) (port int, err error) {
	reply = trimEOL(reply)
	if err := checkLen(reply); err != nil {
		return 0, err
	}
	for rest := reply; ; {
		i := strings.IndexByte(rest, '(')
		if i < 0 {
			return 0, parseErr(reply, "no (<d><d><d>port<d>) in EPSV reply")
		}
		rest = rest[i+1:]
		if p, ok := epsvPort(rest); ok {
			return p, nil
		}
	}
}

// epsvPort reads "<d><d><d>port<d>)" at the start of s.
func epsvPort(s string) (int, bool) {
	if len(s) < 6 {
		return 0, false
	}
	d := s[0]
	if d < 33 || d > 126 || d >= '0' && d <= '9' || s[1] != d || s[2] != d {
		return 0, false
	}
	s = s[3:]
	end := strings.IndexByte(s, d)
	if end < 1 || end > 5 || !allDigits(s[:end]) || !strings.HasPrefix(s[end+1:], ")") {
		return 0, false
	}
	p, _ := strconv.Atoi(s[:end])
	return p, p >= 1 && p <= 65535
}

// ParsePASV returns the address and port of a PASV reply text such as
// "227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)" (RFC 959 section 4.1.2).
// The six numbers are found wherever they are in the text, with or without
// parentheses, spaces allowed around the commas; each must be 0-255 and the
// port (p1*256+p2) non-zero. The first run of exactly six comma-separated
// numbers is used; none is a *ParseError. ip is a 4-byte net.IP.
func ParsePASV(reply string) (ip net.IP, port int, err error) {
	reply = trimEOL(reply)
	if err := checkLen(reply); err != nil {
		return nil, 0, err
	}
	s := reply
	if len(s) >= 4 && allDigits(s[:3]) && (s[3] == ' ' || s[3] == '-') {
		s = s[4:] // the reply code is not part of the numbers
	}
	for i := 0; i < len(s); {
		if !isDigit(s[i]) || i > 0 && (isDigit(s[i-1]) || s[i-1] == ',') {
			i++
			continue
		}
		nums, next, ok := commaNumbers(s, i)
		if ok && len(nums) == 6 {
			for _, n := range nums {
				if n > 255 {
					return nil, 0, parseErr(reply, "PASV number above 255")
				}
			}
			port = nums[4]<<8 | nums[5]
			if port == 0 {
				return nil, 0, parseErr(reply, "PASV port 0")
			}
			return net.IPv4(byte(nums[0]), byte(nums[1]), byte(nums[2]), byte(nums[3])).To4(), port, nil
		}
		i = next
	}
	return nil, 0, parseErr(reply, "no h1,h2,h3,h4,p1,p2 in PASV reply")
}

// commaNumbers reads a run of comma-separated decimal numbers starting at
// s[i] and returns them with the index after the run. ok is false when a
// number is absurdly long or the run ends in a comma.
func commaNumbers(s string, i int) (nums []int, next int, ok bool) {
	for {
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i > 3 || len(nums) == 7 {
			return nil, j, false
		}
		n, _ := strconv.Atoi(s[i:j])
		nums = append(nums, n)
		k := j
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || s[k] != ',' {
			return nums, j, !(j < len(s) && isDigit(s[j]))
		}
		k++
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if k >= len(s) || !isDigit(s[k]) {
			return nil, k, false
		}
		i = k
	}
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// ---- FEAT ----

// ParseFeat reads the body of a FEAT reply (RFC 2389 section 3.2): the lines
// between "211-" and "211 End", each normally starting with one space. Each
// feature maps its upper-cased first word to the rest of the line with
// surrounding spaces removed, e.g. " MLST type*;size*;" → "MLST":
// "type*;size*;", " REST STREAM" → "REST": "STREAM", " UTF8" → "UTF8": "".
// A feature listed on several lines (" AUTH TLS", " AUTH SSL") keeps its
// values joined by "\n" in order. Lines that are not features are ignored:
// blank lines, reply lines such as "211-Features:" or "211 End", lines
// longer than MaxLineLen and lines with control characters. Lines without
// the leading space are accepted, as some servers omit it.
func ParseFeat(lines []string) map[string]string {
	feats := make(map[string]string)
	for _, line := range lines {
		line = trimEOL(line)
		if len(line) > MaxLineLen || hasControl(line) {
			continue
		}
		if !strings.HasPrefix(line, " ") && len(line) >= 4 && allDigits(line[:3]) &&
			(line[3] == ' ' || line[3] == '-') {
			continue // "211-Features:", "211 End"
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		key, value := line, ""
		if i := strings.IndexAny(line, " \t"); i >= 0 {
			key, value = line[:i], strings.TrimSpace(line[i+1:])
		}
		key = strings.ToUpper(key)
		if old, ok := feats[key]; ok {
			value = old + "\n" + value
		}
		feats[key] = value
	}
	return feats
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' && s[i] != '\t' || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// ---- LIST ----

// listFutureSlack is how far in the future a LIST date without a year may
// lie and still be given now's year; see ParseListLine.
const listFutureSlack = 48 * time.Hour

// maxListFields bounds how many fields of a LIST line are examined for the
// size and date; the name follows them.
const maxListFields = 32

// ParseListLine parses one line of a LIST reply, given without its line
// ending (one trailing CRLF or LF is tolerated). LIST has no standard format
// (RFC 959 section 4.1.3); two are understood, told apart by the first field:
//
// Unix "ls -l", as vsftpd, pure-ftpd, proftpd and most others send it:
//
//	drwxr-xr-x    2 1000     1000         4096 Nov 24 06:31 name
//	-rw-r--r--    1 ftp      ftp    5000000000 Nov 24  2024 name
//	lrwxrwxrwx    1 u        g               7 Nov 24 06:31 a -> b
//	crw-rw-rw-    1 root     root       1,   3 Nov 24  2024 null
//
// The first field is the 10-letter mode ("-" file, "d" dir, "l" link; "b",
// "c", "p", "s", "D" TypeOther), optionally followed by an ACL mark "+", "@"
// or "."; Mode gets its permission bits, setuid/setgid/sticky included
// ("s", "S", "t", "T"), as in chmod octal (e.g. 04755). The owner and group
// fields may be missing, numeric or named; the size is the field right
// before the date, which is found as the first "Mon D HH:MM" or
// "Mon D YYYY" triple (English month, any case), so right-aligned columns
// and missing fields do not matter. The name is everything after the single
// space that follows the time or year, kept byte for byte (leading spaces,
// a leading "-", ";" and repeated spaces included). For "l" entries the name
// is split at the first " -> " into Name and Target. Device sizes ("1, 3")
// are reported as 0.
//
// Windows/IIS ("DOS") format:
//
//	11-24-24  06:31AM       <DIR>          name
//	11-24-2024  06:31PM              4096 name
//	11-24-2024  18:31                4096 name
//
// with a 2-digit (70-99 → 19xx, else 20xx) or 4-digit year, a 12-hour clock
// with AM/PM (attached or as its own field) or a 24-hour clock. After a size
// the name follows one space and is kept as is; after "<DIR>" the padding is
// dropped, so leading spaces of directory names are lost.
//
// Times: LIST has no zone, so dates are read in loc (the server's zone; nil
// means UTC) and returned in UTC. "Nov 24  2024" is midnight of that day in
// loc with Precision 24*time.Hour; "Nov 24 06:31" and DOS times have
// Precision time.Minute. A date without a year gets now's year (in loc),
// unless that puts it more than 48 hours after now — ls prints the year for
// anything not within the last six months, so such a date is last year's
// (the slack absorbs clock skew and a wrong loc). A Feb 29 that does not
// exist in the chosen year is a *ParseError.
//
// "total N" lines, blank lines and the "." and ".." directories of "LIST -a"
// return ErrSkip; any other name that checkName rejects is a *BadNameError;
// a line longer than MaxLineLen or in no known format is a *ParseError,
// never an empty Entry.
func ParseListLine(line string, now time.Time, loc *time.Location) (Entry, error) {
	line = trimEOL(line)
	if err := checkLen(line); err != nil {
		return Entry{}, err
	}
	if loc == nil {
		loc = time.UTC
	}
	toks := fields(line, maxListFields)
	switch {
	case len(toks) == 0:
		return Entry{}, ErrSkip
	case len(toks) == 2 && toks[0].s == "total" && allDigits(toks[1].s):
		return Entry{}, ErrSkip
	}
	if typ, mode, ok := unixMode(toks[0].s); ok {
		return parseUnixLine(line, toks, typ, mode, now, loc)
	}
	if _, _, _, ok := dosDate(toks[0].s); ok {
		return parseDOSLine(line, toks, loc)
	}
	return Entry{}, parseErr(line, "unknown LIST format")
}

// token is one whitespace-separated field of a line and where it ends.
type token struct {
	s   string
	end int // index in the line just after the field
}

// fields splits line at runs of spaces and tabs, returning at most n fields.
func fields(line string, n int) []token {
	var toks []token
	for i := 0; i < len(line) && len(toks) < n; {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		j := i
		for j < len(line) && line[j] != ' ' && line[j] != '\t' {
			j++
		}
		toks = append(toks, token{s: line[i:j], end: j})
		i = j
	}
	return toks
}

// unixMode reads an "ls -l" mode field such as "drwxr-sr-t+".
func unixMode(s string) (EntryType, uint32, bool) {
	if len(s) == 11 && strings.IndexByte("+@.", s[10]) >= 0 {
		s = s[:10]
	}
	if len(s) != 10 {
		return 0, 0, false
	}
	var typ EntryType
	switch s[0] {
	case '-':
		typ = TypeFile
	case 'd':
		typ = TypeDir
	case 'l':
		typ = TypeLink
	case 'b', 'c', 'p', 's', 'D':
		typ = TypeOther
	default:
		return 0, 0, false
	}
	var mode uint32
	for i := 0; i < 9; i++ {
		c := s[1+i]
		shift := uint(6 - 3*(i/3)) // owner, group, other
		special := uint32(04000 >> (i / 3))
		switch i % 3 {
		case 0:
			if c == 'r' {
				mode |= 4 << shift
			} else if c != '-' {
				return 0, 0, false
			}
		case 1:
			if c == 'w' {
				mode |= 2 << shift
			} else if c != '-' {
				return 0, 0, false
			}
		case 2:
			sx, sNoX := byte('s'), byte('S')
			if i == 8 {
				sx, sNoX = 't', 'T'
			}
			switch c {
			case 'x':
				mode |= 1 << shift
			case sx:
				mode |= 1<<shift | special
			case sNoX:
				mode |= special
			case 'l', 'L': // mandatory locking (old System V ls)
				if i != 5 {
					return 0, 0, false
				}
			case '-':
			default:
				return 0, 0, false
			}
		}
	}
	return typ, mode, true
}

// parseUnixLine parses an "ls -l" line whose first field was a mode.
func parseUnixLine(line string, toks []token, typ EntryType, mode uint32, now time.Time, loc *time.Location) (Entry, error) {
	for i := 2; i+2 < len(toks); i++ {
		mon := monthOf(toks[i].s)
		day, okDay := smallNumber(toks[i+1].s, 2)
		if mon == 0 || !okDay || !isListTimeOrYear(toks[i+2].s) {
			continue
		}
		size, okSize := listSize(toks[i-1].s, typ)
		if !okSize {
			continue
		}
		t, prec, err := unixTime(line, mon, day, toks[i+2].s, now, loc)
		if err != nil {
			return Entry{}, err
		}
		end := toks[i+2].end
		if end+1 >= len(line) {
			return Entry{}, parseErr(line, "no name after the date")
		}
		e := Entry{Name: line[end+1:], Type: typ, Size: size, ModTime: t, Precision: prec, Mode: mode}
		if typ == TypeLink {
			if k := strings.Index(e.Name, " -> "); k >= 0 {
				e.Name, e.Target = e.Name[:k], e.Name[k+len(" -> "):]
			}
		}
		return finishListEntry(e, line)
	}
	return Entry{}, parseErr(line, "no size and date (Mon D HH:MM or Mon D YYYY) in ls -l line")
}

// finishListEntry applies the name rules common to both LIST formats.
func finishListEntry(e Entry, line string) (Entry, error) {
	if e.Type == TypeDir && (e.Name == "." || e.Name == "..") {
		return Entry{}, ErrSkip
	}
	if err := checkName(e.Name, line); err != nil {
		return Entry{}, err
	}
	return e, nil
}

// listSize reads the size field; for devices it may be the minor number of
// "maj, min" or a glued "maj,min", and the size is 0.
func listSize(s string, typ EntryType) (int64, bool) {
	if allDigits(s) && s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, false
		}
		if typ == TypeOther {
			return 0, true
		}
		return n, true
	}
	if typ == TypeOther {
		maj, min, ok := strings.Cut(s, ",")
		if ok && maj != "" && allDigits(maj) && allDigits(min) {
			return 0, true
		}
	}
	return 0, false
}

var monthNames = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// monthOf returns the month of a 3-letter English abbreviation, or 0.
func monthOf(s string) time.Month {
	if len(s) != 3 {
		return 0
	}
	for i, m := range monthNames {
		if strings.EqualFold(s, m) {
			return time.Month(i + 1)
		}
	}
	return 0
}

// smallNumber parses 1 to maxDigits decimal digits.
func smallNumber(s string, maxDigits int) (int, bool) {
	if s == "" || len(s) > maxDigits || !allDigits(s) {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, true
}

// isListTimeOrYear reports whether s looks like "HH:MM" or "YYYY".
func isListTimeOrYear(s string) bool {
	if len(s) == 4 && allDigits(s) {
		return true
	}
	h, m, ok := strings.Cut(s, ":")
	return ok && h != "" && len(h) <= 2 && allDigits(h) && len(m) == 2 && allDigits(m)
}

// unixTime turns the date fields of an "ls -l" line into a UTC time.
func unixTime(line string, mon time.Month, day int, tm string, now time.Time, loc *time.Location) (time.Time, time.Duration, error) {
	if len(tm) == 4 && allDigits(tm) {
		y, _ := strconv.Atoi(tm)
		t, ok := exactDate(y, mon, day, 0, 0, 0, 0, loc)
		if !ok {
			return time.Time{}, 0, parseErr(line, "date out of range")
		}
		return t.UTC(), 24 * time.Hour, nil
	}
	hs, ms, _ := strings.Cut(tm, ":")
	h, _ := strconv.Atoi(hs)
	m, _ := strconv.Atoi(ms)
	year := now.In(loc).Year()
	for y := year; y >= year-1; y-- {
		t, ok := exactDate(y, mon, day, h, m, 0, 0, loc)
		if ok && (y < year || !t.After(now.Add(listFutureSlack))) {
			return t.UTC(), time.Minute, nil
		}
	}
	return time.Time{}, 0, parseErr(line, "date out of range")
}

// dosDate reads an MM-DD-YY or MM-DD-YYYY date ("/" also accepted).
func dosDate(s string) (y int, mon time.Month, d int, ok bool) {
	if len(s) != 8 && len(s) != 10 {
		return 0, 0, 0, false
	}
	sep := s[2]
	if (sep != '-' && sep != '/') || s[5] != sep {
		return 0, 0, 0, false
	}
	ms, ds, ys := s[:2], s[3:5], s[6:]
	if !allDigits(ms) || !allDigits(ds) || !allDigits(ys) {
		return 0, 0, 0, false
	}
	m, _ := strconv.Atoi(ms)
	d, _ = strconv.Atoi(ds)
	y, _ = strconv.Atoi(ys)
	if len(ys) == 2 {
		if y >= 70 {
			y += 1900
		} else {
			y += 2000
		}
	}
	return y, time.Month(m), d, true
}

// dosClock reads "06:31PM", "06:31" or, with ampm given separately, "06:31".
func dosClock(s, ampm string) (h, m int, ok bool) {
	if ampm == "" && len(s) > 2 {
		if suf := strings.ToUpper(s[len(s)-2:]); suf == "AM" || suf == "PM" {
			s, ampm = s[:len(s)-2], suf
		}
	}
	hs, ms, found := strings.Cut(s, ":")
	if !found || len(ms) != 2 || !allDigits(ms) {
		return 0, 0, false
	}
	h, okH := smallNumber(hs, 2)
	m, _ = strconv.Atoi(ms)
	if !okH || m > 59 {
		return 0, 0, false
	}
	switch strings.ToUpper(ampm) {
	case "":
		return h, m, h <= 23
	case "AM", "PM":
		if h < 1 || h > 12 {
			return 0, 0, false
		}
		h %= 12
		if strings.ToUpper(ampm) == "PM" {
			h += 12
		}
		return h, m, true
	}
	return 0, 0, false
}

// parseDOSLine parses a Windows/IIS line whose first field was a date.
func parseDOSLine(line string, toks []token, loc *time.Location) (Entry, error) {
	y, mon, d, _ := dosDate(toks[0].s)
	if len(toks) < 4 {
		return Entry{}, parseErr(line, "too few fields for a DOS listing line")
	}
	i := 1
	ampm := ""
	if u := strings.ToUpper(toks[2].s); u == "AM" || u == "PM" {
		ampm, i = u, 2
	}
	h, m, ok := dosClock(toks[1].s, ampm)
	if !ok {
		return Entry{}, parseErr(line, "bad time in DOS listing line")
	}
	t, ok := exactDate(y, mon, d, h, m, 0, 0, loc)
	if !ok {
		return Entry{}, parseErr(line, "date out of range")
	}
	sizeTok := toks[i+1] // len(toks) >= 4 and i <= 2
	if sizeTok.end >= len(line) {
		return Entry{}, parseErr(line, "no name in DOS listing line")
	}
	e := Entry{ModTime: t.UTC(), Precision: time.Minute}
	switch {
	case strings.EqualFold(sizeTok.s, "<DIR>"):
		e.Type = TypeDir
		e.Name = strings.TrimLeft(line[sizeTok.end:], " \t")
	case sizeTok.s != "" && allDigits(sizeTok.s):
		n, err := strconv.ParseInt(sizeTok.s, 10, 64)
		if err != nil {
			return Entry{}, parseErr(line, "size out of range")
		}
		e.Type, e.Size, e.Name = TypeFile, n, line[sizeTok.end+1:]
	default:
		return Entry{}, parseErr(line, "neither <DIR> nor a size in DOS listing line")
	}
	return finishListEntry(e, line)
}
