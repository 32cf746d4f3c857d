package ftptest

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// cmdRest records a restart offset (RFC 3659 section 5, STREAM mode) for
// the next RETR or STOR.
func (s *Session) cmdRest(arg string) {
	n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64)
	if err != nil || n < 0 {
		s.Reply(501, "REST requires a value greater than or equal to 0.")
		return
	}
	s.rest = n
	s.Reply(350, fmt.Sprintf("Restart position accepted (%d).", n))
}

// cmdRetr sends a file from the REST offset. With Options.DropDataAfter it
// stops after that many bytes, resets the data connection and replies 426.
func (s *Session) cmdRetr(arg string) {
	off := s.rest
	s.rest = 0
	if !s.dataReady() {
		return
	}
	v := s.resolve(arg)
	f, err := s.srv.root.Open(rootName(v))
	if err == nil {
		err = checkRegular(f)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		s.resetData()
		s.replyFSError("RETR", v, err)
		return
	}
	defer f.Close()
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			s.resetData()
			s.replyFSError("RETR", v, err)
			return
		}
	}
	fi, _ := f.Stat()
	opening := fmt.Sprintf("Opening BINARY mode data connection for %s (%d bytes).", arg, fi.Size())
	s.withData(opening, func(c net.Conn) (int, string) {
		var src io.Reader = f
		if limit := s.srv.opts.DropDataAfter; limit > 0 {
			src = io.LimitReader(f, limit)
		}
		if _, err := io.Copy(c, src); err != nil {
			s.logf("RETR %s: %v", v, err)
			return 426, "Failure writing network stream."
		}
		if s.srv.opts.DropDataAfter > 0 && off+s.srv.opts.DropDataAfter < fi.Size() {
			s.dropData()
			return 426, "Connection closed; transfer aborted."
		}
		return 226, "Transfer complete."
	})
}

func checkRegular(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", fi.Name())
	}
	return nil
}

// cmdStor writes the incoming stream to the path named, as it arrives:
// truncating (STOR), at the REST offset (REST then STOR) or appending
// (APPE). Options.RefuseRestSTOR refuses the last two with 451.
func (s *Session) cmdStor(arg string, appe bool) {
	s.stor(arg, appe, -1, false, "")
}

// StorPartial answers a STOR of arg as the server does, but keeps only the
// first keep bytes of the upload in the file: then it resets the data
// connection (TCP RST), or, with drain, reads the rest and throws it away,
// and writes final (e.g. "226 Transfer complete", the default when empty:
// a server that lost the end of an upload and still reports success). A
// hook calls it for STOR.
func (s *Session) StorPartial(arg string, keep int64, drain bool, final string) {
	s.stor(arg, false, keep, drain, final)
}

// stor is cmdStor and StorPartial: keep < 0 keeps everything.
func (s *Session) stor(arg string, appe bool, keep int64, drain bool, final string) {
	off := s.rest
	s.rest = 0
	if arg == "" {
		s.resetData()
		s.Reply(501, "Missing file name.")
		return
	}
	if s.srv.opts.RefuseRestSTOR && (appe || off > 0) {
		s.resetData()
		s.Reply(451, "Append/Restart not permitted, try again")
		return
	}
	if !s.dataReady() {
		return
	}
	v := s.resolve(arg)
	flag := os.O_WRONLY | os.O_CREATE
	switch {
	case appe:
		flag |= os.O_APPEND
	case off == 0:
		flag |= os.O_TRUNC
	}
	f, err := s.openForWrite(v, flag)
	if err == nil && off > 0 && !appe {
		_, err = f.Seek(off, io.SeekStart)
	}
	if err != nil {
		if f != nil {
			f.Close()
		}
		s.resetData()
		s.replyFSError("STOR", v, err)
		return
	}
	defer f.Close()
	if keep >= 0 {
		s.storPartial(v, f, keep, drain, final)
		return
	}
	s.withData("Ok to send data.", func(c net.Conn) (int, string) {
		_, err := io.Copy(f, c)
		if errors.Is(err, io.ErrUnexpectedEOF) { // TLS peer closed without close_notify
			s.logf("STOR %s: %v (accepted)", v, err)
			err = nil
		}
		if err != nil {
			s.logf("STOR %s: %v", v, err)
			return 426, "Failure reading network stream."
		}
		if err := f.Close(); err != nil {
			s.logf("STOR %s: %v", v, err)
			return 451, "Failure writing to local file."
		}
		return 226, "Transfer complete."
	})
}

// storPartial is the data part of StorPartial: v is open as f.
func (s *Session) storPartial(v string, f *os.File, keep int64, drain bool, final string) {
	s.Reply(150, "Ok to send data.")
	c, err := s.openData()
	if err != nil {
		s.logf("data connection: %v", err)
		s.Reply(425, "Failed to establish connection.")
		return
	}
	n, err := io.Copy(f, io.LimitReader(c, keep))
	s.logf("STOR %s: kept %d bytes (%v)", v, n, err)
	if drain {
		io.Copy(io.Discard, c)
		s.closeData(c)
	} else {
		s.dropData()
	}
	if final == "" {
		final = "226 Transfer complete"
	}
	s.WriteRaw([]byte(final + "\r\n"))
}

// openForWrite opens v for writing; directories are refused.
func (s *Session) openForWrite(v string, flag int) (*os.File, error) {
	if fi, err := s.srv.root.Stat(rootName(v)); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s: is a directory", v)
	}
	return s.srv.root.OpenFile(rootName(v), flag, 0o644)
}
