package ftp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// target is one server the conformance suite runs against.
type target struct {
	kind string // "ftptest", "vsftpd", "pure-ftpd", "proftpd"
	cfg  ftp.Config
	root string // the served folder on disk: the client's "/"
	big  bool   // also round-trip a 100 MiB file
	// prefetch turns on data-port prefetch (Conn.SetPrefetch)
	prefetch bool
}

// names that must round-trip on every server (SPEC: empty files, spaces,
// unicode, leading dashes, brackets, dotfiles).
var conformanceNames = []string{
	"empty.txt",
	"héllo wörld ✓ 日本.txt",
	"-leading dash",
	"[brackets] (1).txt",
	".htaccess",
	"two  spaces",
}

func content(name string) []byte {
	if name == "empty.txt" {
		return nil
	}
	return bytes.Repeat([]byte(name+"\n"), 50)
}

// TestConformanceRealServers runs the suite against vsftpd, pure-ftpd and
// proftpd, plain and explicit TLS, passive and active.
func TestConformanceRealServers(t *testing.T) {
	for _, kind := range ftpd.Kinds() {
		for _, tlsOn := range []bool{false, true} {
			for _, active := range []bool{false, true} {
				name := kind + map[bool]string{false: "/plain", true: "/tls"}[tlsOn] + map[bool]string{false: "/passive", true: "/active"}[active]
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					srv := ftpd.Start(t, kind, ftpd.Options{TLS: tlsOn})
					cfg := ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password, Active: active, Timeout: 20 * time.Second}
					if tlsOn {
						cfg.TLS = ftp.TLSExplicit
						cfg.TLSConfig = srv.TLSConfig()
					}
					conformance(t, target{kind: kind, cfg: cfg, root: srv.Root, big: !active && !testing.Short(), prefetch: !active})
				})
			}
		}
	}
}

// TestConformanceFtptest runs the same suite against the project's own test
// server in the shapes of the real ones.
func TestConformanceFtptest(t *testing.T) {
	cases := []struct {
		name string
		opts ftptest.Options
		cfg  ftp.Config
	}{
		{"mlsd", ftptest.Options{}, ftp.Config{}},
		{"vsftpd-like", ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true}, ftp.Config{}},
		{"proftpd-like", ftptest.Options{RefuseRestSTOR: true}, ftp.Config{}},
		{"no-epsv", ftptest.Options{DisableEPSV: true}, ftp.Config{}},
		{"active", ftptest.Options{}, ftp.Config{Active: true}},
		{"explicit-tls", ftptest.Options{TLS: ftptest.TLSExplicit, RequireTLSResume: true}, ftp.Config{TLS: ftp.TLSExplicit}},
		{"implicit-tls", ftptest.Options{TLS: ftptest.TLSImplicit}, ftp.Config{TLS: ftp.TLSImplicit}},
		{"explicit-tls-active", ftptest.Options{TLS: ftptest.TLSExplicit}, ftp.Config{TLS: ftp.TLSExplicit, Active: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			srv := ftptest.NewServer(root, tc.opts)
			t.Cleanup(srv.Close)
			cfg := tc.cfg
			cfg.Addr, cfg.User, cfg.Password, cfg.Timeout = srv.Addr, ftptest.DefaultUser, ftptest.DefaultPassword, 10*time.Second
			if cfg.TLS != ftp.TLSOff {
				cfg.TLSConfig = srv.ClientTLSConfig()
			}
			k := "ftptest"
			if tc.opts.RefuseRestSTOR {
				k = "ftptest-norest"
			}
			conformance(t, target{kind: k, cfg: cfg, root: root, prefetch: true})
		})
	}
}

func conformance(t *testing.T, tg target) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := ftp.Dial(ctx, tg.cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	defer c.Close()
	// Exercise data-port prefetch: EPSV replies read late, around MDTM,
	// SIZE, renames and listings.
	c.SetPrefetch(tg.prefetch)

	if pwd, err := c.Pwd(ctx); err != nil || pwd != "/" {
		t.Fatalf("Pwd = %q, %v; want /", pwd, err)
	}
	mustDo(t, "Mkdir", c.Mkdir(ctx, "/dir one"))
	mustDo(t, "Mkdir nested", c.Mkdir(ctx, "/dir one/sub"))
	var fe *ftp.Error
	if err := c.Mkdir(ctx, "/dir one"); !errors.As(err, &fe) || fe.Code/100 != 5 {
		t.Errorf("Mkdir of an existing folder: got %v, want a 5xx *ftp.Error", err)
	}

	for _, name := range conformanceNames {
		n, err := c.Stor(ctx, "/dir one/"+name, 0, bytes.NewReader(content(name)))
		if err != nil || n != int64(len(content(name))) {
			t.Fatalf("Stor %q = %d, %v", name, n, err)
		}
	}
	checkDisk(t, filepath.Join(tg.root, "dir one"))

	// Listing: every name (dotfile included), right sizes and types.
	entries, err := c.List(ctx, "/dir one")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	got := map[string]ftp.Entry{}
	for _, e := range entries {
		got[e.Name] = e
	}
	for _, name := range conformanceNames {
		e, ok := got[name]
		if !ok {
			t.Errorf("List lacks %q; got %v", name, keys(got))
			continue
		}
		if e.Type != ftp.TypeFile || e.Size != int64(len(content(name))) {
			t.Errorf("List %q = %v %d bytes, want file of %d", name, e.Type, e.Size, len(content(name)))
		}
		if e.Precision == 0 || e.ModTime.IsZero() {
			t.Errorf("List %q has no time", name)
		}
	}
	if e, ok := got["sub"]; !ok || e.Type != ftp.TypeDir {
		t.Errorf("List: sub = %+v, want a folder", got["sub"])
	}
	if len(got) != len(conformanceNames)+1 {
		t.Errorf("List returned %d entries, want %d: %v", len(got), len(conformanceNames)+1, keys(got))
	}

	// Times: set, read back with MDTM, and on disk.
	t0 := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
	for _, name := range conformanceNames {
		p := "/dir one/" + name
		mustDo(t, "SetModTime "+name, c.SetModTime(ctx, p, t0))
		if mt, err := c.ModTime(ctx, p); err != nil || !mt.Equal(t0) {
			t.Errorf("ModTime %q = %v, %v; want %v", name, mt, err, t0)
		}
		if st, err := os.Stat(filepath.Join(tg.root, "dir one", name)); err != nil || !st.ModTime().Equal(t0) {
			t.Errorf("mtime on disk of %q = %v, %v; want %v", name, st.ModTime(), err, t0)
		}
		if size, err := c.Size(ctx, p); err != nil || size != int64(len(content(name))) {
			t.Errorf("Size %q = %d, %v", name, size, err)
		}
		var buf bytes.Buffer
		if _, err := c.Retr(ctx, p, 0, &buf); err != nil || !bytes.Equal(buf.Bytes(), content(name)) {
			t.Errorf("Retr %q: %v, %d bytes, equal=%v", name, err, buf.Len(), bytes.Equal(buf.Bytes(), content(name)))
		}
	}
	if st, err := c.Stat(ctx, "/dir one/.htaccess"); err != nil || st.Size != int64(len(content(".htaccess"))) || !st.ModTime.Equal(t0) {
		t.Errorf("Stat .htaccess = %+v, %v", st, err)
	}

	// Resume of a download.
	full := content("[brackets] (1).txt")
	var tail bytes.Buffer
	if _, err := c.Retr(ctx, "/dir one/[brackets] (1).txt", 100, &tail); err != nil || !bytes.Equal(tail.Bytes(), full[100:]) {
		t.Errorf("Retr from offset 100: %v, got %d bytes", err, tail.Len())
	}
	// Resume of an upload: proftpd (and the test server in its shape)
	// refuse REST before STOR and APPE with 451.
	refuses := tg.kind == "proftpd" || tg.kind == "ftptest-norest"
	half := len(full) / 2
	if _, err := c.Stor(ctx, "/dir one/resumed", 0, bytes.NewReader(full[:half])); err != nil {
		t.Fatalf("Stor first half: %v", err)
	}
	_, err = c.Stor(ctx, "/dir one/resumed", int64(half), bytes.NewReader(full[half:]))
	checkResume(t, "REST+STOR", err, refuses, filepath.Join(tg.root, "dir one", "resumed"), full)
	if _, err := c.Stor(ctx, "/dir one/appended", 0, bytes.NewReader(full[:half])); err != nil {
		t.Fatalf("Stor first half: %v", err)
	}
	_, err = c.Append(ctx, "/dir one/appended", bytes.NewReader(full[half:]))
	checkResume(t, "APPE", err, refuses, filepath.Join(tg.root, "dir one", "appended"), full)

	// Rename, over an existing name too, delete, rmdir, noop.
	mustDo(t, "Rename", c.Rename(ctx, "/dir one/empty.txt", "/dir one/renamed.txt"))
	mustDo(t, "Rename over existing", c.Rename(ctx, "/dir one/renamed.txt", "/dir one/-leading dash"))
	if b, err := os.ReadFile(filepath.Join(tg.root, "dir one", "-leading dash")); err != nil || len(b) != 0 {
		t.Errorf("after rename over: %d bytes, %v; want the empty file", len(b), err)
	}
	mustDo(t, "Delete", c.Delete(ctx, "/dir one/-leading dash"))
	if _, err := os.Stat(filepath.Join(tg.root, "dir one", "-leading dash")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Delete left the file: %v", err)
	}
	mustDo(t, "Rmdir", c.Rmdir(ctx, "/dir one/sub"))
	mustDo(t, "Noop", c.Noop(ctx))
	if _, err := c.Size(ctx, "/dir one/no such file"); !errors.As(err, &fe) || fe.Code != 550 {
		t.Errorf("Size of a missing file: %v, want 550", err)
	}

	smallUploads(ctx, t, c, tg)
	if tg.big {
		bigRoundTrip(ctx, t, c, tg)
	}
}

// smallUploads writes small files before the server's 150 (StorSmall),
// then checks their sizes and renames them into place in one Batch each,
// as the executor commits uploads; and a STOR the server refuses after
// the bytes went out leaves the connection in step.
func smallUploads(ctx context.Context, t *testing.T, c *ftp.Conn, tg target) {
	sizes := []int{0, 1, 4096, ftp.SmallUpload}
	var check, commit []string
	for i, n := range sizes {
		tmp := fmt.Sprintf("/.small%d.tmp", i)
		if got, err := c.StorSmall(ctx, tmp, pattern(n)); err != nil || got != int64(n) {
			t.Fatalf("StorSmall %d bytes = %d, %v", n, got, err)
		}
		check = append(check, "SIZE "+tmp)
		commit = append(commit, "RNFR "+tmp, fmt.Sprintf("RNTO /small%d", i))
	}
	reps, err := c.Batch(ctx, check...)
	if err != nil {
		t.Fatalf("Batch of SIZEs: %v", err)
	}
	for i, rep := range reps {
		if rep.Code != 213 || rep.Msg() != strconv.Itoa(sizes[i]) {
			t.Errorf("%s = %d %s, want 213 %d", check[i], rep.Code, rep.Msg(), sizes[i])
		}
	}
	reps, err = c.Batch(ctx, commit...)
	if err != nil {
		t.Fatalf("Batch of renames: %v", err)
	}
	for i, rep := range reps {
		if err := ftp.Expect(commit[i], rep); err != nil {
			t.Errorf("%s: %v", commit[i], err)
		}
	}
	for i, n := range sizes {
		b, err := os.ReadFile(filepath.Join(tg.root, fmt.Sprintf("small%d", i)))
		if err != nil || !bytes.Equal(b, pattern(n)) {
			t.Errorf("small%d on disk: %d bytes, %v; want %d", i, len(b), err, n)
		}
	}
	_, err = c.StorSmall(ctx, "/no such folder/x", pattern(40<<10))
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code/100 != 5 {
		t.Errorf("StorSmall into a missing folder: %v, want a 5xx *ftp.Error", err)
	}
	if c.Broken() {
		t.Fatal("connection broken by a refused StorSmall")
	}
	mustDo(t, "Noop after a refused StorSmall", c.Noop(ctx))
}

func checkResume(t *testing.T, what string, err error, refuses bool, diskPath string, full []byte) {
	t.Helper()
	var fe *ftp.Error
	if refuses {
		if !errors.As(err, &fe) || fe.Code != 451 {
			t.Errorf("%s on a server that refuses it: %v, want 451", what, err)
		}
		return
	}
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	if b, err := os.ReadFile(diskPath); err != nil || !bytes.Equal(b, full) {
		t.Errorf("%s: file on disk has %d bytes (%v), want %d equal bytes", what, len(b), err, len(full))
	}
}

// bigRoundTrip uploads and downloads 100 MiB and compares SHA-256 sums.
func bigRoundTrip(ctx context.Context, t *testing.T, c *ftp.Conn, tg target) {
	const size = 100 << 20
	h := sha256.New()
	src := io.TeeReader(io.LimitReader(rand.Reader, size), h)
	if n, err := c.Stor(ctx, "/big.bin", 0, src); err != nil || n != size {
		t.Fatalf("Stor 100 MiB = %d, %v", n, err)
	}
	want := h.Sum(nil)
	h2 := sha256.New()
	if n, err := c.Retr(ctx, "/big.bin", 0, h2); err != nil || n != size {
		t.Fatalf("Retr 100 MiB = %d, %v", n, err)
	}
	if !bytes.Equal(h2.Sum(nil), want) {
		t.Errorf("100 MiB round trip: SHA-256 differs")
	}
	f, err := os.Open(filepath.Join(tg.root, "big.bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h3 := sha256.New()
	io.Copy(h3, f)
	if !bytes.Equal(h3.Sum(nil), want) {
		t.Errorf("100 MiB on disk: SHA-256 differs")
	}
}

// checkDisk compares the uploaded names and bytes with what the server
// wrote to disk.
func checkDisk(t *testing.T, dir string) {
	t.Helper()
	for _, name := range conformanceNames {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(b, content(name)) {
			t.Errorf("on disk %q: %d bytes, %v; want %d", name, len(b), err, len(content(name)))
		}
	}
}

func mustDo(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func keys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
