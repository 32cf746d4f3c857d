package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// The test server's credentials. The password is distinctive so that a
// script can assert it never shows up in ferry's output (scripts/netrc.txtar
// repeats it literally, as a netrc file would).
const (
	testUser     = "ferryuser"
	testPassword = "s3cret-Pa55"
	wrongPass    = "wr0ng-Pa55"
)

// TestMain lets the test binary double as the ferry command: testscript puts
// a "ferry" executable on the scripts' PATH that re-enters here and calls run,
// so each ferry invocation is its own process with its own exit status.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"ferry": func() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own test
// FTP server over $WORK/srv and these variables:
//
//	FTPURL      ftp://ferryuser:s3cret-Pa55@127.0.0.1:PORT/  (the server's root)
//	FTPNOPASS   ftp://ferryuser@127.0.0.1:PORT/              (no password in the URL)
//	FTPHOST     127.0.0.1 (for netrc files)
//	FTPPASS     the right password
//	BADPASSURL  the right user with the wrong password (wr0ng-Pa55)
//	DEADURL     a loopback port nothing listens on
//	SRV         the folder the server serves
//
// HOME and XDG_STATE_HOME point into $WORK, so the default state cache and
// ~/.netrc are the script's own; FERRY_PASSWORD and NETRC start unset.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:   "testdata/script",
		Setup: setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       cmdExits,
			"dirlist":     cmdDirlist,
			"jsonlines":   cmdJSONLines,
			"noleak":      cmdNoLeak,
			"tlsserver":   cmdTLSServer,
			"faultserver": cmdFaultServer,
		},
	})
}

func setupScript(env *testscript.Env) error {
	srvRoot := filepath.Join(env.WorkDir, "srv")
	if err := os.MkdirAll(srvRoot, 0o755); err != nil {
		return err
	}
	srv := ftptest.NewServer(srvRoot, ftptest.Options{User: testUser, Password: testPassword})
	env.Defer(srv.Close)
	dead, err := closedPort()
	if err != nil {
		return err
	}
	home := filepath.Join(env.WorkDir, "home")
	if err := os.MkdirAll(home, 0o755); err != nil {
		return err
	}
	env.Setenv("FTPURL", srv.URL())
	env.Setenv("FTPNOPASS", fmt.Sprintf("ftp://%s@%s/", testUser, srv.Addr))
	env.Setenv("FTPHOST", "127.0.0.1")
	env.Setenv("FTPPASS", testPassword)
	env.Setenv("BADPASSURL", fmt.Sprintf("ftp://%s:%s@%s/", testUser, wrongPass, srv.Addr))
	env.Setenv("DEADURL", fmt.Sprintf("ftp://%s:%s@%s/", testUser, testPassword, dead))
	env.Setenv("SRV", srvRoot)
	env.Setenv("HOME", home)
	env.Setenv("XDG_STATE_HOME", filepath.Join(env.WorkDir, "xdgstate"))
	env.Setenv("FERRY_PASSWORD", "")
	env.Setenv("NETRC", "")
	return nil
}

// closedPort returns a loopback address that was just listened on and
// closed, so connecting to it is refused.
func closedPort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// cmdExits: exits N PROG ARGS... runs PROG like exec and fails unless it
// exits with status N; stdout and stderr are kept for the assertions that
// follow. ("! exec" only says "not 0", and ferry's 1 and 2 mean different
// things.)
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad status %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exits: %v", err)
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

// cmdTLSServer: tlsserver explicit|implicit starts a test server that
// speaks TLS (explicit: AUTH TLS required before login; implicit: TLS from
// the first byte) over $WORK/tlssrv, writes its self-signed certificate to
// $WORK/ca.pem and sets $TLSURL to its URL (ftp:// or ftps://, with the
// test credentials). The server stops when the script ends.
func cmdTLSServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: tlsserver explicit|implicit")
	}
	mode := map[string]ftptest.TLSMode{"explicit": ftptest.TLSExplicit, "implicit": ftptest.TLSImplicit}[args[0]]
	if mode == ftptest.TLSNone {
		ts.Fatalf("tlsserver: unknown mode %q", args[0])
	}
	root := ts.MkAbs("tlssrv")
	ts.Check(os.MkdirAll(root, 0o755))
	srv := ftptest.NewServer(root, ftptest.Options{User: testUser, Password: testPassword, TLS: mode})
	ts.Defer(srv.Close)
	ts.Check(os.WriteFile(ts.MkAbs("ca.pem"), srv.CertPEM(), 0o644))
	ts.Setenv("TLSURL", srv.URL())
}

// faultListings are what cmdFaultServer's server answers to MLSD of these
// folders: nil stalls until the client gives up, one line starting with a
// reply code is that reply instead of a listing.
var faultListings = map[string][]string{
	// An unsafe name next to a real file.
	"/hostile": {"type=file;size=5;modify=20230506070809; good.txt", "type=file;size=4;modify=20230506070809; ../evil"},
	// A folder whose listing is refused.
	"/broken/sub": {"550 Permission denied."},
	// A root whose listing never comes.
	"/stall": nil,
	// A symlink next to a real file.
	"/links": {"type=file;size=5;modify=20230506070809; good.txt", "type=OS.unix=symlink;modify=20230506070809; link"},
}

// cmdFaultServer: faultserver starts a test server over $WORK/faultsrv
// whose MLSD of the folders in faultListings answers as they say, and sets
// $FAULTURL to its root URL (with the test credentials). The server stops
// when the script ends.
func cmdFaultServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: faultserver")
	}
	root := ts.MkAbs("faultsrv")
	ts.Check(os.MkdirAll(root, 0o755))
	srv := ftptest.NewServer(root, ftptest.Options{User: testUser, Password: testPassword,
		Hook: func(s *ftptest.Session, cmd, arg string) bool {
			lines, ok := faultListings[path.Clean(arg)]
			if cmd != "MLSD" || !ok {
				return false
			}
			if lines == nil {
				s.Stall()
				return true
			}
			if code, msg, _ := strings.Cut(lines[0], " "); len(lines) == 1 && len(code) == 3 {
				n, _ := strconv.Atoi(code)
				s.Reply(n, msg)
				return true
			}
			s.ServeList(lines, "")
			return true
		}})
	ts.Defer(srv.Close)
	ts.Setenv("FAULTURL", srv.URL())
}

// cmdDirlist: dirlist DIR OUT writes a sorted description of the tree under
// DIR to the file OUT: one line per entry with its relative path, type and,
// for files, size and SHA-256. Two trees are equal (names, empty folders,
// contents) when their listings cmp equal. Modes and times are left out.
func cmdDirlist(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: dirlist DIR OUT")
	}
	dir := ts.MkAbs(args[0])
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
		case d.IsDir():
			fmt.Fprintf(&b, "dir  %s/\n", rel)
		case d.Type().IsRegular():
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "file %s %d %x\n", rel, len(data), sha256.Sum256(data))
		default:
			fmt.Fprintf(&b, "other %s %v\n", rel, d.Type())
		}
		return nil
	})
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(b.String()), 0o644))
}

// cmdJSONLines: jsonlines checks that the last command's stdout is one JSON
// object per line, at least one of them an action ("done"), and that the last
// line, and only it, is the summary ("event":"summary").
func cmdJSONLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: jsonlines")
	}
	out := ts.ReadFile("stdout")
	sc := bufio.NewScanner(strings.NewReader(out))
	var events []string
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			ts.Fatalf("stdout line %d is not a JSON object: %q: %v", len(events)+1, sc.Text(), err)
		}
		ev, _ := obj["event"].(string)
		if ev == "" {
			ts.Fatalf("stdout line %d has no \"event\": %q", len(events)+1, sc.Text())
		}
		events = append(events, ev)
	}
	if len(events) == 0 {
		ts.Fatalf("stdout is empty")
	}
	for i, ev := range events {
		if (ev == "summary") != (i == len(events)-1) {
			ts.Fatalf("event %d of %d is %q: want exactly one summary, last", i+1, len(events), ev)
		}
	}
	if len(events) < 2 {
		ts.Fatalf("only a summary, no action lines")
	}
}

// cmdNoLeak: noleak checks that neither stdout nor stderr of the last
// command contains the test server's password or the wrong one used by
// scripts (in plain or URL-escaped form).
func cmdNoLeak(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: noleak")
	}
	for _, name := range []string{"stdout", "stderr"} {
		out := []byte(ts.ReadFile(name))
		for _, secret := range []string{testPassword, wrongPass} {
			if bytes.Contains(out, []byte(secret)) {
				ts.Fatalf("%s shows the password %q:\n%s", name, secret, out)
			}
		}
	}
}
