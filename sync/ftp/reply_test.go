package ftp

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	long := strings.Repeat("x", maxReplyLine+1)
	cases := []struct {
		name  string
		in    string
		code  int
		lines []string
		err   bool
	}{
		{"single line", "220 ready\r\n", 220, []string{"ready"}, false},
		{"bare code", "200\r\n", 200, []string{""}, false},
		{"LF only", "200 ok\n", 200, []string{"ok"}, false},
		{"multi-line FEAT (RFC 2389)", "211-Features:\r\n MLST type*;size*;\r\n UTF8\r\n211 End\r\n", 211, []string{"Features:", " MLST type*;size*;", " UTF8", "End"}, false},
		{"multi-line banner with digit middle lines (RFC 959 4.2)", "220-Welcome\r\n123 not the end\r\n220-still going\r\n220 ready\r\n", 220, []string{"Welcome", "123 not the end", "220-still going", "ready"}, false},
		{"garbage", "hello there\r\n", 0, nil, true},
		{"code out of range", "600 what\r\n", 0, nil, true},
		{"bad separator", "200xok\r\n", 0, nil, true},
		{"over-long line", "200 " + long + "\r\n", 0, nil, true},
		{"multi-line cut off", "211-Features:\r\n UTF8\r\n", 0, nil, true},
		{"empty", "", 0, nil, true},
		{"line cut off by close", "200 NOOP ok", 0, nil, true},
		{"multi-line end cut off by close", "211-Features:\r\n UTF8\r\n211 En", 0, nil, true},
		{"CR only is not a line end", "200 ok\r", 0, nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := ReadReply(bufio.NewReader(strings.NewReader(tc.in)))
			if tc.err {
				if err == nil {
					t.Fatalf("ReadReply(%q) = %+v, want an error", tc.in, rep)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadReply: %v", err)
			}
			if rep.Code != tc.code || strings.Join(rep.Lines, "|") != strings.Join(tc.lines, "|") {
				t.Errorf("ReadReply = %d %q, want %d %q", rep.Code, rep.Lines, tc.code, tc.lines)
			}
		})
	}
}

func TestReadReplyTooManyLines(t *testing.T) {
	in := "211-start\r\n" + strings.Repeat(" x\r\n", maxReplyLines+1) + "211 end\r\n"
	_, err := ReadReply(bufio.NewReader(strings.NewReader(in)))
	var pe *ProtocolError
	if !errors.As(err, &pe) {
		t.Fatalf("got %v, want *ProtocolError", err)
	}
}

func TestValidateArgRejectsLineBreaks(t *testing.T) {
	for _, s := range []string{"a\r\nDELE x", "a\nb", "a\rb", "a\x00b"} {
		if validateArg(s) == nil {
			t.Errorf("validateArg(%q) = nil, want an error", s)
		}
	}
	if err := validateArg("name with spaces ✓"); err != nil {
		t.Errorf("validateArg: %v", err)
	}
}

func TestMaskedHidesPassword(t *testing.T) {
	if got := masked("PASS secret"); got != "PASS ****" {
		t.Errorf("masked = %q", got)
	}
	if got := masked("pass secret"); strings.Contains(got, "secret") {
		t.Errorf("masked lower case = %q", got)
	}
	if got := masked("USER bob"); got != "USER bob" {
		t.Errorf("masked = %q", got)
	}
}

// FuzzReadReply: no panic, and a reply that parses has a valid code and at
// most maxReplyLines lines, none longer than maxReplyLine.
func FuzzReadReply(f *testing.F) {
	for _, s := range []string{"220 ok\r\n", "211-a\r\n b\r\n211 c\r\n", "220-x\r\n220 y\n", "999 no\r\n", "2", "211-\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rep, err := ReadReply(bufio.NewReader(strings.NewReader(in)))
		if err != nil {
			return
		}
		if rep.Code < 100 || rep.Code > 599 {
			t.Fatalf("code %d out of range", rep.Code)
		}
		if len(rep.Lines) == 0 || len(rep.Lines) > maxReplyLines+1 {
			t.Fatalf("%d lines", len(rep.Lines))
		}
		for _, l := range rep.Lines {
			if len(l) > maxReplyLine {
				t.Fatalf("line of %d bytes", len(l))
			}
		}
	})
}
