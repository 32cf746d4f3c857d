package ftp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what a server may send in one reply (STYLE: bound everything a
// peer controls).
const (
	maxReplyLine  = 8 << 10 // bytes in one reply line, CRLF excluded
	maxReplyLines = 4096    // lines in one multi-line reply
)

// Reply is one server reply: a three-digit code and its text lines (for a
// multi-line reply, the first line's text, every middle line as sent, and the
// last line's text).
type Reply struct {
	Code  int
	Lines []string
}

// Msg is the reply text on one line.
func (r *Reply) Msg() string { return strings.Join(r.Lines, "\n") }

// Error is a reply of an unexpected class to a command. Cmd is the command
// as sent, with the PASS argument masked.
type Error struct {
	Cmd  string
	Code int
	Msg  string
}

func (e *Error) Error() string {
	msg := e.Msg
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i] + " …"
	}
	if e.Cmd == "" {
		return fmt.Sprintf("ftp: server said %d %s", e.Code, msg)
	}
	return fmt.Sprintf("ftp: %s: server said %d %s", e.Cmd, e.Code, msg)
}

// Transient reports whether the reply is a 4xx "try again later" reply
// (RFC 959 section 4.2: transient negative completion).
func (e *Error) Transient() bool { return e.Code >= 400 && e.Code < 500 }

// ProtocolError reports a reply that does not follow RFC 959's reply syntax:
// garbage, an over-long line, a multi-line reply that never ends.
type ProtocolError struct {
	Cmd    string
	Reason string
	Line   string // the offending line, shortened
}

func (e *ProtocolError) Error() string {
	where := ""
	if e.Cmd != "" {
		where = " after " + e.Cmd
	}
	return fmt.Sprintf("ftp: bad reply%s: %s: %q", where, e.Reason, e.Line)
}

// readLine reads one CRLF- or LF-terminated line of at most maxReplyLine
// bytes, without its line ending. A last line cut off by the end of the
// stream is returned as it is (listings are read this way).
func readLine(r *bufio.Reader) (string, error) {
	line, _, err := readLineEOL(r)
	return line, err
}

// readLineEOL is readLine that also reports whether the line ended with LF:
// eol is false for a last line cut off by the end of the stream.
func readLineEOL(r *bufio.Reader) (line string, eol bool, err error) {
	var buf []byte
	for {
		chunk, err := r.ReadSlice('\n')
		buf = append(buf, chunk...)
		switch {
		case err == nil:
			buf = buf[:len(buf)-1]
			if n := len(buf); n > 0 && buf[n-1] == '\r' {
				buf = buf[:n-1]
			}
			eol = true
		case errors.Is(err, bufio.ErrBufferFull):
			if len(buf) > maxReplyLine+1 { // +1: a CR may still end it
				return "", false, tooLong(buf)
			}
			continue
		case errors.Is(err, io.EOF) && len(buf) > 0:
		default:
			return "", false, err
		}
		if len(buf) > maxReplyLine {
			return "", false, tooLong(buf)
		}
		return string(buf), eol, nil
	}
}

func tooLong(buf []byte) error {
	return &ProtocolError{Reason: fmt.Sprintf("line longer than %d bytes", maxReplyLine), Line: shorten(string(buf))}
}

// readReplyLine reads one line of a reply. A reply line the server did not
// finish before closing is a *ProtocolError: its text may be cut anywhere
// (in a PASV address, a size), so it is not taken as a reply.
func readReplyLine(r *bufio.Reader) (string, error) {
	line, eol, err := readLineEOL(r)
	if err == nil && !eol {
		return "", &ProtocolError{Reason: "connection closed in the middle of a reply line", Line: shorten(line)}
	}
	return line, err
}

// parseCode reads the "NNN" prefix and the separator that follows it.
func parseCode(line string) (code int, sep byte, ok bool) {
	if len(line) < 3 {
		return 0, 0, false
	}
	for i := 0; i < 3; i++ {
		if line[i] < '0' || line[i] > '9' {
			return 0, 0, false
		}
	}
	if line[0] < '1' || line[0] > '5' {
		return 0, 0, false
	}
	code, _ = strconv.Atoi(line[:3])
	if len(line) == 3 {
		return code, ' ', true
	}
	switch line[3] {
	case ' ', '-':
		return code, line[3], true
	}
	return 0, 0, false
}

// ReadReply reads one reply per RFC 959 section 4.2: "NNN text", or a
// multi-line reply that starts "NNN-text" and ends at the first line that
// starts "NNN " with the same code. Middle lines are taken as they are, so a
// middle line that happens to start with digits does not end the reply.
// A line cut off by the end of the stream (no LF) is a *ProtocolError.
func ReadReply(r *bufio.Reader) (*Reply, error) {
	line, err := readReplyLine(r)
	if err != nil {
		return nil, err
	}
	code, sep, ok := parseCode(line)
	if !ok {
		return nil, &ProtocolError{Reason: "no reply code", Line: shorten(line)}
	}
	rep := &Reply{Code: code, Lines: []string{text(line)}}
	if sep == ' ' {
		return rep, nil
	}
	for {
		line, err := readReplyLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, &ProtocolError{Reason: "connection closed inside a multi-line reply", Line: shorten(rep.Lines[0])}
			}
			return nil, err
		}
		if len(rep.Lines) >= maxReplyLines {
			return nil, &ProtocolError{Reason: fmt.Sprintf("multi-line reply longer than %d lines", maxReplyLines), Line: shorten(line)}
		}
		if c, s, ok := parseCode(line); ok && c == code && s == ' ' {
			rep.Lines = append(rep.Lines, text(line))
			return rep, nil
		}
		rep.Lines = append(rep.Lines, line)
	}
}

func text(line string) string {
	if len(line) <= 4 {
		return ""
	}
	return line[4:]
}

func shorten(s string) string {
	const max = 120
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
