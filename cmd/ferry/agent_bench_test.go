package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestAgentWatchBenchmark measures the agent on a big watched tree (the
// agent issue's performance figures): 50,000 files in 5,000 folders pushed
// once, then an agent watching it. It reports how long the watches took,
// the delay from a file's write to its arrival on the server (median and
// p95 of 20 edits), the FTP commands a one-file change costs (on the
// project's test server, which counts them), and the agent's CPU and memory
// over a minute of idleness. It is a benchmark, not a test: it runs only
// with FERRY_AGENT_BENCH=1 (make bench-agent), and takes a few minutes.
// FERRY_AGENT_BENCH_SERVER=vsftpd (or pure-ftpd, proftpd) runs it against a
// real server; the command count is then not available.
func TestAgentWatchBenchmark(t *testing.T) {
	if os.Getenv("FERRY_AGENT_BENCH") != "1" {
		t.Skip("a benchmark: set FERRY_AGENT_BENCH=1 (make bench-agent)")
	}
	folders, perFolder := 5000, 10
	if n, err := strconv.Atoi(os.Getenv("FERRY_AGENT_BENCH_FOLDERS")); err == nil && n > 0 {
		folders = n
	}
	kind := os.Getenv("FERRY_AGENT_BENCH_SERVER")
	if kind == "" {
		kind = "ftptest"
	}
	dir := t.TempDir()
	local := filepath.Join(dir, "tree")
	for f := range folders {
		d := filepath.Join(local, fmt.Sprintf("d%02d", f%50), fmt.Sprintf("f%04d", f))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range perFolder {
			if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("file%02d.txt", i)), []byte(fmt.Sprintf("%d/%d\n", f, i)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	var (
		mu       gosync.Mutex
		commands []string
		counting bool
	)
	var url, root string
	if kind == "ftptest" {
		root = t.TempDir()
		srv := ftptest.NewServer(root, ftptest.Options{User: testUser, Password: testPassword,
			Hook: func(_ *ftptest.Session, cmd, arg string) bool {
				mu.Lock()
				if counting && cmd != "" {
					commands = append(commands, strings.TrimSpace(cmd+" "+arg))
				}
				mu.Unlock()
				return false
			}})
		t.Cleanup(srv.Close)
		url = fmt.Sprintf("ftp://%s:%s@%s/www", testUser, testPassword, viaProxy(t, srv.Addr))
	} else {
		srv := ftpd.Start(t, kind, ftpd.Options{})
		root, url = srv.Root, fmt.Sprintf("ftp://%s:%s@%s/www", srv.User, srv.Password, viaProxy(t, srv.Addr()))
	}
	// FERRY_BIN: the ferry binary to measure (make bench-agent builds
	// bin/ferry); this test binary otherwise.
	bin := os.Getenv("FERRY_BIN")
	if bin == "" {
		bin = "ferry"
	}
	statePath := filepath.Join(dir, "state.db")
	start := time.Now()
	if out, err := exec.Command(bin, "push", "-q", "--parallel", "8", "--state", statePath, local, url).CombinedOutput(); err != nil {
		t.Fatalf("initial push: %v\n%s", err, out)
	}
	t.Logf("initial push of %d files in %d folders to %s: %v", folders*perFolder, folders, kind, time.Since(start).Round(time.Millisecond))

	config := filepath.Join(dir, "ferry.json")
	os.WriteFile(config, []byte(fmt.Sprintf(`{"state": %q, "jobs": [
		{"name": "big", "local": %q, "remote": %q, "mode": "push", "delete": true, "watch": true}]}`, statePath, local, url)), 0o644)
	agentStart := time.Now()
	agent := startAgentProc(t, bin, config)
	eventually(t, "watches in place", 120*time.Second, func() bool { return strings.Contains(agent.log(), `msg=watching`) })
	t.Logf("agent start to watches in place: %v; %s", time.Since(agentStart).Round(time.Millisecond), grepLine(agent.log(), "msg=watching"))
	// Let the start-up runs (the first one and the catch-up after the
	// watches) finish before measuring.
	eventually(t, "start-up runs done", 300*time.Second, func() bool {
		return strings.Count(agent.log(), "msg=run ") >= 2
	})

	rng := rand.New(rand.NewPCG(1, 2))
	var delays []time.Duration
	var perChange []int
	for i := range 20 {
		f := rng.IntN(folders)
		rel := filepath.Join(fmt.Sprintf("d%02d", f%50), fmt.Sprintf("f%04d", f), fmt.Sprintf("file%02d.txt", rng.IntN(perFolder)))
		body := fmt.Sprintf("edit %d at %d\n", i, time.Now().UnixNano())
		mu.Lock()
		commands, counting = nil, true
		mu.Unlock()
		t0 := time.Now()
		if err := os.WriteFile(filepath.Join(local, rel), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(root, "www", rel)
		for {
			if got, err := os.ReadFile(target); err == nil && string(got) == body {
				break
			}
			if time.Since(t0) > 30*time.Second {
				t.Fatalf("edit %d of %s did not arrive within 30 s", i, rel)
			}
			time.Sleep(time.Millisecond)
		}
		delays = append(delays, time.Since(t0))
		time.Sleep(300 * time.Millisecond) // the run's last replies (mtime, state) finish
		mu.Lock()
		counting = false
		perChange = append(perChange, len(commands))
		if i == 0 && kind == "ftptest" {
			t.Logf("FTP commands of one change: %q", commands)
		}
		mu.Unlock()
	}
	slices.Sort(delays)
	t.Logf("write to arrival over %d edits (debounce 500ms): median %v, p95 %v, max %v",
		len(delays), delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)*95/100].Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond))
	if kind == "ftptest" {
		slices.Sort(perChange)
		t.Logf("FTP commands per one-file change: median %d, min %d, max %d", perChange[len(perChange)/2], perChange[0], perChange[len(perChange)-1])
	}

	pid := agent.cmd.Process.Pid
	cpu0 := cpuTicks(t, pid)
	idleFrom := time.Now()
	time.Sleep(60 * time.Second)
	cpu1 := cpuTicks(t, pid)
	idle := time.Since(idleFrom)
	t.Logf("idle over %v: CPU %.2f%% of a core; %s", idle.Round(time.Second),
		100*float64(cpu1-cpu0)/100/idle.Seconds(), memLine(t, pid))
	code, _ := agent.stop(t, 20*time.Second)
	if code != 0 {
		t.Errorf("agent exit %d", code)
	}
}

// viaProxy starts FERRY_AGENT_BENCH_PROXY, when set, in front of the
// server at addr and returns the address to use instead. The variable is a
// command line in which {server} stands for addr and {addrfile} for a file
// where the proxy writes its own host:port once it listens; e.g. a delay
// line that adds 20 ms of round trip:
//
//	FERRY_AGENT_BENCH_PROXY='wan -rtt 20ms -server {server} -addr-file {addrfile}'
func viaProxy(t *testing.T, addr string) string {
	tmpl := os.Getenv("FERRY_AGENT_BENCH_PROXY")
	if tmpl == "" {
		return addr
	}
	addrFile := filepath.Join(t.TempDir(), "proxy-addr")
	args := strings.Fields(strings.NewReplacer("{server}", addr, "{addrfile}", addrFile).Replace(tmpl))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	var got string
	eventually(t, "the proxy listening", 10*time.Second, func() bool {
		b, err := os.ReadFile(addrFile)
		got = strings.TrimSpace(string(b))
		return err == nil && got != ""
	})
	t.Logf("through %s (%s)", tmpl, got)
	return got
}

func grepLine(log, s string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// cpuTicks returns the process's user+system CPU time in clock ticks
// (USER_HZ, 100 on Linux).
func cpuTicks(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(fields[11], 10, 64)
	sy, _ := strconv.ParseInt(fields[12], 10, 64)
	return u + sy
}

func memLine(t *testing.T, pid int) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") {
			out = append(out, strings.Join(strings.Fields(l), " "))
		}
	}
	return strings.Join(out, ", ")
}
