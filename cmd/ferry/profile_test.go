package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/state"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// probeReadBacks is how many MDTM reads the first run's probe makes on a
// vsftpd-shaped server: the zone probe reads its file's MDTM (the MDTM
// offset), reads back the "MDTM time path" it tried (the method) and reads
// the time it set back once more (the set offset).
const probeReadBacks = 3

// mdtmServer starts a vsftpd-shaped test server (no MLSD, no MFMT, times
// set with "MDTM time path") and returns it with a counter of the MDTM
// read-backs (the probe's "MDTM path") since the counter was last called.
func mdtmServer(t *testing.T) (*ftptest.Server, func() int) {
	var mu gosync.Mutex
	n := 0
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{
		DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true,
		Hook: func(s *ftptest.Session, cmd, arg string) bool {
			if cmd == "MDTM" && strings.HasPrefix(arg, "/") {
				mu.Lock()
				n++
				mu.Unlock()
			}
			return false
		},
	})
	t.Cleanup(srv.Close)
	return srv, func() int {
		mu.Lock()
		defer mu.Unlock()
		got := n
		n = 0
		return got
	}
}

// TestServerProfileRemembered: how a server sets mtimes is probed once and
// kept in the state cache. On a vsftpd-shaped server the probe reads the
// time back with MDTM; a later run pipelines the set-time command at once.
func TestServerProfileRemembered(t *testing.T) {
	srv, readBacks := mdtmServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	statePath := filepath.Join(dir, "state.db")
	push := func(name, body string, mt time.Time) {
		t.Helper()
		p := filepath.Join(src, name)
		os.WriteFile(p, []byte(body), 0o644)
		os.Chtimes(p, mt, mt)
		var out, errOut bytes.Buffer
		if code := run([]string{"push", "-q", "--state", statePath, src, srv.URL() + "site"}, &out, &errOut); code != 0 {
			t.Fatalf("push: exit %d: %s", code, errOut.String())
		}
	}
	push("a.txt", "a", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	if n := readBacks(); n != probeReadBacks {
		t.Errorf("first run: %d MDTM read-backs, want %d (the probe)", n, probeReadBacks)
	}
	push("b.txt", "b", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC))
	if n := readBacks(); n != 0 {
		t.Errorf("second run: %d MDTM read-backs, want 0 (method remembered)", n)
	}
	st, err := os.Stat(filepath.Join(srv.Root, "site", "b.txt"))
	if err != nil || !st.ModTime().Equal(time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("b.txt on the server: %v, %v", st.ModTime(), err)
	}

	// A remembered method the server no longer understands (MFMT here) is
	// probed again, and the file still gets its time.
	ctx := context.Background()
	db, err := state.Open(ctx, statePath)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(ftp.Profile{MTime: ftp.MTimeMFMT})
	if err := db.SaveServerProfile(ctx, srv.Addr+" "+ftptest.DefaultUser, data, time.Now()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	c := time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC)
	push("c.txt", "c", c)
	if st, err := os.Stat(filepath.Join(srv.Root, "site", "c.txt")); err != nil || !st.ModTime().Equal(c) {
		t.Errorf("c.txt after a stale profile: %v, %v; want %v", st.ModTime(), err, c)
	}
}

// TestReprobe: --reprobe ignores the remembered profile and probes again;
// the run after it uses what the new probe found.
func TestReprobe(t *testing.T) {
	srv, readBacks := mdtmServer(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	statePath := filepath.Join(dir, "state.db")
	for i, extra := range [][]string{nil, nil, {"--reprobe"}, nil} {
		p := filepath.Join(src, "f"+string(rune('a'+i)))
		os.WriteFile(p, []byte{byte(i)}, 0o644)
		mt := time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)
		os.Chtimes(p, mt, mt)
		var out, errOut bytes.Buffer
		args := append([]string{"push", "-q", "--state", statePath}, extra...)
		if code := run(append(args, src, srv.URL()+"site"), &out, &errOut); code != 0 {
			t.Fatalf("push %d: exit %d: %s", i, code, errOut.String())
		}
		got := readBacks()
		want := 0
		if i == 0 || extra != nil {
			want = probeReadBacks
		}
		if got != want {
			t.Errorf("push %d %v: %d MDTM read-backs, want %d", i, extra, got, want)
		}
	}
}
