package ftptest

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoginChecksUserAndPassword(t *testing.T) {
	srv, _ := newServer(t, Options{User: "alice", Password: "s3cret"})
	c := dial(t, srv)
	c.must(530, "PWD") // nothing before login
	c.must(331, "USER alice")
	c.must(530, "PASS wrong")
	c.must(503, "PASS s3cret") // USER forgotten after a failure
	c.must(331, "USER alice")
	c.must(230, "PASS s3cret")
	if got := srv.Logins(); got != 1 {
		t.Errorf("Logins() = %d, want 1", got)
	}
	c.must(221, "QUIT")
}

func TestURLNamesUserPasswordAndPort(t *testing.T) {
	srv, _ := newServer(t, Options{User: "u", Password: "p"})
	want := "ftp://u:p@" + srv.Addr + "/"
	if srv.URL() != want {
		t.Errorf("URL() = %q, want %q", srv.URL(), want)
	}
	if !strings.HasPrefix(srv.Addr, "127.0.0.1:") {
		t.Errorf("Addr %q is not loopback", srv.Addr)
	}
}

// rawReply sends cmd and returns the raw lines of its reply, up to and
// including the line "code ...".
func rawReply(t *testing.T, c *rawClient, cmd string) []string {
	t.Helper()
	if err := c.tp.PrintfLine("%s", cmd); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for {
		l, err := c.tp.ReadLine()
		if err != nil {
			t.Fatalf("%s: %v after %q", cmd, err, lines)
		}
		lines = append(lines, l)
		if len(l) >= 4 && l[3] == ' ' && len(lines) > 0 && strings.HasPrefix(l, lines[0][:3]) {
			return lines
		}
	}
}

func TestFeatIsRFC959MultiLine(t *testing.T) {
	srv, _ := newServer(t, Options{})
	c := dial(t, srv)
	lines := rawReply(t, c, "FEAT")
	if lines[0] != "211-Features:" || lines[len(lines)-1] != "211 End" {
		t.Fatalf("FEAT framing %q", lines)
	}
	body := strings.Join(lines, "\n")
	for _, f := range []string{" EPSV", " MFMT", " MLST type*;size*;modify*;unix.mode*;perm*;", " REST STREAM", " SIZE", " UTF8"} {
		if !strings.Contains(body, "\n"+f+"\n") {
			t.Errorf("FEAT lacks %q:\n%s", f, body)
		}
	}
	if strings.Contains(body, "AUTH TLS") {
		t.Errorf("FEAT offers AUTH TLS without TLS:\n%s", body)
	}
}

func TestBannerIsMultiLine220(t *testing.T) {
	srv, _ := newServer(t, Options{Banner: []string{"-------- Welcome to Pure-FTPd --------", "You are user number 1.", "Ready."}})
	c := dialNoGreet(t, srv)
	var lines []string
	for len(lines) < 3 {
		l, err := c.tp.ReadLine()
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	want := []string{"220--------- Welcome to Pure-FTPd --------", "220-You are user number 1.", "220 Ready."}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("banner %q, want %q", lines, want)
	}
}

// TestServerQuirks pins each Options toggle that imitates a real server.
func TestServerQuirks(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		cmds []string // "CMD arg => code"
		feat string   // must be absent from FEAT
	}{
		{"vsftpd has no MLSD", Options{DisableMLSD: true}, []string{"MLSD => 500", "MLST f => 500"}, "MLST"},
		{"vsftpd has no MFMT", Options{DisableMFMT: true}, []string{"MFMT 20200102030405 f => 500"}, "MFMT"},
		{"no EPSV", Options{DisableEPSV: true}, []string{"EPSV => 500", "EPRT |1|127.0.0.1|2000| => 500", "PASV => 227"}, "EPSV"},
		{"pure-ftpd answers OPTS UTF8 ON with 504", Options{UTF8Reply504: true}, []string{"OPTS UTF8 ON => 504"}, ""},
		{"default OPTS UTF8 ON is 200", Options{}, []string{"OPTS UTF8 ON => 200", "MFMT 20200102030405 f => 213", "MLST f => 250"}, ""},
		{"proftpd refuses REST then STOR", Options{RefuseRestSTOR: true}, []string{"PASV => 227", "REST 5 => 350", "STOR f => 451", "PASV => 227", "APPE f => 451"}, ""},
		{"MDTM set is off by default", Options{}, []string{"MDTM 20200102030405 f => 550"}, ""},
		{"vsftpd MDTM set", Options{EnableMDTMSet: true}, []string{"MDTM 20200102030405 f => 213", "MDTM f => 213"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv, dir := newServer(t, tc.opts)
			writeFile(t, dir, "f", "content")
			c := dial(t, srv)
			c.login()
			for _, step := range tc.cmds {
				cmd, want, _ := strings.Cut(step, " => ")
				c.must(atoi(t, want), "%s", cmd)
			}
			if tc.feat != "" {
				if body := strings.Join(rawReply(t, c, "FEAT"), "\n"); strings.Contains(body, " "+tc.feat) {
					t.Errorf("FEAT offers %s:\n%s", tc.feat, body)
				}
			}
		})
	}
}

func TestMDTMSetChangesModTime(t *testing.T) {
	srv, dir := newServer(t, Options{EnableMDTMSet: true})
	writeFile(t, dir, "f", "x")
	c := dial(t, srv)
	c.login()
	c.must(213, "MDTM 20200102030405 f")
	if got := c.must(213, "MDTM f"); got != "20200102030405" {
		t.Errorf("MDTM after set = %q", got)
	}
}

// TestLocalTime: with Options.LocalTime, MDTM reads and sets in that zone
// (vsftpd use_localtime=YES) while MLST stays UTC; SetLocalTime moves it.
func TestLocalTime(t *testing.T) {
	srv, dir := newServer(t, Options{EnableMDTMSet: true, LocalTime: time.FixedZone("IST", 5*3600+1800)})
	writeFile(t, dir, "f", "x")
	c := dial(t, srv)
	c.login()
	c.must(213, "MDTM 20200102030405 f")
	fi, err := os.Stat(filepath.Join(dir, "f"))
	if want := time.Date(2020, 1, 1, 21, 34, 5, 0, time.UTC); err != nil || !fi.ModTime().Equal(want) {
		t.Errorf("mtime after MDTM set in +05:30 = %v, %v; want %v", fi.ModTime().UTC(), err, want)
	}
	if got := c.must(213, "MDTM f"); got != "20200102030405" {
		t.Errorf("MDTM in +05:30 = %q", got)
	}
	if got := rawReply(t, c, "MLST f")[1]; !strings.Contains(got, "modify=20200101213405;") {
		t.Errorf("MLST = %q, want modify in UTC", got)
	}
	srv.SetLocalTime(time.FixedZone("EST", -5*3600))
	if got := c.must(213, "MDTM f"); got != "20200101163405" {
		t.Errorf("MDTM after SetLocalTime(-05:00) = %q", got)
	}
	mod := time.Date(2020, 1, 1, 21, 34, 5, 0, time.UTC)
	if got := lsLine(entry{name: "n", fi: fakeInfo{mod: mod}}, mod.Add(time.Hour), srv.localTime()); !strings.Contains(got, " Jan  1 16:34 n") {
		t.Errorf("LIST line in -05:00 = %q", got)
	}
}

func TestFileCommands(t *testing.T) {
	srv, dir := newServer(t, Options{})
	c := dial(t, srv)
	c.login()
	c.must(200, "TYPE I")
	c.must(257, "MKD sub dir")
	c.must(550, "MKD sub dir")
	c.must(250, "CWD sub dir")
	if got := c.must(257, "PWD"); got != `"/sub dir" is the current directory` {
		t.Errorf("PWD = %q", got)
	}
	if code := c.store([]byte("hello world"), "STOR f.txt"); code != 226 {
		t.Fatalf("STOR final %d", code)
	}
	if got := readFile(t, dir, "sub dir/f.txt"); got != "hello world" {
		t.Errorf("stored %q", got)
	}
	if got := c.must(213, "SIZE f.txt"); got != "11" {
		t.Errorf("SIZE = %q", got)
	}
	c.must(550, "SIZE /sub dir") // a folder has no SIZE

	// REST then STOR writes at the offset; APPE appends.
	c.must(350, "REST 6")
	if code := c.store([]byte("WORLD"), "STOR f.txt"); code != 226 {
		t.Fatalf("REST STOR final %d", code)
	}
	if code := c.store([]byte("!"), "APPE f.txt"); code != 226 {
		t.Fatalf("APPE final %d", code)
	}
	if got := readFile(t, dir, "sub dir/f.txt"); got != "hello WORLD!" {
		t.Errorf("after REST STOR and APPE: %q", got)
	}

	// RETR, with and without REST.
	if b, code := c.readData("RETR f.txt"); string(b) != "hello WORLD!" || code != 226 {
		t.Errorf("RETR = %q, %d", b, code)
	}
	c.must(350, "REST 6")
	if b, code := c.readData("RETR /sub dir/f.txt"); string(b) != "WORLD!" || code != 226 {
		t.Errorf("REST RETR = %q, %d", b, code)
	}

	// Times: MFMT sets, MDTM reads, in UTC.
	if got := c.must(213, "MFMT 20210304050607 f.txt"); got != "Modify=20210304050607; f.txt" {
		t.Errorf("MFMT reply %q", got)
	}
	if got := c.must(213, "MDTM f.txt"); got != "20210304050607" {
		t.Errorf("MDTM = %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "sub dir", "f.txt"))
	if err != nil || !fi.ModTime().Equal(time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)) {
		t.Errorf("mtime on disk %v (%v)", fi.ModTime(), err)
	}
	c.must(501, "MFMT 2021 f.txt")

	// Rename, delete, folders.
	c.must(503, "RNTO g.txt")
	c.must(350, "RNFR f.txt")
	c.must(250, "RNTO g.txt")
	c.must(550, "RNFR f.txt")
	c.must(250, "CDUP")
	c.must(550, "RMD sub dir") // not empty
	c.must(550, "DELE sub dir")
	c.must(250, "DELE sub dir/g.txt")
	c.must(550, "DELE sub dir/g.txt")
	c.must(250, "RMD sub dir")
	if _, err := os.Stat(filepath.Join(dir, "sub dir")); !os.IsNotExist(err) {
		t.Errorf("folder still there: %v", err)
	}
	c.must(425, "RETR nothing") // no PASV before
	c.passive()
	c.must(550, "RETR nothing")
	c.must(425, "RETR nothing") // the failed RETR used up the PASV
	c.must(500, "XYZZY")
}

func TestUploadIsVisibleWhileStreaming(t *testing.T) {
	srv, dir := newServer(t, Options{})
	c := dial(t, srv)
	c.login()
	d := c.passive()
	c.must(150, "STOR part.bin")
	if _, err := d.Write([]byte("first half")); err != nil {
		t.Fatal(err)
	}
	// The server writes as data arrives: the bytes show up under the
	// client's name before the upload has ended.
	waitFor(t, "partial upload visible", func() bool { return readFileMaybe(dir, "part.bin") == "first half" })
	if _, err := d.Write([]byte(", second half")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	c.expect(226)
	if got := readFile(t, dir, "part.bin"); got != "first half, second half" {
		t.Errorf("uploaded %q", got)
	}
}

func readFileMaybe(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return string(b)
}

func TestLongCommandLineIsRefused(t *testing.T) {
	srv, _ := newServer(t, Options{})
	c := dial(t, srv)
	c.must(500, "NOOP %s", strings.Repeat("x", 10000))
	c.must(200, "NOOP")
}

func TestActiveMode(t *testing.T) {
	srv, dir := newServer(t, Options{})
	writeFile(t, dir, "a.txt", "active data")
	c := dial(t, srv)
	c.login()
	c.must(500, "PORT 10,1,2,3,4,5")
	c.must(500, "EPRT |1|10.1.2.3|1234|")
	c.must(500, "EPRT |2|::1|1234|x")
	c.must(522, "EPRT |3|x|1|")

	for _, viaPORT := range []bool{false, true} {
		var ln = c.active()
		if viaPORT {
			ln.Close()
			ln = c.activePORT()
		}
		c.must(150, "RETR a.txt")
		d, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(d)
		d.Close()
		if err != nil || string(b) != "active data" {
			t.Errorf("active RETR (PORT %v) = %q, %v", viaPORT, b, err)
		}
		c.expect(226)
	}
}

func (c *rawClient) activePORT() net.Listener {
	c.t.Helper()
	ln := c.active() // EPRT, then PORT overrides it with the same port
	p := ln.Addr().(*net.TCPAddr).Port
	c.must(200, "PORT 127,0,0,1,%d,%d", p>>8, p&0xff)
	return ln
}

func TestActiveModeOverTLS(t *testing.T) {
	srv, dir := newServer(t, Options{TLS: TLSExplicit})
	writeFile(t, dir, "a.txt", "active and private")
	c := dial(t, srv)
	c.authTLS(srv.ClientTLSConfig())
	c.login()
	ln := c.active()
	c.must(150, "RETR a.txt")
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	d := tls.Client(raw, c.tls) // the FTP client stays the TLS client (RFC 4217)
	b, err := io.ReadAll(d)
	d.Close()
	if err != nil || string(b) != "active and private" {
		t.Errorf("active RETR over TLS = %q, %v", b, err)
	}
	c.expect(226)
}

func TestListFormats(t *testing.T) {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	srv, dir := newServer(t, Options{Now: func() time.Time { return now }})
	writeFile(t, dir, "new.txt", "1234")
	writeFile(t, dir, ".hidden", "h")
	writeFile(t, dir, "old.txt", "")
	os.Mkdir(filepath.Join(dir, "folder"), 0o755)
	os.Chtimes(filepath.Join(dir, "new.txt"), now, time.Date(2025, 11, 24, 6, 31, 0, 0, time.UTC))
	os.Chtimes(filepath.Join(dir, "old.txt"), now, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	os.Chmod(filepath.Join(dir, "new.txt"), 0o640)
	c := dial(t, srv)
	c.login()

	plain := c.list("LIST")
	if len(plain) != 3 {
		t.Fatalf("LIST = %q, want folder, new.txt, old.txt", plain)
	}
	if !strings.HasPrefix(plain[0], "drwxr-xr-x ") || !strings.HasSuffix(plain[0], " folder") {
		t.Errorf("folder line %q", plain[0])
	}
	if !strings.HasPrefix(plain[1], "-rw-r-----    1 ") || !strings.HasSuffix(plain[1], "        4 Nov 24 06:31 new.txt") {
		t.Errorf("recent file line %q", plain[1])
	}
	if !strings.HasSuffix(plain[2], "        0 Jan  2  2024 old.txt") {
		t.Errorf("old file line %q", plain[2])
	}
	all := c.list("LIST -a")
	names := make([]string, len(all))
	for i, l := range all {
		names[i] = l[strings.LastIndex(l, " ")+1:]
	}
	if got := strings.Join(names, ","); got != ".,..,.hidden,folder,new.txt,old.txt" {
		t.Errorf("LIST -a names %s", got)
	}
	if got := strings.Join(c.list("NLST"), ","); got != "folder,new.txt,old.txt" {
		t.Errorf("NLST = %s", got)
	}
	if got := c.list("LIST new.txt"); len(got) != 1 || got[0] != plain[1] {
		t.Errorf("LIST of a file = %q", got)
	}

	mlsd := strings.Join(c.list("MLSD"), "\n")
	for _, want := range []string{
		"type=cdir;modify=",
		"type=pdir;modify=",
		"type=file;size=4;modify=20251124063100;unix.mode=0640;perm=adfrw; new.txt",
		"type=file;size=1;", "; .hidden",
		"type=dir;modify=", ";unix.mode=0755;perm=flcdmpe; folder",
	} {
		if !strings.Contains(mlsd, want) {
			t.Errorf("MLSD lacks %q:\n%s", want, mlsd)
		}
	}
	lines := rawReply(t, c, "MLST new.txt")
	if len(lines) != 3 || lines[1] != " type=file;size=4;modify=20251124063100;unix.mode=0640;perm=adfrw; /new.txt" {
		t.Errorf("MLST = %q", lines)
	}
	c.must(200, "OPTS MLST type;size;")
	if got := c.list("MLSD folder"); len(got) != 2 { // cdir and pdir only
		t.Errorf("MLSD of empty folder = %q", got)
	}
	if got := rawReply(t, c, "MLST new.txt"); got[1] != " type=file;size=4; /new.txt" {
		t.Errorf("MLST after OPTS MLST = %q", got)
	}
	c.passive()
	c.must(501, "MLSD new.txt")
}

func TestLsLineDateRule(t *testing.T) {
	now := time.Date(2025, 11, 24, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		mod  time.Time
		want string
	}{
		{"within six months shows time", time.Date(2025, 6, 1, 8, 9, 0, 0, time.UTC), "Jun  1 08:09"},
		{"older than six months shows year", time.Date(2025, 5, 1, 8, 9, 0, 0, time.UTC), "May  1  2025"},
		{"future shows year", time.Date(2025, 11, 25, 8, 9, 0, 0, time.UTC), "Nov 25  2025"},
		{"printed in UTC", time.Date(2025, 11, 24, 8, 0, 0, 0, time.FixedZone("X", 3600)), "Nov 24 07:00"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := lsLine(entry{name: "n", fi: fakeInfo{mod: tc.mod, size: 12}}, now, nil)
			want := "-rw-r--r--    1 ftp      ftp            12 " + tc.want + " n"
			if got != want {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}

func TestModeString(t *testing.T) {
	cases := map[os.FileMode]string{
		0o644:                              "-rw-r--r--",
		os.ModeDir | 0o755:                 "drwxr-xr-x",
		os.ModeSymlink | 0o777:             "lrwxrwxrwx",
		os.ModeDir | os.ModeSticky | 0o777: "drwxrwxrwt",
		os.ModeSetuid | 0o644:              "-rwSr--r--",
	}
	for m, want := range cases {
		if got := modeString(m); got != want {
			t.Errorf("modeString(%v) = %q, want %q", m, got, want)
		}
	}
}

func TestPathsStayInsideRoot(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, outside, "secret", "do not serve")
	srv, dir := newServer(t, Options{})
	writeFile(t, dir, "inside.txt", "fine")
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "abs-link")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	rel, _ := filepath.Rel(dir, filepath.Join(outside, "secret"))
	os.Symlink(rel, filepath.Join(dir, "rel-link"))
	os.Symlink(outside, filepath.Join(dir, "dir-link"))
	os.Symlink("inside.txt", filepath.Join(dir, "ok-link"))

	c := dial(t, srv)
	c.login()
	c.must(250, "CWD ..")
	if got := c.must(257, "PWD"); got != `"/" is the current directory` {
		t.Errorf("PWD after CWD .. at root = %q", got)
	}
	c.must(550, "SIZE ../../etc/passwd")
	for _, name := range []string{"../../etc/passwd", "/../../etc/passwd", "abs-link", "rel-link", "dir-link/secret"} {
		c.passive()
		c.must(550, "RETR %s", name)
	}
	c.must(550, "CWD dir-link")
	c.must(550, "SIZE rel-link")
	c.must(550, "MFMT 20200101000000 rel-link")
	c.passive()
	c.must(550, "STOR dir-link/planted")
	c.passive()
	c.must(550, "STOR rel-link")
	if got := readFile(t, outside, "secret"); got != "do not serve" {
		t.Errorf("file outside the root changed: %q", got)
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); !os.IsNotExist(err) {
		t.Errorf("file planted outside the root: %v", err)
	}
	c.must(550, "RNFR ..") // the root itself
	if b, code := c.readData("RETR ok-link"); string(b) != "fine" || code != 226 {
		t.Errorf("link inside the root: %q %d", b, code)
	}
	listing := strings.Join(c.list("LIST"), "\n")
	if !strings.Contains(listing, "rel-link -> "+rel) {
		t.Errorf("LIST does not show the link as a link:\n%s", listing)
	}
}

func TestExplicitTLS(t *testing.T) {
	srv, dir := newServer(t, Options{TLS: TLSExplicit, RequireTLSResume: true})
	writeFile(t, dir, "a.txt", "secret data")
	if srv.Certificate() == nil || !bytes.HasPrefix(srv.CertPEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatal("no certificate")
	}
	c := dial(t, srv)
	if body := strings.Join(rawReply(t, c, "FEAT"), "\n"); !strings.Contains(body, " AUTH TLS") {
		t.Errorf("FEAT lacks AUTH TLS:\n%s", body)
	}
	c.must(530, "USER test") // login needs TLS first
	c.must(503, "PBSZ 0")
	c.must(234, "AUTH TLS")
	c.startTLS(srv.ClientTLSConfig())
	c.login()
	c.passive()
	c.must(521, "RETR a.txt") // PROT P first
	c.protect()
	if b, code := c.readData("RETR a.txt"); string(b) != "secret data" || code != 226 {
		t.Errorf("RETR over TLS = %q %d", b, code)
	}
	if code := c.store([]byte("uploaded"), "STOR b.txt"); code != 226 {
		t.Errorf("STOR over TLS final %d", code)
	}
	if got := readFile(t, dir, "b.txt"); got != "uploaded" {
		t.Errorf("stored %q", got)
	}
	if got := c.list("NLST"); strings.Join(got, ",") != "a.txt,b.txt" {
		t.Errorf("NLST over TLS = %q", got)
	}

	// A data connection that does not resume the session is refused.
	cfg := srv.ClientTLSConfig()
	cfg.ClientSessionCache = nil
	c.tls = cfg
	d := c.passive()
	c.must(150, "RETR a.txt")
	io.ReadAll(d)
	c.expect(522)
}

func TestImplicitTLS(t *testing.T) {
	srv, dir := newServer(t, Options{TLS: TLSImplicit})
	writeFile(t, dir, "a.txt", "implicit")
	if !strings.HasPrefix(srv.URL(), "ftps://") {
		t.Errorf("URL %q", srv.URL())
	}
	c := dial(t, srv) // handshake, then 220
	c.login()
	c.protect()
	if b, code := c.readData("RETR a.txt"); string(b) != "implicit" || code != 226 {
		t.Errorf("RETR = %q %d", b, code)
	}
}

func TestTLSDataClosesWithCloseNotify(t *testing.T) {
	srv, dir := newServer(t, Options{TLS: TLSImplicit})
	writeFile(t, dir, "a.txt", "x")
	c := dial(t, srv)
	c.login()
	c.protect()
	d := c.passive()
	c.must(150, "RETR a.txt")
	b, err := io.ReadAll(d) // io.EOF only after close_notify; a bare TCP close is an error
	if err != nil || string(b) != "x" {
		t.Errorf("read %q, %v", b, err)
	}
	c.expect(226)
	_ = d.(*tls.Conn)
}

func TestDropDataAfter(t *testing.T) {
	srv, dir := newServer(t, Options{DropDataAfter: 4})
	writeFile(t, dir, "a.txt", "0123456789")
	c := dial(t, srv)
	c.login()
	d := c.passive()
	c.must(150, "RETR a.txt")
	b, err := io.ReadAll(d) // a reset may lose bytes already sent
	if len(b) > 4 || code(c) != 426 {
		t.Errorf("got %q (%v), want at most 4 bytes and 426", b, err)
	}
	c.must(350, "REST 7") // the last 3 bytes fit under the limit
	if b, code := c.readData("RETR a.txt"); string(b) != "789" || code != 226 {
		t.Errorf("short RETR = %q %d", b, code)
	}
}

func TestIdleSessionIsClosed(t *testing.T) {
	srv, _ := newServer(t, Options{IdleTimeout: 50 * time.Millisecond})
	c := dial(t, srv)
	c.expect(421)
	if _, err := c.tp.ReadLine(); err == nil {
		t.Error("connection still open after the idle timeout")
	}
}

func TestMaxConnsRefusesWith421(t *testing.T) {
	for _, mode := range []TLSMode{TLSNone, TLSImplicit} {
		t.Run(mode.String(), func(t *testing.T) { testMaxConns(t, mode) })
	}
}

func testMaxConns(t *testing.T, mode TLSMode) {
	srv, _ := newServer(t, Options{MaxConns: 1, TLS: mode})
	first := dial(t, srv)
	second := dialNoGreet(t, srv)
	second.expect(421)
	first.must(221, "QUIT")
	// The slot frees once the first session has ended.
	waitFor(t, "first session gone", func() bool { return srv.Sessions() == 0 })
	dial(t, srv).login()
}

func code(c *rawClient) int {
	n, _ := c.read()
	return n
}

func TestMaxLoginsRefusesPASSWith421(t *testing.T) {
	srv, _ := newServer(t, Options{MaxLogins: 2})
	first := dial(t, srv)
	first.login()
	dial(t, srv).login()
	third := dial(t, srv) // the greeting comes: the limit is on logins
	third.must(331, "USER %s", DefaultUser)
	third.must(421, "PASS %s", DefaultPassword)
	if _, err := third.tp.ReadLine(); err == nil {
		t.Error("connection open after 421")
	}
	// USER again logs the first session out: its slot is free at once.
	first.must(331, "USER %s", DefaultUser)
	dial(t, srv).login()
	first.must(421, "PASS %s", DefaultPassword)
	if got := srv.Logins(); got != 3 {
		t.Errorf("Logins() = %d, want 3", got)
	}
}

func TestMaxLoginsCode530(t *testing.T) {
	srv, _ := newServer(t, Options{MaxLogins: 1, MaxLoginsCode: 530})
	dial(t, srv).login()
	second := dial(t, srv)
	second.must(331, "USER %s", DefaultUser)
	second.must(530, "PASS %s", DefaultPassword)
	if _, err := second.tp.ReadLine(); err == nil { // proftpd disconnects too
		t.Error("connection open after the 530")
	}
}

func TestRestartOnTheSameAddr(t *testing.T) {
	dir := t.TempDir()
	first := NewServer(dir, Options{Logf: t.Logf})
	addr := first.Addr
	c := dial(t, first)
	c.must(331, "USER test")
	first.Close()
	second := NewUnstartedServer(dir, Options{Logf: t.Logf})
	second.Addr = addr
	second.Start()
	t.Cleanup(second.Close)
	if second.Addr != addr {
		t.Fatalf("restarted on %s, want %s", second.Addr, addr)
	}
	c = dial(t, second)
	c.must(331, "USER test")
	c.must(230, "PASS test")
}
