package web

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/ferrysync/ferry/agent"
)

// JobsJSON is the body of GET /api/jobs (documented in docs/agent.md).
type JobsJSON struct {
	Now  time.Time `json:"now"` // the agent's clock, for "in 3 min" and "5 s ago"
	Jobs []JobJSON `json:"jobs"`
}

// JobJSON is one job: its configuration, triggers, state and runs.
type JobJSON struct {
	Job         string         `json:"job"`
	Mode        string         `json:"mode"`
	Local       string         `json:"local"`
	Remote      string         `json:"remote"` // without password
	Watch       string         `json:"watch"`  // off, starting, ok, degraded
	WatchWhy    string         `json:"watch_why,omitempty"`
	Schedule    string         `json:"schedule,omitempty"`
	NextRun     *time.Time     `json:"next_run,omitempty"`
	Problem     string         `json:"problem,omitempty"` // "paused: …", "failing: …", "refused: …"
	RetryAt     *time.Time     `json:"retry_at,omitempty"`
	Running     *RunningJSON   `json:"running,omitempty"`
	Queued      []string       `json:"queued"` // triggers waiting for the next run
	Runs        int            `json:"runs"`   // finished since the agent started
	LastRun     *RunJSON       `json:"last_run,omitempty"`
	LastSuccess *time.Time     `json:"last_success,omitempty"`
	Transfers   []TransferJSON `json:"transfers"`
	Errors      []ErrorJSON    `json:"errors"` // the latest 20, oldest first
}

// RunningJSON is the run under way.
type RunningJSON struct {
	Trigger string    `json:"trigger"`
	Started time.Time `json:"started"`
}

// RunJSON is a run as /api/jobs and `ferry status --json` (its last_run)
// both show it: one type, so the two stay alike. Result is "running" in
// `ferry status` for a run that has not ended (or whose process died).
type RunJSON struct {
	Started      time.Time `json:"started"`
	Duration     float64   `json:"duration_seconds"`
	Trigger      string    `json:"trigger"`
	Result       string    `json:"result"` // ok, partial, failed, interrupted
	FilesUp      int       `json:"files_up"`
	FilesDown    int       `json:"files_down"`
	FilesDeleted int       `json:"files_deleted"`
	BytesUp      int64     `json:"bytes_up"`
	BytesDown    int64     `json:"bytes_down"`
	Conflicts    int       `json:"conflicts"`
	Errors       int       `json:"errors"`
	Error        string    `json:"error,omitempty"`
}

// TransferJSON is an upload or download in flight.
type TransferJSON struct {
	Op      string    `json:"op"` // upload, download
	Path    string    `json:"path"`
	Bytes   int64     `json:"bytes"` // done
	Size    int64     `json:"size"`
	Started time.Time `json:"started"`
}

// ErrorJSON is one recent error.
type ErrorJSON struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

// snapshot is the registry's view as the page and the JSON show it.
func (h *Handler) snapshot() JobsJSON {
	list := h.agent.Registry().Snapshot()
	out := JobsJSON{Now: h.now().UTC(), Jobs: make([]JobJSON, 0, len(list))}
	for _, s := range list {
		out.Jobs = append(out.Jobs, toJSON(s))
	}
	return out
}

func toJSON(s agent.JobStatus) JobJSON {
	j := JobJSON{Job: s.Name, Mode: s.Mode, Local: s.Local, Remote: s.Remote, Watch: s.Watch, WatchWhy: s.WatchWhy,
		Schedule: s.Schedule, NextRun: optTime(s.NextRun), Problem: s.Problem, RetryAt: optTime(s.RetryAt),
		Queued: s.Queued, Runs: s.Runs, LastSuccess: optTime(s.LastSuccess),
		Transfers: make([]TransferJSON, 0, len(s.Transfers)), Errors: make([]ErrorJSON, 0, len(s.Errors))}
	if j.Queued == nil {
		j.Queued = []string{}
	}
	if s.Running {
		j.Running = &RunningJSON{Trigger: s.RunTrigger, Started: s.RunStarted.UTC()}
	}
	if r := s.LastRun; r != nil {
		j.LastRun = &RunJSON{Started: r.Started.UTC(), Duration: r.Duration.Seconds(), Trigger: r.Trigger, Result: r.Result,
			FilesUp: r.FilesUp, FilesDown: r.FilesDown, FilesDeleted: r.FilesDeleted, BytesUp: r.BytesUp, BytesDown: r.BytesDown,
			Conflicts: r.Conflicts, Errors: r.Errors, Error: r.Error}
	}
	for _, t := range s.Transfers {
		j.Transfers = append(j.Transfers, TransferJSON{Op: t.Op, Path: t.Path, Bytes: t.Bytes, Size: t.Size, Started: t.Started.UTC()})
	}
	for _, e := range s.Errors {
		j.Errors = append(j.Errors, ErrorJSON{At: e.At.UTC(), Text: e.Text})
	}
	return j
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// jobs serves GET /api/jobs.
func (h *Handler) jobs(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.snapshot())
}

// runNow serves POST /api/jobs/NAME/run: 202 when the run is asked for
// (it coalesces with one pending), 403 for a cross-site request or one
// without the CSRF token (or, with a token, the token in Authorization),
// 404 for an unknown job.
func (h *Handler) runNow(w http.ResponseWriter, r *http.Request) {
	if err := h.cop.Check(r); err != nil {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "cross-site request refused: " + err.Error()})
		return
	}
	if !equal(r.Header.Get(CSRFHeader), h.csrf) && !h.bearer(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing or stale " + CSRFHeader + " token: reload the page"})
		return
	}
	name := r.PathValue("name")
	if !h.agent.RunNow(name) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no job named " + name})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"job": name, "run": "asked"})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
