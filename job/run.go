package job

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
)

// Triggers: what started a run, as recorded in the run history.
const (
	TriggerCLI      = "cli"
	TriggerStartup  = "startup"
	TriggerWatch    = "watch"
	TriggerSchedule = "schedule"
	TriggerManual   = "manual"
)

// ErrActionsFailed is returned (wrapped, with counts) when a run finished
// but some of its actions failed.
var ErrActionsFailed = errors.New("some actions failed")

// ErrIncomplete is returned (wrapped, with the count) when a run finished
// but could not know or use everything it was asked to sync: a folder left
// unknown, a name refused as unsafe (ferrysync.Result.Problems). Like
// ErrActionsFailed it makes the run "partial".
var ErrIncomplete = errors.New("the run was incomplete")

// Env is what a run borrows from its front end. The zero value is a
// command-line run: Run opens the state cache and a pool of its own and
// closes both.
type Env struct {
	// DB is the open state cache; nil: Run opens Job.State (a dry run
	// without a cache file reads nothing and creates nothing).
	DB *state.DB
	// Pool is the connection pool to the job's server; nil: Run makes one
	// of Job.Parallel connections and closes it at the end.
	Pool *ftp.Pool
	// Reporter receives the run's events; nil: none.
	Reporter ferrysync.Reporter
	// Trigger is recorded in the run history; "": TriggerCLI.
	Trigger string
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Paths, when not nil, makes the run change-only: just these local
	// paths (relative, slash-separated) are compared and synced (see
	// sync.Options.Paths).
	Paths []string
	// Drain, when closed, makes the run start no more transfers (see
	// sync.Options.Drain).
	Drain <-chan struct{}
	// Waiting, when set, is told (once) that another ferry process is
	// syncing the same local folder; the run waits for it to finish.
	Waiting func()
}

// Run carries out one run of j: it warms the pool (the first login goes on
// while the state cache opens), loads the server profile earlier runs
// learned, records the run's start, syncs, saves what the run learned about
// the server and records how the run ended. The Result is returned whenever
// a plan was made, also with an error. The error is a *ferrysync.UsageError
// for a bad state cache path, wraps ErrActionsFailed when some actions
// failed and ErrIncomplete when the run had problems (also in a dry run),
// and is the run's own error otherwise.
func (j *Job) Run(ctx context.Context, env Env) (*ferrysync.Result, error) {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Trigger == "" {
		env.Trigger = TriggerCLI
	}
	rep := env.Reporter
	if rep == nil {
		rep = ferrysync.NopReporter{}
	}
	if !j.DryRun {
		// One local folder is never synced by two processes at once.
		lock, err := lockRoot(ctx, j.Local, env.Waiting)
		if err != nil {
			return nil, err
		}
		defer lock.Unlock()
	}
	pool := env.Pool
	if pool == nil {
		pool = ftp.NewPool(j.Remote.Config, j.Parallel)
		defer pool.Close()
		pool.Warm(ctx)
	}
	db := env.DB
	store, rootID, err := j.openStore(ctx, &db)
	if err != nil {
		return nil, err
	}
	if env.DB == nil && db != nil {
		defer db.Close()
	}
	var known ftp.Profile
	if !j.Reprobe {
		known = loadProfile(ctx, db, j.Remote, pool)
	}
	var runID state.RunID
	if !j.DryRun {
		if runID, err = db.StartRun(ctx, rootID, j.Name, j.Mode.String(), env.Trigger, env.Now()); err != nil {
			return nil, err
		}
	}
	res, runErr := ferrysync.Run(ctx, ferrysync.Options{
		Mode: j.Mode, Local: j.Local, Pool: pool, Remote: j.Remote.Dir, Store: store, Exclude: j.Exclude,
		Delete: j.Delete, DryRun: j.DryRun, Parallel: j.Parallel, MaxDelete: j.MaxDelete, BWLimit: j.BWLimit,
		Verify: j.Verify, BackupDir: j.BackupDir, Reporter: rep, Now: env.Now,
		Paths: env.Paths, Drain: env.Drain, ProbeZone: true,
	})
	closeErr := store.Close(context.WithoutCancel(ctx))
	if !j.DryRun {
		saveProfile(context.WithoutCancel(ctx), db, j.Remote, pool, known, env.Now())
	}
	if res != nil {
		rep.Finished(res)
	}
	if !j.DryRun {
		finishRun(ctx, db, runID, res, runErr, env.Now())
	}
	if runErr != nil {
		return res, runErr
	}
	if closeErr != nil {
		return res, fmt.Errorf("saving state cache: %w", closeErr)
	}
	return res, outcome(res)
}

// outcome is the error of a run that was carried out: nil, or one wrapping
// ErrActionsFailed, ErrIncomplete or both.
func outcome(res *ferrysync.Result) error {
	failed, problems := len(res.Failed), len(res.Problems)
	switch {
	case failed > 0 && problems > 0:
		return fmt.Errorf("%w: %d of %d; %w: %d %s", ErrActionsFailed, failed, len(res.Plan.Actions),
			ErrIncomplete, problems, plural(problems, "problem", "problems"))
	case failed > 0:
		return fmt.Errorf("%w: %d of %d", ErrActionsFailed, failed, len(res.Plan.Actions))
	case problems > 0:
		return fmt.Errorf("%w: %d %s", ErrIncomplete, problems, plural(problems, "problem", "problems"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// RunResult turns a run's outcome into the record the run history keeps.
func RunResult(res *ferrysync.Result, runErr error, ended time.Time) state.RunResult {
	rr := state.RunResult{Ended: ended, Result: state.ResultOK}
	if res != nil {
		rr.FilesUp, rr.FilesDown, rr.FilesDeleted = res.FilesUp, res.FilesDown, res.Deleted
		rr.BytesUp, rr.BytesDown = res.BytesUp, res.BytesDown
		// Errors counts failed actions and problems alike: each is
		// something the run did not do.
		rr.Errors, rr.Conflicts = len(res.Failed)+len(res.Problems), res.Conflicts
		switch {
		case len(res.Failed) > 0:
			rr.Result = state.ResultPartial
			rr.ErrorText = res.Failed[0].Error()
		case len(res.Problems) > 0:
			rr.Result = state.ResultPartial
			rr.ErrorText = res.Problems[0].Error()
		}
	}
	if runErr != nil {
		rr.Result = state.ResultFailed
		rr.ErrorText = runErr.Error()
		if errors.Is(runErr, context.Canceled) {
			rr.Result = state.ResultInterrupted
		}
	}
	return rr
}

func finishRun(ctx context.Context, db *state.DB, id state.RunID, res *ferrysync.Result, runErr error, ended time.Time) {
	db.FinishRun(context.WithoutCancel(ctx), id, RunResult(res, runErr, ended))
}

// profileKey names a server in the state cache's profiles: its address and
// user (never the password).
func profileKey(r *ferrysync.Remote) string { return r.Config.Addr + " " + r.Config.User }

// loadProfile seeds the pool with what earlier runs learned about the
// server (how it sets mtimes, whether it refuses REST before STOR), so
// that is not probed again on every run. It returns what it loaded.
func loadProfile(ctx context.Context, db *state.DB, r *ferrysync.Remote, pool *ftp.Pool) ftp.Profile {
	var p ftp.Profile
	if db == nil {
		return p
	}
	data, _, ok, err := db.ServerProfile(ctx, profileKey(r))
	if err != nil || !ok || json.Unmarshal(data, &p) != nil {
		return ftp.Profile{}
	}
	pool.SetProfile(p)
	return p
}

// saveProfile records what this run learned, when it differs.
func saveProfile(ctx context.Context, db *state.DB, r *ferrysync.Remote, pool *ftp.Pool, known ftp.Profile, now time.Time) {
	p := pool.Profile()
	if db == nil || p == known {
		return
	}
	if data, err := json.Marshal(p); err == nil {
		db.SaveServerProfile(ctx, profileKey(r), data, now)
	}
}
