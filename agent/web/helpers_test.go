package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/agent/web"
	ferrysync "github.com/ferrysync/ferry/sync"
)

// fakeRunner stands in for the FTP side: each run of a job returns what
// result says for it (nil: an empty, successful run), after hold (when
// set) lets it go.
type fakeRunner struct {
	mu     gosync.Mutex
	runs   map[string][]string // job: the triggers of its runs, in order
	result func(job string, n int, r agent.Run) (*ferrysync.Result, error)
}

func (f *fakeRunner) Run(ctx context.Context, jc *agent.JobConfig, r agent.Run) (*ferrysync.Result, error) {
	f.mu.Lock()
	if f.runs == nil {
		f.runs = map[string][]string{}
	}
	f.runs[jc.Name()] = append(f.runs[jc.Name()], r.Trigger)
	n := len(f.runs[jc.Name()])
	result := f.result
	f.mu.Unlock()
	if result == nil {
		return &ferrysync.Result{}, nil
	}
	return result(jc.Name(), n, r)
}

// count is how many runs job has had.
func (f *fakeRunner) count(job string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.runs[job])
}

// testAgent is an agent on a fake runner with jobs "shared" (two-way)
// and "site" (push), over temporary folders, and its handler.
type testAgent struct {
	a      *agent.Agent
	runner *fakeRunner
	h      *web.Handler
}

func newConfig(t *testing.T, extra string) *agent.Config {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{"site", "shared"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	body := fmt.Sprintf(`{"state": %q, %s "jobs": [
		{"name": "site", "local": %q, "remote": "ftp://u@127.0.0.1:1/site", "mode": "push", "schedule": "@hourly"},
		{"name": "shared", "local": %q, "remote": "ftp://u@127.0.0.1:1/shared", "mode": "two-way"}]}`,
		filepath.Join(dir, "state.db"), extra, filepath.Join(dir, "site"), filepath.Join(dir, "shared"))
	cfg, err := agent.Parse(filepath.Join(dir, "ferry.json"), []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startTestAgent runs an agent on f with token (may be "") until the test
// ends, and waits for both start-up runs.
func startTestAgent(t *testing.T, f *fakeRunner, token string) *testAgent {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	a := agent.New(newConfig(t, ""), f, agent.NewRegistry(nil, log), log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		a.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	ta := &testAgent{a: a, runner: f, h: web.New(a, web.Options{Token: token, Log: log})}
	ta.waitRuns(t, "site", 1)
	ta.waitRuns(t, "shared", 1)
	return ta
}

// waitRuns waits until job has finished n runs (as the registry shows).
func (ta *testAgent) waitRuns(t *testing.T, job string, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s has finished %d runs", job, n), func() bool {
		st, ok := ta.a.Registry().Get(job)
		return ok && st.Runs >= n && !st.Running
	})
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// do sends a request to the handler; host is its Host header.
func (ta *testAgent) do(t *testing.T, method, host, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = host
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	ta.h.ServeHTTP(w, req)
	return w
}

var csrfMeta = regexp.MustCompile(`<meta name="ferry-csrf" content="([^"]+)">`)

// csrf reads the CSRF token from the status page.
func (ta *testAgent) csrf(t *testing.T, header http.Header) string {
	t.Helper()
	w := ta.do(t, "GET", "127.0.0.1:8484", "/", header)
	m := csrfMeta.FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("GET / = %d without a CSRF token:\n%s", w.Code, w.Body)
	}
	return m[1]
}

func body(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func contains(s string, subs ...string) string {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return sub
		}
	}
	return ""
}
