package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferrysync/ferry/agent/web"
)

// TestAgentStatusPageTakenAddress: an http.listen address another process
// holds stops start-up as a bad configuration (exit 2) naming the field.
func TestAgentStatusPageTakenAddress(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	config := filepath.Join(dir, "ferry.json")
	body := fmt.Sprintf(`{"state": %q, "http": {"listen": %q}, "jobs": [
		{"name": "site", "local": %q, "remote": "ftp://u@127.0.0.1:1/www", "mode": "push"}]}`,
		filepath.Join(dir, "state.db"), taken.Addr().String(), dir)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	code := run([]string{"agent", "--config", config}, io.Discard, &stderr)
	want := fmt.Sprintf("ferry: %s: http.listen: listen tcp %s: bind: address already in use", config, taken.Addr())
	if code != 2 || !strings.Contains(stderr.String(), want) {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, stderr.String(), want)
	}
}

// TestAgentStatusPage runs the agent binary with a status page on a free
// loopback port and a two-way job whose first run keeps a real conflict
// (ferry's test FTP server): /api/jobs, / and /metrics show it, and "run
// now" from the page's CSRF token makes a run.
func TestAgentStatusPage(t *testing.T) {
	srv := startAgentServer(t, "ftptest")
	dir := t.TempDir()
	shared := filepath.Join(dir, "shared")
	writeLocal(t, filepath.Join(shared, "doc.txt"), []byte("the local version, longer"))
	srv.put(t, "shared/doc.txt", []byte("the remote version"))
	config := filepath.Join(dir, "ferry.json")
	body := fmt.Sprintf(`{"state": %q, "grace": "3s", "http": {"listen": "127.0.0.1:0"}, "jobs": [
		{"name": "shared", "local": %q, "remote": "%s/shared", "mode": "two-way"}]}`,
		filepath.Join(dir, "state.db"), shared, srv.url)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := startAgentProc(t, "", config)
	addr := regexp.MustCompile(`msg="status page" url=(http://127\.0\.0\.1:\d+)/`)
	var base string
	eventually(t, "the status page's address in the log", 10*time.Second, func() bool {
		m := addr.FindStringSubmatch(agent.log())
		if m != nil {
			base = m[1]
		}
		return m != nil
	})
	jobs := func() web.JobsJSON {
		var out web.JobsJSON
		resp, err := http.Get(base + "/api/jobs")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/jobs: %d, %v", resp.StatusCode, err)
		}
		return out
	}
	eventually(t, "the start-up run's kept conflict in /api/jobs", 10*time.Second, func() bool {
		j := jobs().Jobs
		return len(j) == 1 && j[0].LastRun != nil && j[0].LastRun.Conflicts == 1 && j[0].LastRun.Result == "ok"
	})
	if strings.Contains(jobs().Jobs[0].Remote, testPassword) {
		t.Error("/api/jobs shows the password")
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	value := func(name, result string) float64 {
		for _, m := range fams[name].GetMetric() {
			ok := true
			for _, l := range m.GetLabel() {
				if l.GetName() == "job" && l.GetValue() != "shared" || l.GetName() == "result" && l.GetValue() != result {
					ok = false
				}
			}
			if ok {
				return m.GetCounter().GetValue()
			}
		}
		return -1
	}
	if v := value("ferry_conflicts_kept_total", ""); v != 1 {
		t.Errorf("ferry_conflicts_kept_total{job=shared} = %v, want 1", v)
	}
	if v := value("ferry_runs_total", "ok"); v != 1 {
		t.Errorf("ferry_runs_total{job=shared,result=ok} = %v, want 1", v)
	}

	page, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if !strings.Contains(string(html), "1 conflicts kept") {
		t.Errorf("the page does not show the kept conflict:\n%s", html)
	}
	csrf := regexp.MustCompile(`<meta name="ferry-csrf" content="([^"]+)">`).FindSubmatch(html)
	if csrf == nil {
		t.Fatalf("no CSRF token on the page")
	}
	req, _ := http.NewRequest("POST", base+"/api/jobs/shared/run", nil)
	req.Header.Set("Origin", base)
	req.Header.Set(web.CSRFHeader, string(csrf[1]))
	ran, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ran.Body.Close()
	if ran.StatusCode != http.StatusAccepted {
		t.Fatalf("run now: %d", ran.StatusCode)
	}
	eventually(t, "the manual run", 10*time.Second, func() bool {
		j := jobs().Jobs[0]
		return j.Runs == 2 && j.LastRun != nil && j.LastRun.Trigger == "manual"
	})
	if code, _ := agent.stop(t, 10*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}
