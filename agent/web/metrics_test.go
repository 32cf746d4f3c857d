package web_test

import (
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/agent/web"
)

// metricValue returns the value of the sample of family name whose labels
// include want, and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetricsMatchKnownRuns: /metrics, read with Prometheus's own text
// parser, counts exactly the runs the fake runner made.
func TestMetricsMatchKnownRuns(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ta := startTestAgent(t, knownRuns(release), "")
	ta.a.RunNow("site")
	ta.waitRuns(t, "site", 2) // site: ok (2 up, 200 B), partial (3 up, 300 B, 1 deleted, 1 error)
	ta.a.RunNow("site")
	waitFor(t, "the third run's transfer in flight", func() bool {
		st, _ := ta.a.Registry().Get("site")
		return len(st.Transfers) == 1
	})
	ta.a.RunNow("site") // waits behind the third run
	waitFor(t, "a manual run queued", func() bool {
		st, _ := ta.a.Registry().Get("site")
		return len(st.Queued) == 1
	})

	w := ta.do(t, "GET", "127.0.0.1:8484", "/metrics", nil)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", w.Code)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(w.Body.String()))
	if err != nil {
		t.Fatalf("parsing /metrics: %v\n%s", err, w.Body)
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"ferry_runs_total", map[string]string{"job": "site", "result": "ok"}, 1},
		{"ferry_runs_total", map[string]string{"job": "site", "result": "partial"}, 1},
		{"ferry_runs_total", map[string]string{"job": "site", "result": "failed"}, 0},
		{"ferry_runs_total", map[string]string{"job": "shared", "result": "ok"}, 1},
		{"ferry_files_transferred_total", map[string]string{"job": "site", "direction": "up"}, 5},
		{"ferry_files_transferred_total", map[string]string{"job": "site", "direction": "down"}, 0},
		{"ferry_files_transferred_total", map[string]string{"job": "shared", "direction": "down"}, 2},
		{"ferry_bytes_transferred_total", map[string]string{"job": "site", "direction": "up"}, 500},
		{"ferry_bytes_transferred_total", map[string]string{"job": "shared", "direction": "down"}, 20},
		{"ferry_files_deleted_total", map[string]string{"job": "site"}, 1},
		{"ferry_errors_total", map[string]string{"job": "site"}, 1},
		{"ferry_errors_total", map[string]string{"job": "shared"}, 0},
		{"ferry_conflicts_kept_total", map[string]string{"job": "shared"}, 2},
		{"ferry_conflicts_kept_total", map[string]string{"job": "site"}, 0},
		{"ferry_run_duration_seconds", map[string]string{"job": "site"}, 2},
		{"ferry_run_duration_seconds", map[string]string{"job": "shared"}, 1},
		{"ferry_transfers_in_flight", map[string]string{"job": "site"}, 1},
		{"ferry_transfers_in_flight", map[string]string{"job": "shared"}, 0},
		{"ferry_queued_triggers", map[string]string{"job": "site"}, 1},
		{"ferry_job_running", map[string]string{"job": "site"}, 1},
		{"ferry_job_problem", map[string]string{"job": "site"}, 0},
		{"ferry_watch_state", map[string]string{"job": "site", "state": "off"}, 1},
		{"ferry_watch_state", map[string]string{"job": "site", "state": "degraded"}, 0},
	}
	for _, c := range checks {
		got, ok := metricValue(fams, c.name, c.labels)
		if !ok || got != c.want {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, name := range []string{"ferry_runs_total", "ferry_files_transferred_total", "ferry_conflicts_kept_total"} {
		if fams[name].GetType() != dto.MetricType_COUNTER {
			t.Errorf("%s is a %v, want a counter", name, fams[name].GetType())
		}
	}
	if fams["ferry_run_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Errorf("ferry_run_duration_seconds is not a histogram")
	}
	st, _ := ta.a.Registry().Get("site")
	if got, ok := metricValue(fams, "ferry_last_success_timestamp_seconds", map[string]string{"job": "site"}); !ok ||
		time.Unix(0, int64(got*1e9)).Sub(st.LastSuccess).Abs() > time.Millisecond {
		t.Errorf("last success %v (present %v), want %v", got, ok, st.LastSuccess)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

// TestListen: the status page binds only where configured; a taken
// address and a bad token file are configuration errors naming the field.
func TestListen(t *testing.T) {
	cfg := newConfig(t, "")
	if srv, err := web.Listen(cfg, nil, nil); srv != nil || err != nil {
		t.Fatalf("Listen without http.listen = %v, %v; want nothing", srv, err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg = newConfig(t, `"http": {"listen": "`+taken.Addr().String()+`"},`)
	_, err = web.Listen(cfg, nil, nil)
	var ce *agent.ConfigError
	if !errors.As(err, &ce) || ce.Field != "http.listen" || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Listen on a taken address = %v, want a ConfigError on http.listen", err)
	}

	dir := t.TempDir()
	short, good := filepath.Join(dir, "short"), filepath.Join(dir, "good")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	os.WriteFile(good, []byte("  0123456789abcdefXYZ  \nsecond line\n"), 0o600)
	for file, want := range map[string]string{
		filepath.Join(dir, "missing"): "no such file",
		short:                         "the token has 3 characters",
	} {
		cfg = newConfig(t, `"http": {"listen": "127.0.0.1:0", "allow_remote": true, "token_file": "`+file+`"},`)
		_, err := web.Listen(cfg, nil, nil)
		if !errors.As(err, &ce) || ce.Field != "http.token_file" || !strings.Contains(err.Error(), want) {
			t.Errorf("token file %s: %v, want a ConfigError on http.token_file saying %q", filepath.Base(file), err, want)
		}
	}

	// A real server on a free loopback port, with the token's first line.
	ta := startTestAgent(t, &fakeRunner{}, "")
	cfg = newConfig(t, `"http": {"listen": "127.0.0.1:0", "token_file": "`+good+`"},`)
	srv, err := web.Listen(cfg, ta.a, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve() }()
	get := func(token string) int {
		req, _ := http.NewRequest("GET", "http://"+srv.Addr().String()+"/api/jobs", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("0123456789abcdefXYZ"); code != http.StatusOK {
		t.Errorf("with the token: %d", code)
	}
	if code := get("second line"); code != http.StatusUnauthorized {
		t.Errorf("with the token file's second line: %d", code)
	}
	if err := srv.Close(t.Context()); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve after Close: %v", err)
	}
}
