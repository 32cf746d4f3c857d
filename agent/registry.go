package agent

import (
	"context"
	"log/slog"
	"sort"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/state"
)

// Watch states of a job, as `ferry status` shows them.
const (
	WatchOff      = "off"
	WatchStarting = "starting" // watches being added
	WatchOK       = "ok"
	WatchDegraded = "degraded" // full runs on the schedule instead; WatchWhy says why
)

// JobStatus is what the agent knows of one job right now.
type JobStatus struct {
	Name, Mode, Local, Remote string // Remote without password
	Watch, WatchWhy           string
	Schedule                  string
	NextRun                   time.Time // zero: none planned
	Problem                   string    // paused or failing, and why
	Running                   bool
	RunTrigger                string
	RunStarted                time.Time
	Runs                      int // runs since the agent started
}

// Registry holds every job's status: the one place the job loops write
// to and `ferry status` (through the state cache) and a status page read
// from. Its methods are safe for concurrent use.
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

// update applies fn to job name's status (created when missing) and
// records the result in the state cache.
func (r *Registry) update(name string, fn func(s *JobStatus)) {
	r.mu.Lock()
	s, ok := r.jobs[name]
	if !ok {
		s = &JobStatus{Name: name}
		r.jobs[name] = s
	}
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

// Snapshot returns a copy of every job's status, by name.
func (r *Registry) Snapshot() []JobStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]JobStatus, 0, len(r.jobs))
	for _, s := range r.jobs {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns job name's status.
func (r *Registry) Get(name string) (JobStatus, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.jobs[name]
	if !ok {
		return JobStatus{}, false
	}
	return *s, true
}
