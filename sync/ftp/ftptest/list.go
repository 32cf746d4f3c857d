package ftptest

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"path"
	"sort"
	"strings"
	"time"
)

// entry is one listed name with its Lstat info.
type entry struct {
	name   string
	fi     fs.FileInfo
	target string // symlink target
	// follow is the Stat info of a symlink's target when it resolves
	// inside the root; nil otherwise.
	follow fs.FileInfo
}

// cmdList answers LIST (Unix "ls -l" lines like vsftpd), NLST (names) and
// MLSD (RFC 3659 section 7 facts) over the data connection. LIST and NLST
// take ls-style options before the path: "-a" shows dotfiles and, for LIST,
// "." and "..". Options.ListLimit truncates the output.
func (s *Session) cmdList(cmd, arg string) {
	if cmd == "MLSD" && s.srv.opts.DisableMLSD {
		s.Reply(500, "Unknown command.")
		return
	}
	flags, p := "", arg
	if cmd != "MLSD" {
		flags, p = splitListArgs(arg)
	}
	if !s.dataReady() {
		return
	}
	showAll := strings.Contains(flags, "a")
	v := s.resolve(p)
	lines, err := s.listLines(cmd, v, p, showAll)
	if err != nil {
		s.resetData()
		if errors.Is(err, errNotDir) {
			s.Reply(501, "Not a directory.")
			return
		}
		s.replyFSError(cmd, v, err)
		return
	}
	final := "Directory send OK."
	if n := s.srv.opts.ListLimit; n > 0 && len(lines) > n {
		lines = lines[:n]
		final = fmt.Sprintf("Output truncated to %d matches", n)
	}
	s.ServeList(lines, "226 "+final)
}

// errNotDir is MLSD's refusal of a file argument (501, RFC 3659 section 7.2).
var errNotDir = errors.New("not a directory")

// splitListArgs separates leading "-xyz" option words from the path.
func splitListArgs(arg string) (opts, p string) {
	for strings.HasPrefix(arg, "-") {
		word, rest, _ := strings.Cut(arg, " ")
		opts += word[1:]
		arg = strings.TrimLeft(rest, " ")
	}
	return opts, arg
}

func (s *Session) listLines(cmd, v, given string, showAll bool) ([]string, error) {
	now := s.now()
	fi, err := s.srv.root.Stat(rootName(v))
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		if cmd == "MLSD" {
			return nil, errNotDir
		}
		e, err := s.lookup(v, path.Base(v))
		if err != nil {
			return nil, err
		}
		if cmd == "NLST" {
			return []string{given}, nil
		}
		return []string{lsLine(e, now, s.srv.localTime())}, nil
	}
	entries, err := s.readDir(v)
	if err != nil {
		return nil, err
	}
	var lines []string
	if cmd == "MLSD" || (cmd == "LIST" && showAll) {
		cur, _ := s.srv.root.Stat(rootName(v))
		par, _ := s.srv.root.Stat(rootName(path.Dir(v)))
		if cmd == "MLSD" {
			lines = append(lines, s.facts(entry{name: ".", fi: cur}, "cdir")+" .", s.facts(entry{name: "..", fi: par}, "pdir")+" ..")
		} else {
			lines = append(lines, lsLine(entry{name: ".", fi: cur}, now, s.srv.localTime()), lsLine(entry{name: "..", fi: par}, now, s.srv.localTime()))
		}
	}
	for _, e := range entries {
		switch {
		case cmd == "MLSD":
			lines = append(lines, s.facts(e, "")+" "+e.name)
		case !showAll && strings.HasPrefix(e.name, "."):
		case cmd == "NLST":
			lines = append(lines, e.name)
		default:
			lines = append(lines, lsLine(e, now, s.srv.localTime()))
		}
	}
	return lines, nil
}

func (s *Session) now() time.Time {
	if s.srv.opts.Now != nil {
		return s.srv.opts.Now()
	}
	return time.Now()
}

// readDir lists the directory v sorted by name, with Lstat info for each
// name (taken through the os.Root, never by an outside path).
func (s *Session) readDir(v string) ([]entry, error) {
	d, err := s.srv.root.Open(rootName(v))
	if err != nil {
		return nil, err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	out := make([]entry, 0, len(names))
	for _, n := range names {
		e, err := s.lookup(path.Join(v, n), n)
		if err != nil {
			continue // removed while listing
		}
		out = append(out, e)
	}
	return out, nil
}

func (s *Session) lookup(v, name string) (entry, error) {
	fi, err := s.srv.root.Lstat(rootName(v))
	if err != nil {
		return entry{}, err
	}
	e := entry{name: name, fi: fi}
	if fi.Mode()&fs.ModeSymlink != 0 {
		e.target, _ = s.srv.root.Readlink(rootName(v))
		if t, err := s.srv.root.Stat(rootName(v)); err == nil {
			e.follow = t
		}
	}
	return e, nil
}

// lsLine formats e like vsftpd's LIST: mode, links, numeric owner and
// group, size, date and name. The date shows the time of day for times
// within the last 182 days and not in the future, else the year; times
// are printed in loc (Options.LocalTime), UTC when nil.
func lsLine(e entry, now time.Time, loc *time.Location) string {
	nlink, uid, gid := owner(e.fi)
	if loc == nil {
		loc = time.UTC
	}
	mt := e.fi.ModTime().In(loc)
	date := mt.Format("Jan _2 15:04")
	if mt.After(now) || now.Sub(mt) > 182*24*time.Hour {
		date = mt.Format("Jan _2  2006")
	}
	line := fmt.Sprintf("%s %4d %-8s %-8s %8d %s %s", modeString(e.fi.Mode()), nlink, uid, gid, e.fi.Size(), date, e.name)
	if e.target != "" {
		line += " -> " + e.target
	}
	return line
}

// modeString renders m as "ls -l" does ("drwxr-xr-x", "lrwxrwxrwx").
func modeString(m fs.FileMode) string {
	b := []byte("----------")
	switch {
	case m.IsDir():
		b[0] = 'd'
	case m&fs.ModeSymlink != 0:
		b[0] = 'l'
	case m&fs.ModeNamedPipe != 0:
		b[0] = 'p'
	case m&fs.ModeSocket != 0:
		b[0] = 's'
	case m&fs.ModeCharDevice != 0:
		b[0] = 'c'
	case m&fs.ModeDevice != 0:
		b[0] = 'b'
	}
	const rwx = "rwxrwxrwx"
	for i := 0; i < 9; i++ {
		if m&(1<<uint(8-i)) != 0 {
			b[i+1] = rwx[i]
		}
	}
	special := []struct {
		bit fs.FileMode
		pos int
		set byte
	}{{fs.ModeSetuid, 3, 's'}, {fs.ModeSetgid, 6, 's'}, {fs.ModeSticky, 9, 't'}}
	for _, sp := range special {
		if m&sp.bit != 0 {
			if b[sp.pos] == '-' {
				b[sp.pos] = sp.set - 'a' + 'A'
			} else {
				b[sp.pos] = sp.set
			}
		}
	}
	return string(b)
}

// factNames are the RFC 3659 facts the server knows, in FEAT order.
var factNames = []string{"type", "size", "modify", "unix.mode", "perm"}

func allFacts() map[string]bool {
	m := make(map[string]bool, len(factNames))
	for _, f := range factNames {
		m[f] = true
	}
	return m
}

// mlstFeat renders the FEAT MLST line, "*" marking facts in use.
func (s *Session) mlstFeat() string {
	var b strings.Builder
	for _, f := range factNames {
		b.WriteString(f)
		if s.mlstFacts[f] {
			b.WriteString("*")
		}
		b.WriteString(";")
	}
	return b.String()
}

// setFacts applies OPTS MLST (RFC 3659 section 7.9): unknown facts are ignored.
func (s *Session) setFacts(list string) {
	sel := map[string]bool{}
	for _, f := range strings.Split(list, ";") {
		f = strings.ToLower(strings.TrimSpace(f))
		for _, known := range factNames {
			if f == known {
				sel[f] = true
			}
		}
	}
	s.mlstFacts = sel
}

func (s *Session) selectedFacts() string {
	var b strings.Builder
	for _, f := range factNames {
		if s.mlstFacts[f] {
			b.WriteString(f + ";")
		}
	}
	return b.String()
}

// facts renders e's RFC 3659 facts ("type=file;size=3;...;"), without the
// space and name. kind overrides the type ("cdir", "pdir"). A symbolic link
// resolving inside the root shows its target's facts; any other link is
// "type=OS.unix=symlink".
func (s *Session) facts(e entry, kind string) string {
	fi := e.fi
	if fi == nil {
		return "type=" + kind + ";"
	}
	if e.follow != nil {
		fi = e.follow
	}
	typ := kind
	perm := "adfrw"
	switch {
	case typ != "":
		perm = "flcdmpe"
	case fi.IsDir():
		typ, perm = "dir", "flcdmpe"
	case fi.Mode().IsRegular():
		typ = "file"
	case fi.Mode()&fs.ModeSymlink != 0:
		typ, perm = "OS.unix=symlink", ""
	default:
		typ, perm = "OS.unix=special", ""
	}
	var b strings.Builder
	for _, f := range factNames {
		if !s.mlstFacts[f] {
			continue
		}
		switch f {
		case "type":
			fmt.Fprintf(&b, "type=%s;", typ)
		case "size":
			if typ == "file" {
				fmt.Fprintf(&b, "size=%d;", fi.Size())
			}
		case "modify":
			fmt.Fprintf(&b, "modify=%s;", timeVal(fi.ModTime()))
		case "unix.mode":
			fmt.Fprintf(&b, "unix.mode=0%o;", unixMode(fi.Mode()))
		case "perm":
			if perm != "" {
				fmt.Fprintf(&b, "perm=%s;", perm)
			}
		}
	}
	return b.String()
}

func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}

// cmdMlst answers MLST (RFC 3659 section 7.2) on the control connection.
func (s *Session) cmdMlst(arg string) {
	if s.srv.opts.DisableMLSD {
		s.Reply(500, "Unknown command.")
		return
	}
	v := s.resolve(arg)
	e, err := s.lookup(v, path.Base(v))
	if err != nil {
		s.replyFSError("MLST", v, err)
		return
	}
	s.Reply(250, "Listing "+v, " "+s.facts(e, "")+" "+v, "End")
}

// writeLines sends lines with CRLF over the data connection.
func writeLines(c net.Conn, lines []string) error {
	w := bufio.NewWriter(c)
	for _, l := range lines {
		if _, err := w.WriteString(l + "\r\n"); err != nil {
			return err
		}
	}
	return w.Flush()
}
