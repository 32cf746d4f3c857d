package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// zoneServer is a LIST-only server whose LIST and MDTM show local time and
// whose "MDTM time path" takes it: vsftpd with use_localtime=YES and a TZ
// for the daemon, or ftptest's double of it.
type zoneServer struct {
	url  string // ftp://user:password@host:port/
	root string // the served folder on disk
	// put writes a file on the server by other means than FTP.
	put func(t *testing.T, rel string, data []byte, mtime time.Time)
	// restart makes the server show another zone from now on: the daemon
	// restarted under another TZ.
	restart func(t *testing.T, tz string)
}

func startZoneServer(t *testing.T, kind, tz string) *zoneServer {
	t.Helper()
	if kind == "vsftpd" {
		opts := func(tz string) ftpd.Options {
			return ftpd.Options{Env: []string{"TZ=" + tz}, Extra: []string{"use_localtime=YES"}}
		}
		srv := ftpd.Start(t, "vsftpd", opts(tz))
		return &zoneServer{
			url: srv.URL(), root: srv.Root,
			put: func(t *testing.T, rel string, data []byte, mtime time.Time) {
				srv.WriteFile(t, rel, data, mtime)
			},
			restart: func(t *testing.T, tz string) { srv.Restart(t, opts(tz)) },
		}
	}
	loc := mustZone(t, tz)
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true, LocalTime: loc})
	t.Cleanup(srv.Close)
	return &zoneServer{
		url: srv.URL(), root: srv.Root,
		put: func(t *testing.T, rel string, data []byte, mtime time.Time) {
			writeAt(t, filepath.Join(srv.Root, rel), data, mtime)
		},
		restart: func(t *testing.T, tz string) { srv.SetLocalTime(mustZone(t, tz)) },
	}
}

func mustZone(t *testing.T, tz string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Skipf("no zone %s here: %v", tz, err)
	}
	return loc
}

func writeAt(t *testing.T, p string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// runSummary runs ferry with --json and returns its summary and warnings;
// the run must exit 0.
func runSummary(t *testing.T, args ...string) (summary map[string]any, warnings []string) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args[:1:1], append([]string{"--json"}, args[1:]...)...)
	if code := run(args, &out, &errOut); code != 0 {
		t.Fatalf("ferry %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("output line %q: %v", sc.Text(), err)
		}
		switch ev["event"] {
		case "summary":
			summary = ev
		case "warning":
			warnings = append(warnings, ev["message"].(string))
		}
	}
	if summary == nil {
		t.Fatalf("ferry %s: no summary in\n%s", strings.Join(args, " "), out.String())
	}
	return summary, warnings
}

func moved(summary map[string]any) (up, down int) {
	return int(summary["files_up"].(float64)), int(summary["files_down"].(float64))
}

// sameMTime fails unless the files at a and b carry the same mtime to the
// second (what FTP can set).
func sameMTime(t *testing.T, what, a, b string) {
	t.Helper()
	fa, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := os.Stat(b)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := fa.ModTime().Truncate(time.Second), fb.ModTime().Truncate(time.Second)
	if !ta.Equal(tb) {
		t.Errorf("%s: mtime %v, want %v (%v off)", what, tb.UTC(), ta.UTC(), tb.Sub(ta))
	}
}

// TestZoneLocalTimeServer is issue 11's time-zone "done means", against
// vsftpd with use_localtime=YES under TZ=Asia/Kolkata (+05:30, a half-hour
// zone) and ftptest's double of it: a push sets the right real mtimes on
// the server's disk, and a file put there by other means with the local
// file's time is taken as in step, not uploaded; a second push transfers
// nothing; a pull keeps the server's real mtimes; the daemon restarted
// under America/New_York, a push and a pull transfer nothing (the zone is
// measured again) and a new file gets its right mtime under the new zone.
// Before ferry measured the zone, "MDTM time path" set every mtime 5h30
// off, pulled files got mtimes 5h30 off, and the restart re-sent the tree.
func TestZoneLocalTimeServer(t *testing.T) {
	for _, kind := range []string{"ftptest", "vsftpd"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := startZoneServer(t, kind, "Asia/Kolkata")
			dir := t.TempDir()
			statePath := filepath.Join(dir, "state.db")
			local, pulled := filepath.Join(dir, "local"), filepath.Join(dir, "pulled")
			remote := srv.url + "site"
			onServer := func(rel string) string { return filepath.Join(srv.root, "site", filepath.FromSlash(rel)) }

			now := time.Now().Truncate(time.Second)
			files := map[string]time.Time{
				"recent.txt":   now.Add(-2 * time.Hour),
				"dir/week.txt": now.Add(-7 * 24 * time.Hour),
				"old.txt":      time.Date(2023, 5, 6, 7, 8, 9, 0, time.UTC), // LIST shows only the day
				"same.txt":     now.Add(-3 * time.Hour),
			}
			for rel, mt := range files {
				writeAt(t, filepath.Join(local, filepath.FromSlash(rel)), []byte("content of "+rel), mt)
			}
			srv.put(t, "site/same.txt", []byte("content of same.txt"), files["same.txt"])
			srv.put(t, "site/theirs.txt", []byte("put there by other means"), now.Add(-5*time.Hour))

			sum, _ := runSummary(t, "push", "--state", statePath, local, remote)
			if up, _ := moved(sum); up != 3 {
				t.Errorf("first push: %d files up, want 3 (same.txt is in step already)", up)
			}
			for rel := range files {
				sameMTime(t, "after push, on the server: "+rel, filepath.Join(local, rel), onServer(rel))
			}
			if sum, _ := runSummary(t, "push", "--state", statePath, local, remote); sum["files_up"].(float64) != 0 {
				t.Errorf("second push: %v files up, want 0", sum["files_up"])
			}

			sum, _ = runSummary(t, "pull", "--state", statePath, remote, pulled)
			if _, down := moved(sum); down != 5 {
				t.Errorf("pull: %d files down, want 5", down)
			}
			for _, rel := range []string{"recent.txt", "dir/week.txt", "old.txt", "same.txt", "theirs.txt"} {
				sameMTime(t, "after pull, here: "+rel, onServer(rel), filepath.Join(pulled, rel))
			}

			srv.restart(t, "America/New_York")
			sum, warnings := runSummary(t, "push", "--state", statePath, local, remote)
			if up, _ := moved(sum); up != 0 {
				t.Errorf("push after the restart in another zone: %d files up, want 0", up)
			}
			if !strings.Contains(strings.Join(warnings, "\n"), "time zone moved") {
				t.Errorf("no warning that the server's time zone moved: %q", warnings)
			}
			if sum, _ := runSummary(t, "pull", "--state", statePath, remote, pulled); sum["files_down"].(float64) != 0 {
				t.Errorf("pull after the restart: %v files down, want 0", sum["files_down"])
			}
			writeAt(t, filepath.Join(local, "new.txt"), []byte("new"), now.Add(-time.Hour))
			if sum, _ := runSummary(t, "push", "--state", statePath, local, remote); sum["files_up"].(float64) != 1 {
				t.Errorf("push of a new file: %v files up, want 1", sum["files_up"])
			}
			sameMTime(t, "new file on the server after the restart", filepath.Join(local, "new.txt"), onServer("new.txt"))
			if sum, _ := runSummary(t, "push", "--state", statePath, local, remote); sum["files_up"].(float64) != 0 {
				t.Errorf("last push: %v files up, want 0", sum["files_up"])
			}
		})
	}
}

// TestZoneTwoWayNewer: on a server west of UTC that lists local time, a
// file changed on both sides keeps the newer version under its name. Read
// as UTC, the server's edit (ten minutes ago) looked five hours old, older
// than the local edit of an hour ago, and the local version won.
func TestZoneTwoWayNewer(t *testing.T) {
	for _, kind := range []string{"ftptest", "vsftpd"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			srv := startZoneServer(t, kind, "America/New_York")
			dir := t.TempDir()
			statePath := filepath.Join(dir, "state.db")
			local := filepath.Join(dir, "local")
			remote := srv.url + "two"
			now := time.Now().Truncate(time.Second)
			writeAt(t, filepath.Join(local, "c.txt"), []byte("first"), now.Add(-48*time.Hour))
			runSummary(t, "sync", "--state", statePath, local, remote)

			writeAt(t, filepath.Join(local, "c.txt"), []byte("local edit"), now.Add(-time.Hour))
			srv.put(t, "two/c.txt", []byte("server edit, newer"), now.Add(-10*time.Minute))
			runSummary(t, "sync", "--state", statePath, local, remote)
			got, err := os.ReadFile(filepath.Join(local, "c.txt"))
			if err != nil || string(got) != "server edit, newer" {
				t.Errorf("c.txt after the conflict = %q, %v; want the server's newer edit", got, err)
			}
			copies, _ := filepath.Glob(filepath.Join(local, "c.conflict-*.txt"))
			if len(copies) != 1 {
				t.Fatalf("conflict copies %q, want one", copies)
			}
			if b, _ := os.ReadFile(copies[0]); string(b) != "local edit" {
				t.Errorf("conflict copy holds %q, want the local edit", b)
			}
		})
	}
}

// istServer is ftptest's vsftpd double in +05:30, with a hook.
func istServer(t *testing.T, hook func(s *ftptest.Session, cmd, arg string) bool) *ftptest.Server {
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true,
		LocalTime: time.FixedZone("IST", 5*3600+1800), Hook: hook})
	t.Cleanup(srv.Close)
	return srv
}

// TestZoneFirstPushIntoNewFolder: the first push into a remote folder that
// does not exist yet measures the zone in its nearest ancestor, so even the
// first files get their right mtimes.
func TestZoneFirstPushIntoNewFolder(t *testing.T) {
	srv := istServer(t, nil)
	dir := t.TempDir()
	mt := time.Now().Add(-time.Hour).Truncate(time.Second)
	writeAt(t, filepath.Join(dir, "src", "a.txt"), []byte("a"), mt)
	runSummary(t, "push", "--state", filepath.Join(dir, "state.db"), filepath.Join(dir, "src"), srv.URL()+"new/deep")
	sameMTime(t, "a.txt on the server", filepath.Join(dir, "src", "a.txt"), filepath.Join(srv.Root, "new", "deep", "a.txt"))
	if names, _ := os.ReadDir(srv.Root); len(names) != 1 {
		t.Errorf("server root holds %d entries, want only new/", len(names))
	}
}

// TestZoneReadOnlyWarnsOnce: an account that may not make the probe folder
// cannot have its zone measured: the first run warns, the profile records
// it, and later runs neither try again nor warn.
func TestZoneReadOnlyWarnsOnce(t *testing.T) {
	var mu gosync.Mutex
	mkds := 0
	srv := istServer(t, func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "MKD" && strings.Contains(arg, ftp.ProbeDirPrefix) {
			mu.Lock()
			mkds++
			mu.Unlock()
			s.Reply(550, "Permission denied.")
			return true
		}
		return false
	})
	writeAt(t, filepath.Join(srv.Root, "out", "r.txt"), []byte("r"), time.Now().Add(-time.Hour))
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	_, warnings := runSummary(t, "pull", "--state", statePath, srv.URL()+"out", filepath.Join(dir, "copy"))
	if w := strings.Join(warnings, "\n"); !strings.Contains(w, "could not be measured") || !strings.Contains(w, "550") {
		t.Errorf("first pull warnings %q, want the zone could not be measured (550)", warnings)
	}
	mu.Lock()
	first := mkds
	mkds = 0
	mu.Unlock()
	if first != 2 { // /out, then /
		t.Errorf("first pull tried %d probe folders, want 2 (the folder, then its parent)", first)
	}
	_, warnings = runSummary(t, "pull", "--state", statePath, srv.URL()+"out", filepath.Join(dir, "copy"))
	mu.Lock()
	defer mu.Unlock()
	if len(warnings) != 0 || mkds != 0 {
		t.Errorf("second pull: warnings %q, %d probe folders tried; want none", warnings, mkds)
	}
}

// TestZoneMoveNotExplained: files whose listed times all moved by an hour
// while the server's zone did not (touched on the server) are changed
// files: the zone is measured again, found the same, and the push sends
// them, with a warning.
func TestZoneMoveNotExplained(t *testing.T) {
	srv := istServer(t, nil)
	dir := t.TempDir()
	statePath := filepath.Join(dir, "state.db")
	src := filepath.Join(dir, "src")
	now := time.Now().Truncate(time.Second)
	for _, n := range []string{"a", "b", "c"} {
		writeAt(t, filepath.Join(src, n), []byte(n), now.Add(-2*time.Hour))
	}
	runSummary(t, "push", "--state", statePath, src, srv.URL()+"site")
	for _, n := range []string{"a", "b", "c"} {
		p := filepath.Join(srv.Root, "site", n)
		if err := os.Chtimes(p, now.Add(-time.Hour), now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	sum, warnings := runSummary(t, "push", "--state", statePath, src, srv.URL()+"site")
	if up, _ := moved(sum); up != 3 {
		t.Errorf("push: %d files up, want the 3 touched", up)
	}
	if w := strings.Join(warnings, "\n"); !strings.Contains(w, "the server's time zone moved by 0s: taken as changed") {
		t.Errorf("warnings %q, want the unexplained move", warnings)
	}
}
