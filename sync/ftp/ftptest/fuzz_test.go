package ftptest

import (
	"strings"
	"testing"
	"time"
)

// FuzzCommandLine sends one arbitrary command line after login and checks
// that the server answers with a well-formed reply (or closes on QUIT) and
// stays inside its root.
func FuzzCommandLine(f *testing.F) {
	for _, seed := range []string{
		"EPRT |1|127.0.0.1|1|", "EPRT ||", "EPRT |", "PORT 1,2,3", "PORT 127,0,0,1,0,0",
		"MFMT 20200101000000.5 f", "MFMT 2020010100000x f", "MDTM 20200101000000 f",
		"REST -1", "LIST -la ../..", "NLST -", "MLST ../../etc", "OPTS MLST size;;type",
		"RNTO f", "TYPE L 8", "EPSV ALL", "CWD \xff\xf4\xff\xf2", "SITE CHMOD 777 f",
	} {
		f.Add(seed)
	}
	srv := NewServer(f.TempDir(), Options{EnableMDTMSet: true, IOTimeout: 2 * time.Second})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, line string) {
		if strings.ContainsAny(line, "\r\n") || len(line) > 1000 {
			t.Skip()
		}
		cmd, _ := splitCommand(line)
		c := dial(t, srv)
		c.login()
		code, msg := c.cmd("%s", line)
		if code < 100 || code > 599 {
			t.Fatalf("%q: reply %d %q", line, code, msg)
		}
		if code == 150 || cmd == "QUIT" || cmd == "USER" || cmd == "PASS" || cmd == "AUTH" {
			return // a transfer waiting for its data connection, or a changed session
		}
		c.must(200, "NOOP")
	})
}

func FuzzParseTimeVal(f *testing.F) {
	for _, s := range []string{"20200102030405", "20200102030405.123", "2020", "20201302030405", "20200102030405."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := parseTimeVal(s)
		if err != nil {
			return
		}
		if got := timeVal(tm); got != s[:14] {
			t.Errorf("parseTimeVal(%q) = %v, formats back as %q", s, tm, got)
		}
	})
}
