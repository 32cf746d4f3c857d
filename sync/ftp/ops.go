package ftp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	pathpkg "path"
	"strconv"
	"strings"
	"time"
)

// Pwd returns the current folder (RFC 959 section 4.1.3; the 257 reply
// quotes the path and doubles quotes inside it).
func (c *Conn) Pwd(ctx context.Context) (string, error) {
	rep, err := c.Cmd(ctx, 2, "PWD")
	if err != nil {
		return "", err
	}
	return parse257(rep.Lines[0])
}

func parse257(s string) (string, error) {
	start := strings.IndexByte(s, '"')
	if start < 0 {
		return "", fmt.Errorf("ftp: no quoted path in %q", s)
	}
	var b strings.Builder
	for i := start + 1; i < len(s); i++ {
		if s[i] == '"' {
			if i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(s[i])
	}
	return "", fmt.Errorf("ftp: unterminated quoted path in %q", s)
}

// Cwd changes the current folder.
func (c *Conn) Cwd(ctx context.Context, dir string) error {
	_, err := c.Cmd(ctx, 2, "CWD "+dir)
	return err
}

// Mkdir creates one folder (MKD).
func (c *Conn) Mkdir(ctx context.Context, path string) error {
	_, err := c.Cmd(ctx, 2, "MKD "+path)
	return err
}

// Rmdir removes an empty folder (RMD).
func (c *Conn) Rmdir(ctx context.Context, path string) error {
	_, err := c.Cmd(ctx, 2, "RMD "+path)
	return err
}

// Delete removes a file (DELE).
func (c *Conn) Delete(ctx context.Context, path string) error {
	_, err := c.Cmd(ctx, 2, "DELE "+path)
	return err
}

// Rename renames from to to (RNFR, then RNTO; both are sent in one write).
// Whether an existing to is replaced depends on the server.
func (c *Conn) Rename(ctx context.Context, from, to string) error {
	return c.Pipeline(ctx, "RNFR "+from, "RNTO "+to)
}

// Noop checks that the connection is alive.
func (c *Conn) Noop(ctx context.Context) error {
	_, err := c.Cmd(ctx, 2, "NOOP")
	return err
}

// Size returns a file's size in bytes (RFC 3659 section 4). The connection
// is always in TYPE I, so the size is exact.
func (c *Conn) Size(ctx context.Context, path string) (int64, error) {
	rep, err := c.Cmd(ctx, 2, "SIZE "+path)
	if err != nil {
		return 0, err
	}
	return ParseSize("SIZE "+path, rep)
}

// ParseSize reads the size in the reply to cmd (SIZE path): 213 and a
// number; a reply of another class is an *Error.
func ParseSize(cmd string, rep *Reply) (int64, error) {
	if rep.Code/100 != 2 {
		return 0, &Error{Cmd: cmd, Code: rep.Code, Msg: rep.Msg()}
	}
	n, perr := strconv.ParseInt(strings.TrimSpace(rep.Lines[0]), 10, 64)
	if perr != nil || n < 0 {
		return 0, &ProtocolError{Cmd: cmd, Reason: "size is not a number", Line: shorten(rep.Lines[0])}
	}
	return n, nil
}

// ModTime returns a file's modification time in UTC, to the second (RFC 3659
// section 3). A server whose MDTM answers in local time (Zone.MDTM, as a
// probe measured it) is corrected for.
func (c *Conn) ModTime(ctx context.Context, path string) (time.Time, error) {
	t, err := c.mdtmRaw(ctx, path)
	if err != nil {
		return time.Time{}, err
	}
	return c.profile().Zone.fromMDTM(t), nil
}

// mdtmRaw returns the time of an MDTM reply as written, read as UTC.
func (c *Conn) mdtmRaw(ctx context.Context, path string) (time.Time, error) {
	rep, err := c.Cmd(ctx, 2, "MDTM "+path)
	if err != nil {
		return time.Time{}, err
	}
	t, perr := ParseMDTMTime(strings.TrimSpace(rep.Lines[0]))
	if perr != nil {
		return time.Time{}, &ProtocolError{Cmd: "MDTM " + path, Reason: perr.Error(), Line: shorten(rep.Lines[0])}
	}
	return t, nil
}

// MTimeMethod is how a server lets a client set a file's modification time.
type MTimeMethod uint8

const (
	MTimeUnknown   MTimeMethod = iota
	MTimeMFMT                  // MFMT YYYYMMDDHHMMSS path (draft-somers-ftp-mfxx)
	MTimeMDTM                  // MDTM YYYYMMDDHHMMSS path (vsftpd's only way)
	MTimeSiteUtime             // SITE UTIME YYYYMMDDHHMMSS path (proftpd mod_site_misc, pure-ftpd)
	MTimeNone                  // the server offers no way
)

func (m MTimeMethod) String() string {
	return [...]string{"unknown", "MFMT", "MDTM time path", "SITE UTIME", "none"}[m]
}

// SetModTime sets a file's modification time. It uses MFMT when FEAT offers
// it, else tries "MDTM time path" (vsftpd lists only the read form of MDTM
// in FEAT but accepts this one) and then SITE UTIME; the method that worked
// is remembered in the connection's Profile. The time is sent shifted by
// the profile's Zone.Set (vsftpd with use_localtime=YES reads "MDTM time
// path" as local time). ErrNoMTime means the server has no way at all.
func (c *Conn) SetModTime(ctx context.Context, path string, t time.Time) error {
	prof := c.profile()
	ts := FormatMDTMTime(prof.Zone.toSet(t))
	if prof.MTime == MTimeUnknown {
		return c.probeSetModTime(ctx, path, ts)
	}
	line, ok := setTimeCommand(prof.MTime, ts, path)
	if !ok {
		return ErrNoMTime
	}
	_, err := c.Cmd(ctx, 2, line)
	return err
}

// SetTimeLine returns the command line that sets path's modification time
// to t on a server with profile prof: its known method (Profile.MTime),
// the time shifted by Zone.Set. ok is false while the method is not known
// (SetModTime finds it) or when the server has none.
func SetTimeLine(prof Profile, path string, t time.Time) (line string, ok bool) {
	return setTimeCommand(prof.MTime, FormatMDTMTime(prof.Zone.toSet(t)), path)
}

// setTimeCommand returns method m's command setting path's time to the
// formatted time ts.
func setTimeCommand(m MTimeMethod, ts, path string) (string, bool) {
	switch m {
	case MTimeMFMT:
		return "MFMT " + ts + " " + path, true
	case MTimeMDTM:
		return "MDTM " + ts + " " + path, true
	case MTimeSiteUtime:
		return "SITE UTIME " + ts + " " + path, true
	}
	return "", false
}

// profile returns a copy of the connection's (its pool's) profile.
func (c *Conn) profile() Profile {
	c.profMu.Lock()
	defer c.profMu.Unlock()
	return *c.prof
}

// ErrNoMTime is returned by SetModTime when the server has no command to set
// a modification time.
var ErrNoMTime = errors.New("ftp: server cannot set modification times")

func (c *Conn) probeSetModTime(ctx context.Context, path, ts string) error {
	try := []struct {
		m    MTimeMethod
		line string
	}{
		{MTimeMFMT, "MFMT " + ts + " " + path},
		{MTimeMDTM, "MDTM " + ts + " " + path},
		{MTimeSiteUtime, "SITE UTIME " + ts + " " + path},
	}
	if _, ok := c.feat["MFMT"]; !ok {
		try = try[1:]
	}
	for _, t := range try {
		rep, err := c.Cmd(ctx, 0, t.line)
		if err != nil {
			return err
		}
		// Not understood: try the next form. Quirk: a server that only
		// knows the read form of MDTM takes "time path" for a file name
		// and answers 550 (vsftpd with mdtm_write=NO, pure-ftpd,
		// proftpd), so for MDTM a 550 means that too.
		if rep.Code/100 == 5 && (rep.Code != 550 || t.m == MTimeMDTM) {
			continue
		}
		if rep.Code/100 != 2 {
			return &Error{Cmd: t.line, Code: rep.Code, Msg: rep.Msg()}
		}
		// "MDTM time path" on a server that only knows the read form of MDTM
		// would answer 550 (no file named "time path") or a 213 with the
		// file's current time; read it back to be sure it took. Both
		// forms are in the same zone (vsftpd: UTC, or with
		// use_localtime=YES both local), so the digits must come back.
		if t.m == MTimeMDTM {
			got, err := c.mdtmRaw(ctx, path)
			if err != nil {
				return err
			}
			if FormatMDTMTime(got) != ts {
				continue
			}
		}
		c.profMu.Lock()
		c.prof.MTime = t.m
		c.profMu.Unlock()
		return nil
	}
	c.profMu.Lock()
	c.prof.MTime = MTimeNone
	c.profMu.Unlock()
	return ErrNoMTime
}

// Retr downloads path from byte offset (REST, RFC 3659 section 5) into w and
// returns the bytes written.
func (c *Conn) Retr(ctx context.Context, path string, offset int64, w io.Writer) (int64, error) {
	var n int64
	_, err := c.transfer(ctx, "", "RETR "+path, nil, offset, xferIn, func(rw io.ReadWriter) error {
		var err error
		n, err = io.CopyBuffer(w, rw, c.copyBuf())
		return err
	})
	return n, err
}

// RetrModTime is Retr that also returns the file's modification time
// (MDTM), asked for in the same write as the RETR: for servers whose
// listings are only minute or day precise (vsftpd's LIST), at no extra
// round trip. A refused MDTM leaves mtime zero and is not an error.
func (c *Conn) RetrModTime(ctx context.Context, path string, offset int64, w io.Writer) (n int64, mtime time.Time, err error) {
	var mdtm *Reply
	_, err = c.transfer(ctx, "MDTM "+path, "RETR "+path, &mdtm, offset, xferIn, func(rw io.ReadWriter) error {
		var err error
		n, err = io.CopyBuffer(w, rw, c.copyBuf())
		return err
	})
	if mdtm != nil && mdtm.Code == 213 {
		if t, perr := ParseMDTMTime(strings.TrimSpace(mdtm.Lines[0])); perr == nil {
			mtime = c.profile().Zone.fromMDTM(t)
		}
	}
	return n, mtime, err
}

// Stor uploads r to path, starting at byte offset (REST then STOR) when
// offset > 0, and returns the bytes sent. proftpd refuses REST before STOR
// by default ("451 Append/Restart not permitted"): the *Error says so and
// the caller uploads the whole file instead.
func (c *Conn) Stor(ctx context.Context, path string, offset int64, r io.Reader) (int64, error) {
	return c.upload(ctx, "STOR "+path, offset, r)
}

// Append uploads r to the end of path (APPE).
func (c *Conn) Append(ctx context.Context, path string, r io.Reader) (int64, error) {
	return c.upload(ctx, "APPE "+path, 0, r)
}

func (c *Conn) upload(ctx context.Context, cmd string, offset int64, r io.Reader) (int64, error) {
	var n int64
	_, err := c.transfer(ctx, "", cmd, nil, offset, xferOut, func(rw io.ReadWriter) error {
		var err error
		n, err = io.CopyBuffer(rw, r, c.copyBuf())
		return err
	})
	return n, err
}

// SmallUpload is the largest upload StorSmall writes before the server's
// 150 reply: it must fit in the socket buffers between client and server
// (Linux's smallest defaults hold 64 KiB on the receiving side alone), so
// that a STOR the server refuses cannot leave the write blocked.
const SmallUpload = 64 << 10

// StorSmall uploads data (at most SmallUpload bytes) to path, saving a
// round trip: STOR, the bytes and their end go out without waiting for
// the 150 reply, which then comes back with the final one. It is Stor
// (wait for the 150, then write) for bigger data, in active mode (the
// server connects only after the STOR) and under PROT P (the TLS
// handshake of the data connection starts after the 150).
func (c *Conn) StorSmall(ctx context.Context, path string, data []byte) (int64, error) {
	if len(data) > SmallUpload || c.cfg.Active || c.prot {
		return c.Stor(ctx, path, 0, bytes.NewReader(data))
	}
	var n int
	_, err := c.transfer(ctx, "", "STOR "+path, nil, 0, xferOutAhead, func(rw io.ReadWriter) error {
		var err error
		n, err = rw.Write(data)
		return err
	})
	return int64(n), err
}

// IncompleteError is returned with the entries of a listing that could not be
// trusted to be complete: lines that did not parse, unsafe names, or a
// server that cut the listing short. Unknown is not empty: callers must
// treat the folder as unknown, never as holding only Entries.
type IncompleteError struct {
	Dir      string
	Problems []error
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("ftp: listing of %q is incomplete: %v (and %d more)", e.Dir, e.Problems[0], len(e.Problems)-1)
}

func (e *IncompleteError) Unwrap() []error { return e.Problems }

// ErrTruncated marks a listing the server cut short (pure-ftpd's 10,000
// entry cap).
var ErrTruncated = errors.New("server truncated the listing")

// maxListLines bounds the lines of one listing.
const maxListLines = 1 << 20

// List returns the entries of folder dir: MLSD when FEAT lists MLST, else
// "LIST -a" after a CWD into dir (plain LIST hides dotfiles on vsftpd,
// pure-ftpd and proftpd; an argument starting with "-" after -a would be
// read as options, hence the CWD). "." and ".." are left out. When some
// lines cannot be used the good entries come back with an *IncompleteError.
//
// Listed times are corrected by the profile's Zone.List once a probe
// measured it (vsftpd's LIST in local time); before that, LIST times are
// read in Config.Location.
func (c *Conn) List(ctx context.Context, dir string) ([]Entry, error) {
	zone := c.profile().Zone
	if _, ok := c.feat["MLST"]; ok {
		return c.list(ctx, dir, "", "MLSD "+dir, func(line string) (Entry, error) {
			e, err := ParseMLSxLine(line)
			if err == nil && e.Precision > 0 {
				e.ModTime = zone.fromList(e.ModTime)
			}
			return e, err
		})
	}
	// CWD goes out in the same write as the LIST (a round trip saved per
	// folder). When the CWD fails, the LIST lists the previous folder:
	// that listing is read and thrown away, and the CWD's error returned.
	now, loc := c.cfg.now(), c.cfg.location()
	if zone.Measured {
		loc = zone.listLocation()
	}
	return c.list(ctx, dir, "CWD "+dir, "LIST -a", func(line string) (Entry, error) { return ParseListLine(line, now, loc) })
}

func (c *Conn) list(ctx context.Context, dir, pre, cmd string, parse func(string) (Entry, error)) ([]Entry, error) {
	var entries []Entry
	var problems []error
	var preRep *Reply
	final, err := c.transfer(ctx, pre, cmd, &preRep, 0, xferIn, func(rw io.ReadWriter) error {
		r := bufio.NewReaderSize(rw, 32<<10)
		for lines := 0; ; lines++ {
			line, eol, err := readLineEOL(r)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if !eol {
				// A data connection cut mid-line, even one the server
				// then calls a success: the name may be cut short, and a
				// wrong name is worse than none.
				problems = append(problems, &ParseError{Line: line, Reason: "listing ends inside a line (connection cut?)"})
				continue
			}
			if lines >= maxListLines {
				return fmt.Errorf("more than %d lines", maxListLines)
			}
			if line == "" {
				continue
			}
			e, err := parse(line)
			if errors.Is(err, ErrSkip) {
				continue
			}
			if err != nil {
				problems = append(problems, err)
				continue
			}
			entries = append(entries, e)
		}
	})
	if preRep != nil && preRep.Code/100 != 2 {
		return nil, &Error{Cmd: pre, Code: preRep.Code, Msg: preRep.Msg()}
	}
	if err != nil {
		return nil, fmt.Errorf("ftp: listing %q: %w", dir, err)
	}
	if isTruncatedListing(final) {
		problems = append(problems, fmt.Errorf("%w: %d %s", ErrTruncated, final.Code, final.Msg()))
	}
	if len(problems) > 0 {
		return entries, &IncompleteError{Dir: dir, Problems: problems}
	}
	return entries, nil
}

// Stat returns one entry's facts with MLST when the server offers it
// (RFC 3659 section 7), else from SIZE and MDTM (then Type is TypeFile).
func (c *Conn) Stat(ctx context.Context, path string) (Entry, error) {
	if _, ok := c.feat["MLST"]; ok {
		rep, err := c.Cmd(ctx, 2, "MLST "+path)
		if err != nil {
			return Entry{}, err
		}
		if len(rep.Lines) < 3 {
			return Entry{}, &ProtocolError{Cmd: "MLST " + path, Reason: "no fact line", Line: shorten(rep.Msg())}
		}
		// MLST names the entry by its full path (RFC 3659 section 7.2);
		// the facts end at the first space.
		line := strings.TrimPrefix(rep.Lines[1], " ")
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return Entry{}, &ProtocolError{Cmd: "MLST " + path, Reason: "no facts", Line: shorten(line)}
		}
		e, err := ParseMLSxLine(line[:sp+1] + pathpkg.Base(path))
		if errors.Is(err, ErrSkip) {
			// MLST of a folder may report type=cdir.
			e.Type = TypeDir
			err = nil
		}
		return e, err
	}
	size, err := c.Size(ctx, path)
	if err != nil {
		return Entry{}, err
	}
	t, err := c.ModTime(ctx, path)
	if err != nil {
		return Entry{}, err
	}
	name := path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		name = path[i+1:]
	}
	return Entry{Name: name, Type: TypeFile, Size: size, ModTime: t, Precision: time.Second}, nil
}
