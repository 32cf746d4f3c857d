package web_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/agent/web"
	"github.com/ferrysync/ferry/job"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// knownRuns makes "shared" keep conflicts and "site" move files; a third
// run of site holds a transfer in flight until release is closed.
func knownRuns(release chan struct{}) *fakeRunner {
	return &fakeRunner{result: func(name string, n int, r agent.Run) (*ferrysync.Result, error) {
		switch {
		case name == "shared":
			return &ferrysync.Result{FilesUp: 1, FilesDown: 2, BytesUp: 10, BytesDown: 20, Conflicts: 2}, nil
		case n == 3:
			a := plan.Action{Op: plan.Upload, Path: "big.bin", Local: plan.Meta{Size: 1000}}
			r.Reporter.Started(a)
			r.Reporter.Progress(a, 250)
			<-release
			r.Reporter.Done(a, 1000, nil)
			return &ferrysync.Result{FilesUp: 1, BytesUp: 1000}, nil
		case n == 2:
			a := plan.Action{Op: plan.Download, Path: "x.txt", Remote: plan.Meta{Size: 5}}
			r.Reporter.Started(a)
			r.Reporter.Done(a, 0, errors.New("550 no such file"))
			return &ferrysync.Result{FilesUp: 3, BytesUp: 300, Deleted: 1,
				Failed: []ferrysync.ActionError{{Action: a, Err: errors.New("550 no such file")}}}, fmt.Errorf("%w: 1 of 5", job.ErrActionsFailed)
		}
		return &ferrysync.Result{FilesUp: 2, BytesUp: 200}, nil
	}}
}

// TestJobsJSON pins the shape docs/agent.md documents for /api/jobs.
func TestJobsJSON(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ta := startTestAgent(t, knownRuns(release), "")
	ta.a.RunNow("site")
	ta.waitRuns(t, "site", 2)
	ta.a.RunNow("site")
	waitFor(t, "the third run's transfer in flight", func() bool {
		st, _ := ta.a.Registry().Get("site")
		return len(st.Transfers) == 1
	})

	w := ta.do(t, "GET", "127.0.0.1:8484", "/api/jobs", nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/jobs = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	var raw struct {
		Now  string           `json:"now"`
		Jobs []map[string]any `json:"jobs"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Now == "" || len(raw.Jobs) != 2 || raw.Jobs[0]["job"] != "shared" || raw.Jobs[1]["job"] != "site" {
		t.Fatalf("body:\n%s", w.Body)
	}
	var keys []string
	for k := range raw.Jobs[1] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"errors", "job", "last_run", "last_success", "local", "mode", "next_run", "queued", "remote", "running", "runs", "schedule", "transfers", "watch"}
	if !slices.Equal(keys, want) {
		t.Errorf("keys of a running job with a failed action:\n got %q\nwant %q", keys, want)
	}

	var got web.JobsJSON
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	shared, site := got.Jobs[0], got.Jobs[1]
	if shared.Mode != "two-way" || shared.Watch != "off" || shared.Running != nil || shared.Runs != 1 || shared.LastRun == nil ||
		shared.LastRun.Conflicts != 2 || shared.LastRun.Result != "ok" || shared.LastRun.Trigger != job.TriggerStartup || shared.LastSuccess == nil {
		t.Errorf("shared = %+v, last run %+v", shared, shared.LastRun)
	}
	if site.Mode != "push" || site.Remote != "ftp://u@127.0.0.1:1/site" || site.Schedule != "@hourly" || site.NextRun == nil || site.Runs != 2 {
		t.Errorf("site = %+v", site)
	}
	if site.Running == nil || site.Running.Trigger != job.TriggerManual {
		t.Errorf("site running = %+v, want the manual run", site.Running)
	}
	if len(site.Transfers) != 1 || site.Transfers[0] != (web.TransferJSON{Op: "upload", Path: "big.bin", Bytes: 250, Size: 1000, Started: site.Transfers[0].Started}) {
		t.Errorf("site transfers = %+v", site.Transfers)
	}
	if lr := site.LastRun; lr == nil || lr.Result != "partial" || lr.FilesUp != 3 || lr.BytesUp != 300 || lr.FilesDeleted != 1 || lr.Errors != 1 ||
		lr.Error != "download x.txt: 550 no such file" {
		t.Errorf("site last run = %+v", lr)
	}
	if len(site.Errors) != 1 || site.Errors[0].Text != "download x.txt: 550 no such file" {
		t.Errorf("site errors = %+v", site.Errors)
	}
	if site.LastSuccess == nil || shared.LastSuccess == nil {
		t.Errorf("last success: site %v, shared %v", site.LastSuccess, shared.LastSuccess)
	}
}

// TestPageShowsEveryJob: the server-rendered page has each job with its
// fields, the conflicts kept and a "run now" button; no password.
func TestPageShowsEveryJob(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ta := startTestAgent(t, knownRuns(release), "")
	w := ta.do(t, "GET", "localhost:8484", "/", nil)
	page := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET / = %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if miss := contains(page, `name="viewport"`, `data-job="site"`, `data-job="shared"`, `data-run="site"`, `data-run="shared"`,
		`ftp://u@127.0.0.1:1/site`, "schedule @hourly", "not watching", "2 conflicts kept", `<script src="/assets/app.js"`,
		`<template id="job-template">`); miss != "" {
		t.Errorf("the page lacks %q:\n%s", miss, page)
	}
	for _, asset := range []string{"/assets/app.js", "/assets/style.css", "/assets/login.js"} {
		if w := ta.do(t, "GET", "localhost:8484", asset, nil); w.Code != http.StatusOK {
			t.Errorf("GET %s = %d", asset, w.Code)
		}
	}
	if w := ta.do(t, "GET", "localhost:8484", "/assets/index.html", nil); w.Code != http.StatusNotFound {
		t.Errorf("the page's template is served as an asset: %d", w.Code)
	}
	csp := w.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

// TestRunNowProtection: "run now" needs the page's CSRF token and a
// same-origin request; then it asks the job for a run.
func TestRunNowProtection(t *testing.T) {
	ta := startTestAgent(t, &fakeRunner{}, "")
	token := ta.csrf(t, nil)
	const host = "127.0.0.1:8484"
	tests := []struct {
		name   string
		method string
		target string
		header http.Header
		code   int
	}{
		{"no CSRF token", "POST", "/api/jobs/site/run", hdr("Origin", "http://"+host), http.StatusForbidden},
		{"wrong CSRF token", "POST", "/api/jobs/site/run", hdr("Origin", "http://"+host, web.CSRFHeader, "x"+token), http.StatusForbidden},
		{"another site's Origin", "POST", "/api/jobs/site/run", hdr("Origin", "http://evil.example", web.CSRFHeader, token), http.StatusForbidden},
		{"another loopback port's Origin", "POST", "/api/jobs/site/run", hdr("Origin", "http://127.0.0.1:9999", web.CSRFHeader, token), http.StatusForbidden},
		{"Sec-Fetch-Site cross-site", "POST", "/api/jobs/site/run", hdr("Sec-Fetch-Site", "cross-site", web.CSRFHeader, token), http.StatusForbidden},
		{"Sec-Fetch-Site same-site", "POST", "/api/jobs/site/run", hdr("Sec-Fetch-Site", "same-site", "Origin", "http://127.0.0.1:9999", web.CSRFHeader, token), http.StatusForbidden},
		{"GET", "GET", "/api/jobs/site/run", hdr(web.CSRFHeader, token), http.StatusMethodNotAllowed},
		{"unknown job", "POST", "/api/jobs/nope/run", hdr("Origin", "http://"+host, web.CSRFHeader, token), http.StatusNotFound},
	}
	for _, tt := range tests {
		w := ta.do(t, tt.method, host, tt.target, tt.header)
		if w.Code != tt.code {
			t.Errorf("%s: %d %s, want %d", tt.name, w.Code, strings.TrimSpace(w.Body.String()), tt.code)
		}
	}
	if n := ta.runner.count("site"); n != 1 {
		t.Fatalf("site ran %d times after refused requests, want only the start-up run", n)
	}

	accepted := []struct {
		name   string
		header http.Header
	}{
		{"same Origin", hdr("Origin", "http://"+host, web.CSRFHeader, token)},
		{"Sec-Fetch-Site same-origin", hdr("Sec-Fetch-Site", "same-origin", "Origin", "http://"+host, web.CSRFHeader, token)},
		{"no Origin (not a browser)", hdr(web.CSRFHeader, token)},
	}
	for i, tt := range accepted {
		w := ta.do(t, "POST", host, "/api/jobs/site/run", tt.header)
		if w.Code != http.StatusAccepted {
			t.Fatalf("%s: %d %s, want 202", tt.name, w.Code, w.Body)
		}
		ta.waitRuns(t, "site", i+2)
	}
	if n := ta.runner.count("site"); n != 4 {
		t.Errorf("site ran %d times, want 4", n)
	}
}

// TestLoopbackHostsOnly: without a token, a request naming another host
// (a DNS rebinding page) is refused.
func TestLoopbackHostsOnly(t *testing.T) {
	ta := startTestAgent(t, &fakeRunner{}, "")
	for host, code := range map[string]int{
		"127.0.0.1:8484": http.StatusOK, "localhost:8484": http.StatusOK, "[::1]:8484": http.StatusOK, "LOCALHOST": http.StatusOK,
		"evil.example:8484": http.StatusForbidden, "192.168.1.5:8484": http.StatusForbidden, "127.0.0.1.evil.example": http.StatusForbidden,
	} {
		for _, path := range []string{"/", "/api/jobs", "/metrics"} {
			if w := ta.do(t, "GET", host, path, nil); w.Code != code {
				t.Errorf("GET %s with Host %s = %d, want %d", path, host, w.Code, code)
			}
		}
	}
}

// TestTokenEveryRequest: with a token (allow_remote), every request but
// the static assets must present it; "run now" needs it in a header (or
// the page's CSRF token), never the cookie alone.
func TestTokenEveryRequest(t *testing.T) {
	const token = "s3cret-token-0123456789"
	ta := startTestAgent(t, &fakeRunner{}, token)
	const host = "ferry.example:8484" // not loopback: allowed with a token
	bearer := hdr("Authorization", "Bearer "+token)
	cookie := hdr("Cookie", web.TokenCookie+"="+url.PathEscape(token))
	for _, path := range []string{"/", "/api/jobs", "/metrics"} {
		for name, h := range map[string]http.Header{
			"no token":     nil,
			"wrong bearer": hdr("Authorization", "Bearer nope"),
			"wrong cookie": hdr("Cookie", web.TokenCookie+"=nope"),
			"basic auth":   hdr("Authorization", "Basic "+token),
		} {
			w := ta.do(t, "GET", host, path, h)
			if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("GET %s, %s: %d, want 401 with WWW-Authenticate", path, name, w.Code)
			}
			if strings.Contains(w.Body.String(), "data-job") {
				t.Errorf("GET %s, %s: the jobs are shown", path, name)
			}
		}
		for name, h := range map[string]http.Header{"bearer": bearer, "cookie": cookie} {
			if w := ta.do(t, "GET", host, path, h); w.Code != http.StatusOK {
				t.Errorf("GET %s with the %s: %d", path, name, w.Code)
			}
		}
	}
	login := ta.do(t, "GET", host, "/", nil).Body.String()
	if miss := contains(login, `type="password"`, `/assets/login.js`, "http.token_file"); miss != "" {
		t.Errorf("the login page lacks %q:\n%s", miss, login)
	}
	if w := ta.do(t, "GET", host, "/assets/login.js", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "localStorage") {
		t.Errorf("GET /assets/login.js without a token = %d", w.Code)
	}

	csrf := ta.csrf(t, cookie)
	origin := "http://" + host
	runs := 1 // the start-up run
	for _, tt := range []struct {
		name   string
		header http.Header
		code   int
	}{
		{"no token at all", hdr("Origin", origin, web.CSRFHeader, csrf), http.StatusUnauthorized},
		{"cookie alone", hdr("Origin", origin, "Cookie", cookie.Get("Cookie")), http.StatusForbidden},
		{"bearer from another site", hdr("Origin", "http://evil.example", "Authorization", "Bearer "+token), http.StatusForbidden},
		{"cookie and the page's CSRF token", hdr("Origin", origin, "Cookie", cookie.Get("Cookie"), web.CSRFHeader, csrf), http.StatusAccepted},
		{"bearer (a script)", bearer, http.StatusAccepted},
	} {
		w := ta.do(t, "POST", host, "/api/jobs/site/run", tt.header)
		if w.Code != tt.code {
			t.Errorf("run now, %s: %d %s, want %d", tt.name, w.Code, strings.TrimSpace(w.Body.String()), tt.code)
		}
		if tt.code == http.StatusAccepted {
			// Each accepted request makes a run (waited for, so they
			// do not coalesce).
			runs++
			ta.waitRuns(t, "site", runs)
		}
	}
	if n := ta.runner.count("site"); n != 3 {
		t.Errorf("site ran %d times, want the start-up run and two asked for", n)
	}
}
