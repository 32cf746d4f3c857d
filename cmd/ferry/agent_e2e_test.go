package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// The agent tests run the ferry binary (this test binary, through
// testscript's PATH entry) as a real background process, so signals reach
// it as they would under systemd.

// agentServer is the FTP server an agent test syncs with: the project's
// test server or a real one.
type agentServer struct {
	url  string // ftp://user:password@host:port (no trailing slash)
	root string // the served folder on disk
	put  func(t *testing.T, rel string, data []byte)
}

func startAgentServer(t *testing.T, kind string) agentServer {
	t.Helper()
	if kind == "ftptest" {
		root := t.TempDir()
		srv := ftptest.NewServer(root, ftptest.Options{User: testUser, Password: testPassword})
		t.Cleanup(srv.Close)
		return agentServer{
			url: fmt.Sprintf("ftp://%s:%s@%s", testUser, testPassword, srv.Addr), root: root,
			put: func(t *testing.T, rel string, data []byte) { writeLocal(t, filepath.Join(root, rel), data) },
		}
	}
	srv := ftpd.Start(t, kind, ftpd.Options{})
	return agentServer{
		url: strings.TrimSuffix(srv.URL(), "/"), root: srv.Root,
		put: func(t *testing.T, rel string, data []byte) { srv.WriteFile(t, rel, data, time.Now().Add(-time.Minute)) },
	}
}

func writeLocal(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// agentProc is a running `ferry agent`.
type agentProc struct {
	cmd  *exec.Cmd
	mu   gosync.Mutex
	logs bytes.Buffer
	done chan struct{}
	err  error
}

func (p *agentProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *agentProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startAgentProc starts `bin agent --config config`; bin "" is ferry
// (this test binary, as testscript puts it on PATH).
func startAgentProc(t *testing.T, bin, config string) *agentProc {
	t.Helper()
	if bin == "" {
		bin = "ferry"
	}
	p := &agentProc{cmd: exec.Command(bin, "agent", "--config", config), done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p, p
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("agent log:\n%s", p.log())
		}
	})
	return p
}

// stop sends SIGTERM and returns the exit status and how long it took.
func (p *agentProc) stop(t *testing.T, within time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("the agent did not stop within %v of SIGTERM", within)
	}
	return p.cmd.ProcessState.ExitCode(), time.Since(start)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileIs(p, want string) func() bool {
	return func() bool {
		got, err := os.ReadFile(p)
		return err == nil && string(got) == want
	}
}

func gone(p string) func() bool {
	return func() bool {
		_, err := os.Lstat(p)
		return os.IsNotExist(err)
	}
}

// TestAgentEndToEnd is the agent issue's end-to-end test: watched push,
// scheduled pull and a two-way job in one agent against a real server;
// every change arrives within a few seconds; SIGHUP with a broken file
// keeps the old configuration; ferry status shows the runs; SIGTERM exits 0.
func TestAgentEndToEnd(t *testing.T) {
	for _, kind := range []string{"ftptest", "vsftpd"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			testAgentEndToEnd(t, kind)
		})
	}
}

func testAgentEndToEnd(t *testing.T, kind string) {
	srv := startAgentServer(t, kind)
	dir := t.TempDir()
	site, inbox, shared := filepath.Join(dir, "site"), filepath.Join(dir, "inbox"), filepath.Join(dir, "shared")
	writeLocal(t, filepath.Join(site, "a.txt"), []byte("a1"))
	writeLocal(t, filepath.Join(site, "gone.txt"), []byte("bye"))
	writeLocal(t, filepath.Join(site, "folder/inner.txt"), []byte("inner"))
	writeLocal(t, filepath.Join(shared, "local.txt"), []byte("from local"))
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	srv.put(t, "outbox/r1.txt", []byte("remote one"))
	srv.put(t, "shared/remote.txt", []byte("from remote"))
	config := filepath.Join(dir, "ferry.json")
	write := func(body string) {
		if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good := fmt.Sprintf(`{
  "state": %q,
  "grace": "3s",
  "log": {"level": "info", "format": "json"},
  "jobs": [
    {"name": "site", "local": %q, "remote": "%s/www", "mode": "push", "delete": true, "watch": true, "debounce": "100ms"},
    {"name": "inbox", "local": %q, "remote": "%s/outbox", "mode": "pull", "delete": true, "schedule": "@every 1s"},
    {"name": "shared", "local": %q, "remote": "%s/shared", "mode": "two-way", "watch": true, "debounce": "100ms", "schedule": "@every 1s"}
  ]
}`, filepath.Join(dir, "state", "state.db"), site, srv.url, inbox, srv.url, shared, srv.url)
	write(good)
	agent := startAgentProc(t, "", config)
	remote := func(rel string) string { return filepath.Join(srv.root, filepath.FromSlash(rel)) }
	const within = 10 * time.Second

	// Start-up runs.
	eventually(t, "start-up push", within, fileIs(remote("www/folder/inner.txt"), "inner"))
	eventually(t, "start-up pull", within, fileIs(filepath.Join(inbox, "r1.txt"), "remote one"))
	eventually(t, "start-up two-way up", within, fileIs(remote("shared/local.txt"), "from local"))
	eventually(t, "start-up two-way down", within, fileIs(filepath.Join(shared, "remote.txt"), "from remote"))

	// Watched changes, one by one.
	writeLocal(t, filepath.Join(site, "new.txt"), []byte("created"))
	eventually(t, "a created file", within, fileIs(remote("www/new.txt"), "created"))
	writeLocal(t, filepath.Join(site, "a.txt"), []byte("a2, longer"))
	eventually(t, "a modified file", within, fileIs(remote("www/a.txt"), "a2, longer"))
	if err := os.Remove(filepath.Join(site, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a deleted file", within, gone(remote("www/gone.txt")))
	writeLocal(t, filepath.Join(site, "sub/deeper/one.txt"), []byte("one"))
	writeLocal(t, filepath.Join(site, "sub/two.txt"), []byte("two"))
	eventually(t, "a new folder's files", within, func() bool {
		return fileIs(remote("www/sub/deeper/one.txt"), "one")() && fileIs(remote("www/sub/two.txt"), "two")()
	})
	writeLocal(t, filepath.Join(site, "sub/deeper/three.txt"), []byte("three"))
	eventually(t, "a file in a folder created after start", within, fileIs(remote("www/sub/deeper/three.txt"), "three"))
	if err := os.Rename(filepath.Join(site, "folder"), filepath.Join(site, "renamed")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a renamed folder", within, func() bool {
		return fileIs(remote("www/renamed/inner.txt"), "inner")() && gone(remote("www/folder"))()
	})
	writeLocal(t, filepath.Join(site, "renamed/after.txt"), []byte("after"))
	eventually(t, "a file in the renamed folder", within, fileIs(remote("www/renamed/after.txt"), "after"))

	// The scheduled pull brings a remote change down; two-way both ways.
	srv.put(t, "outbox/r2.txt", []byte("remote two"))
	eventually(t, "a remote change pulled on schedule", within, fileIs(filepath.Join(inbox, "r2.txt"), "remote two"))
	writeLocal(t, filepath.Join(shared, "local2.txt"), []byte("local two"))
	eventually(t, "two-way: a local change goes up", within, fileIs(remote("shared/local2.txt"), "local two"))
	srv.put(t, "shared/remote2.txt", []byte("remote two"))
	eventually(t, "two-way: a remote change comes down", within, fileIs(filepath.Join(shared, "remote2.txt"), "remote two"))
	// What the two-way job itself wrote into its watched folder does not
	// come back as a watch run: after the download, only schedule runs.
	downloaded := len(agent.log())
	// A negative check needs a window: several debounce periods and
	// schedule ticks. (Without the agent's own-write marks, a watch run
	// shows up here every time.)
	time.Sleep(1500 * time.Millisecond)
	for _, line := range strings.Split(agent.log()[downloaded:], "\n") {
		var rec struct{ Msg, Job, Trigger string }
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "run" && rec.Job == "shared" && rec.Trigger == "watch" {
			t.Errorf("the two-way job's own download triggered a watch run: %s", line)
		}
	}

	// SIGHUP with a broken file: refused, the old jobs keep running.
	write(`{"jobs": [`)
	agent.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the broken reload is logged", within, func() bool { return strings.Contains(agent.log(), "reload refused") })
	writeLocal(t, filepath.Join(site, "after-hup.txt"), []byte("still watching"))
	eventually(t, "a change after the refused reload", within, fileIs(remote("www/after-hup.txt"), "still watching"))
	write(good)

	// ferry status shows every job with its runs.
	out, err := exec.Command("ferry", "status", "--config", config, "--json").Output()
	if err != nil {
		t.Fatalf("ferry status: %v", err)
	}
	jobs := map[string]jobStatus{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var s jobStatus
		if err := json.Unmarshal([]byte(line), &s); err != nil {
			t.Fatalf("status line %q: %v", line, err)
		}
		jobs[s.Job] = s
	}
	if s := jobs["site"]; !s.Agent || s.Watch != "ok" || s.LastRun == nil || s.LastRun.Trigger != "watch" || s.LastRun.Result != "ok" {
		t.Errorf("status of site: %+v (last run %+v)", s, s.LastRun)
	}
	if s := jobs["inbox"]; s.LastRun == nil || s.NextRun == nil || s.Watch != "off" {
		t.Errorf("status of inbox: %+v", s)
	}
	if strings.Contains(string(out), testPassword) {
		t.Errorf("ferry status shows the password:\n%s", out)
	}
	text, _ := exec.Command("ferry", "status", "--config", config).Output()
	for _, want := range []string{"site  push", "watching:   ok", "last run:", "inbox  pull", "schedule:   @every 1s, next run"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("ferry status lacks %q:\n%s", want, text)
		}
	}

	// A second agent on the same state refuses to start.
	second := exec.Command("ferry", "agent", "--config", config)
	msg, _ := second.CombinedOutput()
	if second.ProcessState.ExitCode() != 1 || !strings.Contains(string(msg), "another agent runs on it") {
		t.Errorf("second agent: exit %d, %s", second.ProcessState.ExitCode(), msg)
	}

	code, took := agent.stop(t, 10*time.Second)
	if code != 0 {
		t.Errorf("agent exit status %d after SIGTERM, want 0", code)
	}
	t.Logf("SIGTERM to exit: %v", took)
	if strings.Contains(agent.log(), testPassword) {
		t.Errorf("the agent's log shows the password")
	}
}

// TestAgentStopDuringLargeUpload: SIGTERM while a big file is being sent
// exits 0 within the grace period (the transfer is cancelled, its
// temporary left for resuming), and the next start finishes the upload.
func TestAgentStopDuringLargeUpload(t *testing.T) {
	srv := startAgentServer(t, "ftptest")
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	big := bytes.Repeat([]byte("0123456789abcdef"), 24<<20/16) // 24 MiB
	writeLocal(t, filepath.Join(site, "big.bin"), big)
	config := filepath.Join(dir, "ferry.json")
	body := fmt.Sprintf(`{"state": %q, "grace": "1s", "jobs": [
		{"name": "site", "local": %q, "remote": "%s/www", "mode": "push", "bwlimit": "4M"}]}`,
		filepath.Join(dir, "state.db"), site, srv.url)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startAgentProc(t, "", config)
	temp := filepath.Join(srv.root, "www", ".big.bin.ferry-tmp")
	eventually(t, "the upload under way", 10*time.Second, func() bool {
		st, err := os.Stat(temp)
		return err == nil && st.Size() > 1<<20
	})
	code, took := agent.stop(t, 8*time.Second)
	if code != 0 || took > 4*time.Second {
		t.Errorf("SIGTERM during the upload: exit %d after %v, want 0 within the 1 s grace (and a little)", code, took)
	}
	if _, err := os.Stat(filepath.Join(srv.root, "www", "big.bin")); err == nil {
		t.Fatalf("big.bin is under its real name after an interrupted upload")
	}
	// The next start finishes it.
	startAgentProc(t, "", config)
	want := sha256.Sum256(big)
	eventually(t, "the upload finished after a restart", 30*time.Second, func() bool {
		got, err := os.ReadFile(filepath.Join(srv.root, "www", "big.bin"))
		return err == nil && sha256.Sum256(got) == want
	})
}

// TestAgentFileChangedDuringItsUpload: a watched file rewritten while its
// upload runs is never published torn, and the new version arrives (the
// upload fails as "changed during upload"; the watcher's event and the
// retry send it again).
func TestAgentFileChangedDuringItsUpload(t *testing.T) {
	srv := startAgentServer(t, "ftptest")
	dir := t.TempDir()
	site := filepath.Join(dir, "site")
	first := bytes.Repeat([]byte("A"), 8<<20)
	second := bytes.Repeat([]byte("B"), 8<<20+5)
	writeLocal(t, filepath.Join(site, "keep.txt"), []byte("k"))
	config := filepath.Join(dir, "ferry.json")
	body := fmt.Sprintf(`{"state": %q, "jobs": [
		{"name": "site", "local": %q, "remote": "%s/www", "mode": "push", "watch": true, "debounce": "100ms", "bwlimit": "4M"}]}`,
		filepath.Join(dir, "state.db"), site, srv.url)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	startAgentProc(t, "", config)
	final := filepath.Join(srv.root, "www", "big.bin")
	eventually(t, "the start-up run", 10*time.Second, fileIs(filepath.Join(srv.root, "www", "keep.txt"), "k"))
	writeLocal(t, filepath.Join(site, "big.bin"), first)
	temp := filepath.Join(srv.root, "www", ".big.bin.ferry-tmp")
	eventually(t, "the first version's upload under way", 10*time.Second, func() bool {
		st, err := os.Stat(temp)
		return err == nil && st.Size() > 1<<20
	})
	// Rewrite it in place while it is being read.
	f, err := os.OpenFile(filepath.Join(site, "big.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(second, 0)
	f.Close()
	// Until the new version is there, the real name never holds anything
	// but a complete version (here: nothing or the second one).
	want := string(second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := os.ReadFile(final)
		if err == nil {
			if string(got) == want {
				break
			}
			t.Fatalf("big.bin on the server is %d bytes starting %q: a torn or stale version was published", len(got), got[:1])
		}
		if time.Now().After(deadline) {
			t.Fatal("the new version did not arrive within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
