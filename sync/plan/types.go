// Package plan decides what a sync run must do. It turns three trees — the
// local scan, the remote listing and the state cache's record of both sides
// after the last successful sync — into an ordered list of actions.
//
// plan is pure: it touches no os, net, database/sql or wall clock, so every
// rule can be pinned by a table test. Executing the plan lives in package
// sync; storing State lives in package state.
package plan

import "time"

// Kind is the type of a tree entry.
type Kind uint8

const (
	File Kind = iota + 1
	Dir
)

func (k Kind) String() string {
	switch k {
	case File:
		return "file"
	case Dir:
		return "dir"
	}
	return "unknown"
}

// Meta is what one side reports about one path.
//
// ModTime is UTC. Precision says how exact ModTime is: time.Second for MLSD
// and local files truncated to seconds, time.Minute for an "ls -l" time of
// day, 24*time.Hour for an "ls -l" date with a year; 0 means no time is
// known. Two times are "equal" when they agree at the coarser precision of
// the two (see SameTime).
type Meta struct {
	Kind      Kind
	Size      int64 // files only; 0 for folders
	ModTime   time.Time
	Precision time.Duration
}

// Tree is one side's view: slash-separated paths relative to the synced root
// ("a/b.txt", never "", never with a leading or trailing slash) to their
// metadata. Folders are entries of Kind Dir; every parent of an entry is
// itself an entry.
//
// Unknown lists folders whose listing failed or could not be fully parsed
// ("" for the root itself). Nothing at or below an unknown folder is known to
// be absent, so no plan deletes anything there on either side, and nothing
// there is taken as "deleted since the last sync".
//
// Incomplete lists folders whose listing left out entries it could not use
// (names that are unsafe to sync, such as "../x" or "a\\b") but is
// otherwise whole. Its entries are real and are synced, but something
// there is unknown, so nothing at or below an incomplete folder is deleted
// on either side or taken as "deleted since the last sync", and no folder
// holding one is deleted.
type Tree struct {
	Entries    map[string]Meta
	Unknown    map[string]bool
	Incomplete map[string]bool
}

// Record is the state cache's memory of one path: what both sides looked
// like right after the last successful transfer or check of that path.
// Remote is stored exactly as the server reported it (at the listing's
// precision), so a later listing of an unchanged file compares equal even on
// servers with minute-precision LIST times.
type Record struct {
	Kind   Kind
	Local  Meta
	Remote Meta
}

// State maps the same relative paths as Tree to their Records.
type State map[string]Record

// Op is what an action does.
type Op uint8

const (
	MkdirLocal   Op = iota + 1 // create folder Path locally
	MkdirRemote                // create folder Path on the server
	Upload                     // copy local Path to the server (atomic), then set its mtime
	Download                   // copy remote Path to the local side (atomic), then set its mtime
	DeleteLocal                // remove local Path (a file, or an empty folder)
	DeleteRemote               // remove remote Path (a file, or an empty folder)
	RenameLocal                // rename local Path to To (conflict copies)
	RenameRemote               // rename remote Path to To (conflict copies)
	Adopt                      // no transfer: both sides already agree; record Local/Remote in the state
	Forget                     // no transfer: drop Path from the state (gone from both sides)
)

// Action is one step of a plan.
//
// Local and Remote describe what the planner expects at Path on each side
// just before this action runs (a zero Meta means "absent"). For a transfer
// the source side's Meta is the version being copied; for a rename it is the
// version being moved. After an action succeeds the executor updates the
// state as follows:
//
//   - Mkdir*, Upload, Download, Adopt: write Record{Kind, Local, Remote} for
//     Path, with the side the action produced replaced by what it really
//     produced (for a Remote side: as the server lists it, at its precision).
//   - Delete*: drop Path's record (a later action on Path writes a new one).
//   - Rename*: drop Path's record; the transfer that follows in the same
//     conflict writes the records of Path and To.
//   - Forget: drop Path's record.
type Action struct {
	Op     Op
	Path   string
	To     string // RenameLocal / RenameRemote only
	Kind   Kind
	Local  Meta
	Remote Meta
	Reason string // short human explanation: "new", "changed", "conflict: both changed", ...
	// Phase is the action's step in the plan; see Phase.
	Phase Phase
	// Conflict is > 0 on the three actions of one file-versus-file conflict
	// (TwoWay only) and shared by them: a Rename* of the losing version to its
	// conflict name, the transfer of that conflict copy to the other side,
	// and the transfer of the winning version over Path. They are adjacent in
	// Actions, in that order, and must run one after the other. The first
	// (the Rename*) carries both versions in Local and Remote: an executor
	// that finds them equal (same size and, where the server offers one, the
	// same hash) may skip all three and record Record{File, Local, Remote}
	// for Path instead, as for Adopt.
	Conflict int
}

// Phase orders a plan. Actions are sorted by Phase; the executor runs the
// phases one after another (all of one phase finished before the next
// starts):
//
//   - PhaseClear: making room where a path changes type (a file replaced by
//     a folder or the reverse): deletes (files first, then folders deepest
//     first) and renames of files to their conflict names. Run in order.
//   - PhaseMkdir: folder creations, parents before children. Run in order.
//   - PhaseTransfer: uploads and downloads; they may run in parallel, except
//     that the actions of one conflict group (same Conflict id, adjacent)
//     run in order, one after the other.
//   - PhaseDeleteFiles: file deletes; may run in parallel.
//   - PhaseDeleteDirs: folder deletes, deepest first (each after everything
//     inside it). Run in order.
//   - PhaseRecord: Adopt and Forget; state writes only, any order.
//
// Within a phase, actions are sorted by path (deepest first for folder
// deletes), so a plan's rendering is stable.
type Phase uint8

const (
	PhaseClear Phase = iota + 1
	PhaseMkdir
	PhaseTransfer
	PhaseDeleteFiles
	PhaseDeleteDirs
	PhaseRecord
)

// Direction says which way a plan copies: Push (local to remote), Pull
// (remote to local) or Both (two-way).
type Direction uint8

const (
	Push Direction = iota + 1
	Pull
	Both
)

// Options tune a plan.
type Options struct {
	// Delete makes OneWay delete destination entries the source lacks. It
	// also lets OneWay replace a destination folder by a source file and the
	// reverse; without it such a path is skipped with a Problem. TwoWay
	// ignores it (deletions there follow the state).
	Delete bool
	// Scope, when non-empty, limits the plan to these paths and everything
	// below them ("" is the root). Paths outside the scope are left alone:
	// nothing there is deleted, transferred, adopted or forgotten, except
	// that a missing parent folder of an in-scope path is created. The trees
	// may then be partial, but must be complete at and below each scope path
	// and hold every ancestor of it. Conflict names avoid only the names the
	// trees and the state hold.
	Scope []string
}

// Plan is the ordered result: Actions sorted by Phase (see Phase for what
// the executor may run in parallel).
type Plan struct {
	// Direction is the plan's mode: Push or Pull (OneWay) or Both (TwoWay).
	Direction Direction
	Actions   []Action
	// Deletes counts DeleteLocal and DeleteRemote actions on files and
	// folders, per side, for the --max-delete and mass-delete guards.
	LocalDeletes, RemoteDeletes int
	// Problems are conditions the planner noticed and did not act on
	// (e.g. a path that is a file on one side and a folder on the other
	// where the mode cannot resolve it), for the report. Sorted.
	Problems []string
}
