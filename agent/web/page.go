package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/internal/units"
)

// The page's words are made by these functions on the server and by
// their twins in assets/app.js on each refresh; keep the two alike.
var pageFuncs = template.FuncMap{
	"bytes":     units.Bytes,
	"stateText": stateText,
	"stateKind": stateKind,
	"triggers":  triggersText,
	"next":      nextText,
	"last":      lastText,
	"pct":       percent,
	"stamp":     stamp,
	"job":       func(j JobJSON, now time.Time) jobView { return jobView{J: j, Now: now} },
	"emptyJob":  func() JobJSON { return JobJSON{} },
	"conflicts": conflicts,
	"newestFirst": func(es []ErrorJSON) []ErrorJSON {
		out := slices.Clone(es)
		slices.Reverse(out)
		return out
	},
}

// jobView is one job as the "job" template renders it.
type jobView struct {
	J   JobJSON
	Now time.Time
}

// conflicts is how many conflicts the job's last run kept.
func conflicts(j JobJSON) int {
	if j.LastRun == nil {
		return 0
	}
	return j.LastRun.Conflicts
}

// pageData is what index.html renders.
type pageData struct {
	JobsJSON
	CSRF  string
	Token bool // the page is behind a token: the script keeps it
}

// page serves GET /: every job, rendered on the server; the script
// refreshes it from /api/jobs.
func (h *Handler) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := h.pages.ExecuteTemplate(w, "index.html", pageData{JobsJSON: h.snapshot(), CSRF: h.csrf, Token: h.token != ""}); err != nil {
		h.log.Warn("status page: rendering", "err", err)
	}
}

// duration renders seconds: "350 ms", "4.2 s", "3 min 5 s", "2 h 10 min".
func duration(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%d ms", int(math.Round(s*1000)))
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	case s < 3600:
		return fmt.Sprintf("%d min %d s", int(s/60), int(s)%60)
	}
	return fmt.Sprintf("%d h %d min", int(s/3600), int(s)%3600/60)
}

// coarse renders a span for "in …" and "… ago": "12 s", "5 min",
// "3 h 20 min", "2 d".
func coarse(s float64) string {
	switch {
	case s < 60:
		return fmt.Sprintf("%d s", int(s))
	case s < 3600:
		return fmt.Sprintf("%d min", int(s/60))
	case s < 86400:
		return fmt.Sprintf("%d h %d min", int(s/3600), int(s)%3600/60)
	}
	return fmt.Sprintf("%d d", int(s/86400))
}

// when renders t as local time with how far it is from now:
// "2026-12-04 23:15:00 (in 3 min)".
func when(t, now time.Time) string {
	d := t.Sub(now).Seconds()
	rel := "now"
	switch {
	case d >= 1:
		rel = "in " + coarse(d)
	case d <= -1:
		rel = coarse(-d) + " ago"
	}
	return stamp(t) + " (" + rel + ")"
}

func stamp(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05") }

// stateKind is the job's state in one word: running, paused, failing,
// refused (a delete guard), or idle.
func stateKind(j JobJSON) string {
	switch {
	case j.Running != nil:
		return "running"
	case j.Problem != "":
		kind, _, _ := strings.Cut(j.Problem, ":")
		switch kind {
		case "paused", "failing", "refused":
			return kind
		}
		return "problem"
	}
	return "idle"
}

func stateText(j JobJSON, now time.Time) string {
	if j.Running != nil {
		return fmt.Sprintf("running (%s) for %s", j.Running.Trigger, coarse(max(now.Sub(j.Running.Started).Seconds(), 0)))
	}
	return stateKind(j)
}

func triggersText(j JobJSON) string {
	var parts []string
	switch j.Watch {
	case "", "off":
		parts = append(parts, "not watching")
	case "degraded":
		parts = append(parts, "watching degraded: "+j.WatchWhy+" (full runs instead)")
	default:
		parts = append(parts, "watching: "+j.Watch)
	}
	if j.Schedule != "" {
		parts = append(parts, "schedule "+j.Schedule)
	} else {
		parts = append(parts, "no schedule")
	}
	if len(j.Queued) > 0 {
		parts = append(parts, "waiting: "+strings.Join(j.Queued, ", "))
	}
	return strings.Join(parts, " · ")
}

func nextText(j JobJSON, now time.Time) string {
	var parts []string
	if j.RetryAt != nil {
		parts = append(parts, "retry "+when(*j.RetryAt, now))
	}
	if j.NextRun != nil {
		parts = append(parts, when(*j.NextRun, now))
	}
	if len(parts) == 0 {
		if j.Watch != "" && j.Watch != "off" {
			return "on the next change"
		}
		return "none planned"
	}
	return strings.Join(parts, " · ")
}

func lastText(j JobJSON, now time.Time) string {
	r := j.LastRun
	if r == nil {
		return "none yet"
	}
	return fmt.Sprintf("%s · %s · %s · %s — up %d (%s), down %d (%s), %d deleted, %d conflicts kept, %d errors",
		when(r.Started, now), duration(r.Duration), r.Trigger, r.Result,
		r.FilesUp, units.Bytes(r.BytesUp), r.FilesDown, units.Bytes(r.BytesDown), r.FilesDeleted, r.Conflicts, r.Errors)
}

// percent is how much of t is done, 0..100.
func percent(t TransferJSON) int {
	if t.Size <= 0 {
		return 0
	}
	return int(min(max(t.Bytes*100/t.Size, 0), 100))
}
