package sync

import (
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// Reporter receives a run's events, for progress displays, plain or JSON
// output and the agent's status page. Calls come from several transfer
// goroutines at once: implementations must be safe for concurrent use and
// quick (no I/O that can block for long).
type Reporter interface {
	// Planned is called once with the plan, before anything is executed
	// (also in dry-run mode, where nothing follows but Finished).
	Planned(p *plan.Plan)
	// Started and Done bracket one action; Done's err is nil on success.
	Started(a plan.Action)
	Progress(a plan.Action, bytes int64)
	Done(a plan.Action, bytes int64, err error)
	// Warn reports something skipped or suspicious that does not make the
	// run incomplete (a symlink, a leftover that could not be removed).
	Warn(err error)
	// Problem reports something the run could not know or use (a folder
	// left unknown, a name refused as unsafe): the run is incomplete.
	Problem(err error)
	Finished(res *Result)
}

// Result sums up a run.
type Result struct {
	Started   time.Time
	Duration  time.Duration
	FilesUp   int
	FilesDown int
	Deleted   int
	BytesUp   int64
	BytesDown int64
	Adopted   int // paths found already in step and recorded, nothing moved
	// Conflicts counts two-way conflicts whose versions were both kept
	// (the loser under a .conflict- name), so none goes unnoticed.
	Conflicts int
	Failed    []ActionError
	// Problems are what the run could not know or use: folders left
	// unknown (nothing at or below them synced) and names refused as
	// unsafe (their folders synced, but nothing there deleted). A run with
	// problems did not do everything it was asked to.
	Problems []error
	// Warnings are harmless: symlinks and special files skipped on
	// purpose, leftovers that could not be removed, state cache writes.
	Warnings []error
	DryRun   bool
	// ChangeOnly is true when only the changed paths of Options.Paths were
	// compared (false for a full run, also one that fell back to it).
	ChangeOnly bool
	Plan       *plan.Plan
	Scan       ScanStats
}

// ScanStats tell where the time before planning went. The three parts run
// side by side, so the slowest one is the run's scan time.
type ScanStats struct {
	State, Local, Remote time.Duration
	Records              int // state records of the root
	LocalEntries         int // files and folders found locally
	RemoteEntries        int // files and folders found remotely
	Listings, Conns      int // remote folder listings, and connections used
	Targets              int // change-only runs: changed paths compared
}

// ActionError is one action that failed after its retries.
type ActionError struct {
	Action plan.Action
	Err    error
}

func (e ActionError) Error() string {
	return e.Action.Op.String() + " " + e.Action.Path + ": " + e.Err.Error()
}

// NopReporter ignores every event.
type NopReporter struct{}

func (NopReporter) Planned(*plan.Plan)             {}
func (NopReporter) Started(plan.Action)            {}
func (NopReporter) Progress(plan.Action, int64)    {}
func (NopReporter) Done(plan.Action, int64, error) {}
func (NopReporter) Warn(error)                     {}
func (NopReporter) Problem(error)                  {}
func (NopReporter) Finished(*Result)               {}

var _ Reporter = NopReporter{}
