package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/state"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestProbeIsWhatRunsUse: the profile `ferry probe` stores is the one a
// run loads. After probing a vsftpd-shaped server in +05:30, the first push
// makes no probe of its own (no MDTM read, no probe folder) and sets the
// right mtimes; the stored profile has the method and the zone.
func TestProbeIsWhatRunsUse(t *testing.T) {
	var mu gosync.Mutex
	var probeCmds []string
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{
		DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true, LocalTime: time.FixedZone("IST", 5*3600+1800),
		Hook: func(s *ftptest.Session, cmd, arg string) bool {
			if cmd == "MKD" && strings.Contains(arg, ftp.ProbeDirPrefix) || cmd == "MDTM" && !strings.Contains(arg, " ") {
				mu.Lock()
				probeCmds = append(probeCmds, cmd+" "+arg)
				mu.Unlock()
			}
			return false
		},
	})
	t.Cleanup(srv.Close)
	taken := func() []string {
		mu.Lock()
		defer mu.Unlock()
		got := probeCmds
		probeCmds = nil
		return got
	}
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	var out, errOut bytes.Buffer
	if code := run([]string{"probe", "--state", statePath, srv.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("probe: exit %d: %s", code, errOut.String())
	}
	if !regexp.MustCompile(`(?m)^time zone +yes +listed \+05:30, MDTM \+05:30, set \+05:30`).MatchString(out.String()) {
		t.Errorf("probe output lacks the zone:\n%s", out.String())
	}
	taken()

	db, err := state.Open(context.Background(), statePath)
	if err != nil {
		t.Fatal(err)
	}
	data, _, ok, err := db.ServerProfile(context.Background(), srv.Addr+" "+ftptest.DefaultUser)
	db.Close()
	var prof ftp.Profile
	if err != nil || !ok || json.Unmarshal(data, &prof) != nil {
		t.Fatalf("stored profile: %s, %v, %v", data, ok, err)
	}
	want := ftp.Profile{MTime: ftp.MTimeMDTM, RenameReplaces: ftp.SupportYes, Zone: ftp.Zone{Measured: true, List: 19800, MDTM: 19800, Set: 19800}}
	if prof != want {
		t.Errorf("stored profile %+v, want %+v", prof, want)
	}

	src := filepath.Join(dir, "src")
	mt := time.Now().Add(-time.Hour).Truncate(time.Second)
	writeAt(t, filepath.Join(src, "a.txt"), []byte("a"), mt)
	if code := run([]string{"push", "-q", "--state", statePath, src, srv.URL() + "site"}, &out, &errOut); code != 0 {
		t.Fatalf("push: exit %d: %s", code, errOut.String())
	}
	if got := taken(); len(got) != 0 {
		t.Errorf("the push after the probe probed again: %q", got)
	}
	if fi, err := os.Stat(filepath.Join(srv.Root, "site", "a.txt")); err != nil || !fi.ModTime().Equal(mt) {
		t.Errorf("a.txt on the server: %v, %v; want %v", fi.ModTime(), err, mt)
	}
}

// TestProbeReadOnlyVsftpd: on a read-only vsftpd account with a limit of
// three connections per address, `ferry probe` exits 0 and says which
// checks it could not make and why, checks REST before RETR on an existing
// file and reports the limit; it changes nothing on the server.
func TestProbeReadOnlyVsftpd(t *testing.T) {
	srv := ftpd.Start(t, "vsftpd", ftpd.Options{Extra: []string{"write_enable=NO", "max_per_ip=3"}})
	srv.WriteFile(t, "data.bin", []byte("0123456789"), time.Time{})
	var out, errOut bytes.Buffer
	if code := run([]string{"probe", "--state", filepath.Join(t.TempDir(), "s.db"), srv.URL()}, &out, &errOut); code != 0 {
		t.Fatalf("probe: exit %d: %s", code, errOut.String())
	}
	for _, re := range []string{
		`(?m)^set mtime +unchecked +read-only\? .*550 Permission denied`,
		`(?m)^REST\+STOR +unchecked +read-only\?`,
		`(?m)^RNTO over +unchecked +read-only\?`,
		`(?m)^time zone +unchecked +read-only\?`,
		`(?m)^REST\+RETR +yes +REST 9, RETR of 10 bytes: 1 received`,
		`(?m)^connections +3 +accepted at once; number 4 refused: 421 `,
		`(?m)^listing +LIST +times to 1m`,
		`time zone not measured`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output lacks %s:\n%s", re, out.String())
		}
	}
	names, _ := os.ReadDir(srv.Root)
	if len(names) != 1 {
		t.Errorf("the server's folder holds %d entries, want only data.bin", len(names))
	}
}
