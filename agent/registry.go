package agent

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sort"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
)

// Watch states of a job, as `ferry status` shows them.
const (
	WatchOff      = "off"
	WatchStarting = "starting" // watches being added
	WatchOK       = "ok"
	WatchDegraded = "degraded" // full runs on the schedule instead; WatchWhy says why
)

// WatchStates lists every watch state, for a metric that shows each.
func WatchStates() []string { return []string{WatchOff, WatchStarting, WatchOK, WatchDegraded} }

// keepErrors is how many recent errors the registry keeps per job.
const keepErrors = 20

// JobStatus is what the agent knows of one job right now.
type JobStatus struct {
	Name, Mode, Local, Remote string // Remote without password
	Watch, WatchWhy           string
	Schedule                  string
	NextRun                   time.Time // zero: none planned
	Problem                   string    // paused or failing, and why
	RetryAt                   time.Time // a failed or paused job's next try; zero: none
	Running                   bool
	RunTrigger                string
	RunStarted                time.Time
	Runs                      int // runs finished since the agent started
	// Queued lists the triggers (job.TriggerManual, ...) that asked for a
	// run that has not started yet; they coalesce into one run. Sorted.
	Queued []string
	// LastRun is the latest finished run: of this agent, or the one the
	// state cache recorded before it started. Nil: none known.
	LastRun *RunSummary
	// LastSuccess is when the latest run that ended "ok" started; zero:
	// none known.
	LastSuccess time.Time
	// Transfers are the uploads and downloads in flight, oldest first.
	Transfers []Transfer
	// Errors are the latest errors, oldest first, at most keepErrors:
	// failed actions, problems and failed runs.
	Errors []RunError
	// Totals count what the job did since the agent started.
	Totals Totals
}

// Transfer is one upload or download in flight.
type Transfer struct {
	Op      string // "upload" or "download"
	Path    string
	Bytes   int64 // done so far (a resumed transfer starts at its offset)
	Size    int64 // as planned
	Started time.Time
}

// RunError is one error a job met.
type RunError struct {
	At   time.Time
	Text string
}

// RunSummary is how one run went.
type RunSummary struct {
	Started                          time.Time
	Duration                         time.Duration
	Trigger                          string
	Result                           string // state.ResultOK, ResultPartial, ResultFailed, ResultInterrupted
	FilesUp, FilesDown, FilesDeleted int
	BytesUp, BytesDown               int64
	Conflicts                        int    // two-way conflicts kept as .conflict- copies
	Errors                           int    // failed actions and problems
	Error                            string // the run's first error; "" when none
}

// Totals count what a job did since the agent started (for /metrics).
type Totals struct {
	Runs                             map[string]uint64 // finished runs by result
	FilesUp, FilesDown, FilesDeleted uint64
	BytesUp, BytesDown               uint64
	Errors                           uint64 // every error recorded in JobStatus.Errors
	Conflicts                        uint64 // conflicts kept
	Duration                         Histogram
}

// Histogram counts run durations, in seconds.
type Histogram struct {
	Bounds []float64 // upper bounds, ascending
	Counts []uint64  // Counts[i]: observations <= Bounds[i] (cumulative)
	Count  uint64
	Sum    float64
}

// runDurationBounds are the upper bounds of the run duration histogram,
// in seconds: watch runs take milliseconds, full runs of big trees hours.
func runDurationBounds() []float64 {
	return []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600}
}

func (h *Histogram) observe(v float64) {
	if h.Bounds == nil {
		h.Bounds = runDurationBounds()
		h.Counts = make([]uint64, len(h.Bounds))
	}
	for i, b := range h.Bounds {
		if v <= b {
			h.Counts[i]++
		}
	}
	h.Count++
	h.Sum += v
}

// Registry holds every job's status: the one place the job loops write
// to and `ferry status` (through the state cache) and the status page
// read from. Its methods are safe for concurrent use.
type Registry struct {
	db  *state.DB // nil: nothing persisted (tests)
	log *slog.Logger

	mu   gosync.Mutex
	jobs map[string]*JobStatus
}

// NewRegistry returns a registry that persists what `ferry status` needs
// into db (when not nil).
func NewRegistry(db *state.DB, log *slog.Logger) *Registry {
	return &Registry{db: db, log: log, jobs: map[string]*JobStatus{}}
}

// jobLocked returns job name's status, created when missing. Called with
// r.mu held.
func (r *Registry) jobLocked(name string) *JobStatus {
	s, ok := r.jobs[name]
	if !ok {
		s = &JobStatus{Name: name}
		r.jobs[name] = s
	}
	return s
}

// update applies fn to job name's status (created when missing) and
// records the result in the state cache.
func (r *Registry) update(name string, fn func(s *JobStatus)) {
	r.mu.Lock()
	s := r.jobLocked(name)
	fn(s)
	rec := state.AgentJob{Name: s.Name, Mode: s.Mode, Local: s.Local, Remote: s.Remote, Watch: s.Watch,
		WatchWhy: s.WatchWhy, Schedule: s.Schedule, NextRun: s.NextRun, Problem: s.Problem, Updated: time.Now()}
	r.mu.Unlock()
	if r.db != nil {
		if err := r.db.SaveAgentJob(context.Background(), rec); err != nil && r.log != nil {
			r.log.Warn("recording job status", "job", name, "err", err)
		}
	}
}

// live applies fn to job name's status (created when missing) in memory
// only: for what changes often and `ferry status` does not show.
func (r *Registry) live(name string, fn func(s *JobStatus)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(r.jobLocked(name))
}

// seed fills in job name's last run and last error from the state cache's
// run history, so the status page has them before the agent's first run
// ends. local and remote (without password) identify the job's root.
func (r *Registry) seed(name, local, remote string) {
	if r.db == nil {
		return
	}
	ctx := context.Background()
	last, err := r.db.LastRuns(ctx)
	if err != nil {
		return
	}
	errs, _ := r.db.LastErrors(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.jobLocked(name)
	for _, run := range last {
		if run.Job != name || run.Local != local || run.Remote != remote || run.Ended.IsZero() || s.LastRun != nil {
			continue
		}
		s.LastRun = &RunSummary{Started: run.Started, Duration: run.Ended.Sub(run.Started), Trigger: run.Trigger,
			Result: run.Result, FilesUp: run.FilesUp, FilesDown: run.FilesDown, FilesDeleted: run.FilesDeleted,
			BytesUp: run.BytesUp, BytesDown: run.BytesDown, Conflicts: run.Conflicts, Errors: run.Errors, Error: run.ErrorText}
		if run.Result == state.ResultOK {
			s.LastSuccess = run.Started
		}
	}
	for _, run := range errs {
		if run.Job == name && run.Local == local && run.Remote == remote && len(s.Errors) == 0 {
			s.Errors = append(s.Errors, RunError{At: run.Started, Text: run.ErrorText})
		}
	}
}

// queue notes that trigger asked job name for a run.
func (r *Registry) queue(name, trigger string) {
	r.live(name, func(s *JobStatus) {
		if slices.Contains(s.Queued, trigger) {
			return
		}
		s.Queued = append(s.Queued, trigger)
		sort.Strings(s.Queued)
	})
}

// setQueued replaces the triggers waiting for job name's next run.
func (r *Registry) setQueued(name string, triggers []string) {
	r.live(name, func(s *JobStatus) {
		s.Queued = append([]string(nil), triggers...)
		sort.Strings(s.Queued)
	})
}

// addError records one error of job name, keeping the latest keepErrors.
func (r *Registry) addError(name string, at time.Time, text string) {
	r.live(name, func(s *JobStatus) {
		s.Errors = append(s.Errors, RunError{At: at, Text: text})
		if n := len(s.Errors) - keepErrors; n > 0 {
			s.Errors = append([]RunError(nil), s.Errors[n:]...)
		}
		s.Totals.Errors++
	})
}

// transferStarted notes an upload or download of job name in flight.
func (r *Registry) transferStarted(name string, t Transfer) {
	r.live(name, func(s *JobStatus) { s.Transfers = append(s.Transfers, t) })
}

// transferProgress sets how many bytes of job name's transfer of path
// (op) are done.
func (r *Registry) transferProgress(name, op, path string, bytes int64) {
	r.live(name, func(s *JobStatus) {
		if i := findTransfer(s.Transfers, op, path); i >= 0 {
			s.Transfers[i].Bytes = bytes
		}
	})
}

// transferDone forgets job name's transfer of path (op).
func (r *Registry) transferDone(name, op, path string) {
	r.live(name, func(s *JobStatus) {
		if i := findTransfer(s.Transfers, op, path); i >= 0 {
			s.Transfers = append(s.Transfers[:i:i], s.Transfers[i+1:]...)
		}
	})
}

func findTransfer(ts []Transfer, op, path string) int {
	for i, t := range ts {
		if t.Op == op && t.Path == path {
			return i
		}
	}
	return -1
}

// runStarted notes that job name's run by trigger began at started: the
// queued triggers are all part of it.
func (r *Registry) runStarted(name, trigger string, started time.Time) {
	r.live(name, func(s *JobStatus) {
		s.Running, s.RunTrigger, s.RunStarted = true, trigger, started
		s.Queued, s.RetryAt = nil, time.Time{}
	})
}

// runEnded records how job name's run ended and counts it.
func (r *Registry) runEnded(name string, run RunSummary) {
	r.live(name, func(s *JobStatus) {
		s.Running, s.Transfers = false, nil
		s.Runs++
		s.LastRun = &run
		if run.Result == state.ResultOK {
			s.LastSuccess = run.Started
		}
		t := &s.Totals
		if t.Runs == nil {
			t.Runs = map[string]uint64{}
		}
		t.Runs[run.Result]++
		t.FilesUp += uint64(run.FilesUp)
		t.FilesDown += uint64(run.FilesDown)
		t.FilesDeleted += uint64(run.FilesDeleted)
		t.BytesUp += uint64(max(run.BytesUp, 0))
		t.BytesDown += uint64(max(run.BytesDown, 0))
		t.Conflicts += uint64(run.Conflicts)
		t.Duration.observe(run.Duration.Seconds())
	})
}

// remove forgets job name (gone from the configuration).
func (r *Registry) remove(name string) {
	r.mu.Lock()
	delete(r.jobs, name)
	r.mu.Unlock()
}

// keep drops the persisted records of jobs not in names.
func (r *Registry) keep(names []string) {
	if r.db != nil {
		if err := r.db.KeepAgentJobs(context.Background(), names); err != nil && r.log != nil {
			r.log.Warn("recording job status", "err", err)
		}
	}
}

// Snapshot returns a deep copy of every job's status, by name. A running
// job whose scheduled time has passed lists job.TriggerSchedule among
// its queued triggers: that tick makes the follow-up run.
func (r *Registry) Snapshot() []JobStatus {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]JobStatus, 0, len(r.jobs))
	for _, s := range r.jobs {
		out = append(out, s.copy(now))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns a deep copy of job name's status.
func (r *Registry) Get(name string) (JobStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.jobs[name]
	if !ok {
		return JobStatus{}, false
	}
	return s.copy(time.Now()), true
}

// copy returns a deep copy of s as of now.
func (s *JobStatus) copy(now time.Time) JobStatus {
	c := *s
	c.Queued = append([]string(nil), s.Queued...)
	if s.Running && !s.NextRun.IsZero() && !s.NextRun.After(now) && !slices.Contains(c.Queued, job.TriggerSchedule) {
		c.Queued = append(c.Queued, job.TriggerSchedule)
		sort.Strings(c.Queued)
	}
	if s.LastRun != nil {
		lr := *s.LastRun
		c.LastRun = &lr
	}
	c.Transfers = append([]Transfer(nil), s.Transfers...)
	c.Errors = append([]RunError(nil), s.Errors...)
	c.Totals.Runs = maps.Clone(s.Totals.Runs)
	if c.Totals.Runs == nil {
		c.Totals.Runs = map[string]uint64{}
	}
	if s.Totals.Duration.Bounds == nil {
		c.Totals.Duration.Bounds = runDurationBounds()
		c.Totals.Duration.Counts = make([]uint64, len(c.Totals.Duration.Bounds))
	} else {
		c.Totals.Duration.Bounds = slices.Clone(s.Totals.Duration.Bounds)
		c.Totals.Duration.Counts = slices.Clone(s.Totals.Duration.Counts)
	}
	return c
}
