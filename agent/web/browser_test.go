package web_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ferrysync/ferry/agent"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// chromium returns a headless Chromium to drive, or skips the test
// without one; under make test (FERRY_REQUIRE_FTP_SERVERS=1, which runs
// scripts/install-chromium.sh first) a missing browser fails it instead.
func chromium(t *testing.T) string {
	t.Helper()
	required := os.Getenv("FERRY_REQUIRE_FTP_SERVERS") == "1"
	if testing.Short() && !required {
		t.Skip("a browser test; -short")
	}
	for _, name := range []string{"chromium-headless-shell", "chromium", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range []string{"/usr/lib/chromium/chromium-headless-shell", "/usr/lib/chromium/headless_shell", "/usr/lib/chromium/chromium"} {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	if required {
		t.Fatal("no headless Chromium (chromium-headless-shell, chromium or headless_shell on PATH or in /usr/lib/chromium/): run scripts/install-chromium.sh")
	}
	t.Skip("no headless Chromium (apt-get install chromium-headless-shell)")
	return ""
}

// browser starts a headless Chromium for the test and returns a tab in it.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return ctx
}

// js evaluates expr in the tab.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// do runs steps in the tab.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// waitJS polls the boolean expr in the tab until it is true (errors while
// a page loads count as false), failing after 15 s with what last showed.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : "")`))
			t.Fatalf("not within 15 s: %s (%s; error %v); the page:\n%s", what, expr, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// textOf is the JavaScript for the text of the first element sel matches.
func textOf(sel string) string {
	return fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel)
}

// TestBrowserStatusPage loads the status page in headless Chromium: both
// jobs are there, "run now" works and the page follows without a reload,
// a transfer in flight shows its progress bar, kept conflicts show (and
// are counted in /metrics), the page fits a phone, and a form on another
// origin cannot make a run.
var updateScreenshot = flag.Bool("update-screenshot", false, "rewrite docs/status-page.png from the browser test")

func TestBrowserStatusPage(t *testing.T) {
	ctx := browser(t)
	release := make(chan struct{})
	defer close(release)
	f := &fakeRunner{result: func(name string, n int, r agent.Run) (*ferrysync.Result, error) {
		if name == "shared" {
			return &ferrysync.Result{FilesUp: 1, FilesDown: 1, Conflicts: 2}, nil
		}
		if n == 3 {
			a := plan.Action{Op: plan.Upload, Path: "videos/big.mp4", Local: plan.Meta{Size: 4 << 20}}
			r.Reporter.Started(a)
			r.Reporter.Progress(a, 1<<20)
			<-release
			r.Reporter.Done(a, 4<<20, nil)
		}
		return &ferrysync.Result{FilesUp: 1, BytesUp: 5}, nil
	}}
	ta := startTestAgent(t, f, "")
	srv := httptest.NewServer(ta.h) // 127.0.0.1, a free port
	defer srv.Close()

	site := `article.job[data-job="site"]`
	shared := `article.job[data-job="shared"]`
	do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(site)), chromedp.WaitVisible(chromedp.CSS(shared)))
	waitJS(t, ctx, "the page's script", `document.body.dataset.ready === "true"`)
	if runs := js[string](t, ctx, textOf(site+` [data-f="runs"]`)); runs != "1" {
		t.Fatalf("site's runs on the page = %q, want 1 (the start-up run)", runs)
	}
	conflicts := js[string](t, ctx, `(() => { const e = document.querySelector('`+shared+` [data-f="conflicts"]'); return e.hidden ? "" : e.textContent; })()`)
	if !strings.Contains(conflicts, "2 conflicts kept") {
		t.Errorf("shared's kept conflicts are not shown: %q", conflicts)
	}
	last := js[string](t, ctx, textOf(shared+` [data-f="last"]`))
	if !strings.Contains(last, "2 conflicts kept") || !strings.Contains(last, "startup · ok") {
		t.Errorf("shared's last run reads %q", last)
	}

	// Run now: the count changes without a reload.
	js[bool](t, ctx, `window.sameDocument = true`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-run="site"]`)))
	waitJS(t, ctx, "site's run count goes to 2", textOf(site+` [data-f="runs"]`)+` === "2"`)
	waitJS(t, ctx, "site's last run is the manual one", textOf(site+` [data-f="last"]`)+`.includes("manual · ok")`)
	if !js[bool](t, ctx, `window.sameDocument === true`) {
		t.Error("the page reloaded to show the run")
	}
	if n := f.count("site"); n != 2 {
		t.Errorf("site ran %d times, want 2", n)
	}

	// A transfer in flight has a progress bar.
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-run="site"]`)))
	waitJS(t, ctx, "a progress bar at 25%", `(() => {
		const p = document.querySelector('`+site+` [data-f="transfers"] progress');
		return !!p && p.value === 25 && !document.querySelector('`+site+` [data-f="transfers-box"]').hidden;
	})()`)
	flight := js[string](t, ctx, textOf(site+` [data-f="transfers"]`))
	if !strings.Contains(flight, "videos/big.mp4") || !strings.Contains(flight, "25% of 4.0 MiB") {
		t.Errorf("the transfer reads %q", flight)
	}
	// The README's picture of the page: both jobs, a transfer under way,
	// kept conflicts (go test ./agent/web -run TestBrowserStatusPage
	// -update-screenshot rewrites docs/status-page.png).
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil || !bytes.HasPrefix(shot, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %d bytes, %v", len(shot), err)
	}
	if *updateScreenshot {
		if err := os.WriteFile(filepath.Join("..", "..", "docs", "status-page.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	release <- struct{}{}
	waitJS(t, ctx, "the transfer is gone when done", `document.querySelector('`+site+` [data-f="transfers-box"]').hidden`)

	// The kept conflicts are in /metrics too.
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := metricValue(fams, "ferry_conflicts_kept_total", map[string]string{"job": "shared"}); !ok || v != 2 {
		t.Errorf("ferry_conflicts_kept_total{job=shared} = %v (present %v), want 2", v, ok)
	}

	// On a phone: nothing wider than the screen.
	do(t, ctx, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile), chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(site)))
	if w := js[int](t, ctx, `document.documentElement.scrollWidth`); w > 375 {
		t.Errorf("on a 375 px wide phone the page is %d px wide", w)
	}

	// A page on another loopback origin posts a form to "run now": the
	// browser sends it (with its Origin and Sec-Fetch-Site), the agent
	// refuses it, and no run is asked for.
	before := f.count("site")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="POST" action="%s/api/jobs/site/run"><input name="x" value="1"></form>
<script>document.getElementById("f").submit()</script>`, srv.URL)
	}))
	defer evil.Close()
	do(t, ctx, chromedp.Navigate(evil.URL+"/"))
	waitJS(t, ctx, "the agent's refusal of the cross-site form", `location.href.startsWith("`+srv.URL+`/api/jobs/site/run") && document.body.innerText.includes("cross-site request refused")`)
	if n := f.count("site"); n != before {
		t.Errorf("the cross-site form made a run (%d runs, was %d)", n, before)
	}
	if st, _ := ta.a.Registry().Get("site"); len(st.Queued) != 0 || st.Running {
		t.Errorf("the cross-site form asked for a run: queued %q, running %v", st.Queued, st.Running)
	}
}

// TestBrowserTokenLogin: behind a token the page asks for it once, keeps
// it in localStorage and a cookie, and uses the kept one again by itself
// when the cookie is gone.
func TestBrowserTokenLogin(t *testing.T) {
	ctx := browser(t)
	const token = "browser-token-0123456789"
	ta := startTestAgent(t, &fakeRunner{}, token)
	srv := httptest.NewServer(ta.h)
	defer srv.Close()

	do(t, ctx, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`#token`)))
	if jobs := js[int](t, ctx, `document.querySelectorAll("article.job").length`); jobs != 0 {
		t.Fatal("the jobs show before the token is given")
	}
	do(t, ctx, chromedp.SendKeys(chromedp.CSS(`#token`), "wrong-token-0123456789"), chromedp.Click(chromedp.CSS(`#login button`)))
	waitJS(t, ctx, "a wrong token is refused", `!document.getElementById("login-error").hidden`)
	do(t, ctx, chromedp.SetValue(chromedp.CSS(`#token`), token), chromedp.Click(chromedp.CSS(`#login button`)))
	waitJS(t, ctx, "the jobs after the token", `document.querySelectorAll("article.job").length === 2 && document.body.dataset.ready === "true"`)
	if kept := js[string](t, ctx, `localStorage.getItem("ferry-token") || ""`); kept != token {
		t.Errorf("localStorage keeps %q", kept)
	}
	// The refresh works with the cookie.
	js[bool](t, ctx, `window.sameDocument = true`)
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-run="site"]`)))
	waitJS(t, ctx, "site's run count goes to 2", textOf(`article.job[data-job="site"] [data-f="runs"]`)+` === "2" && window.sameDocument === true`)

	// Without the cookie, the kept token gets the page back unasked.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	waitJS(t, ctx, "the jobs again from the kept token", `document.querySelectorAll("article.job").length === 2`)
}
