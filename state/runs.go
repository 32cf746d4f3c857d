package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// RunID identifies a run in the state cache.
type RunID int64

// Run results, as stored by FinishRun.
const (
	ResultOK          = "ok"
	ResultFailed      = "failed"
	ResultPartial     = "partial"
	ResultInterrupted = "interrupted"
)

// RunResult is how a run ended.
type RunResult struct {
	Ended                            time.Time
	Result                           string // ResultOK, ResultFailed, ResultPartial or ResultInterrupted
	FilesUp, FilesDown, FilesDeleted int
	BytesUp, BytesDown               int64
	Errors                           int
	Conflicts                        int    // two-way conflicts kept as .conflict- copies
	ErrorText                        string // first or summarised error, for `ferry status`
}

// Run is one stored run with its root. Ended is zero and Result is "" while
// the run has not finished — it is still going, or its process died.
type Run struct {
	ID      RunID
	Root    RootID
	Local   string
	Remote  string
	Job     string // "" for a command-line run
	Mode    string
	Trigger string // what started it: cli, startup, watch, schedule, manual
	Started time.Time
	RunResult
}

// StartRun records the start of a run of root and returns its id. job is
// the agent job's name ("" for push/pull/sync from the command line), mode
// is push, pull or two-way, trigger says what started it (cli, startup,
// watch, schedule, manual), started is the caller's clock.
func (db *DB) StartRun(ctx context.Context, root RootID, job, mode, trigger string, started time.Time) (RunID, error) {
	ns, err := toNanos(started)
	if err != nil || !ns.Valid {
		return 0, fmt.Errorf("state: start run of root %d: bad start time %v", root, started)
	}
	res, err := db.sql.ExecContext(ctx,
		`INSERT INTO runs (root_id, job, mode, trigger, started) VALUES (?, ?, ?, ?, ?)`, root, job, mode, trigger, ns)
	if err != nil {
		return 0, fmt.Errorf("state: start run of root %d: %w", root, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("state: start run of root %d: %w", root, err)
	}
	return RunID(id), nil
}

// FinishRun records how run id ended. It fails with an error wrapping
// ErrNotFound for an unknown id, and refuses a Result other than the four
// Result constants.
func (db *DB) FinishRun(ctx context.Context, id RunID, r RunResult) error {
	switch r.Result {
	case ResultOK, ResultFailed, ResultPartial, ResultInterrupted:
	default:
		return fmt.Errorf("state: finish run %d: unknown result %q", id, r.Result)
	}
	ended, err := toNanos(r.Ended)
	if err != nil || !ended.Valid {
		return fmt.Errorf("state: finish run %d: bad end time %v", id, r.Ended)
	}
	res, err := db.sql.ExecContext(ctx,
		`UPDATE runs SET ended = ?, result = ?, files_up = ?, files_down = ?, files_deleted = ?,
		 bytes_up = ?, bytes_down = ?, errors = ?, conflicts = ?, error_text = ? WHERE id = ?`,
		ended, r.Result, r.FilesUp, r.FilesDown, r.FilesDeleted, r.BytesUp, r.BytesDown,
		r.Errors, r.Conflicts, r.ErrorText, id)
	if err != nil {
		return fmt.Errorf("state: finish run %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("state: finish run %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("state: finish run %d: %w", id, ErrNotFound)
	}
	return nil
}

const runCols = `r.id, r.root_id, o.local, o.remote, r.job, r.mode, r.trigger, r.started, r.ended,
	coalesce(r.result, ''), r.files_up, r.files_down, r.files_deleted, r.bytes_up, r.bytes_down,
	r.errors, r.conflicts, r.error_text`

// LastRuns returns the latest run (by start time, then id) of each root and
// job, ordered by local path, remote and job.
func (db *DB) LastRuns(ctx context.Context) ([]Run, error) {
	runs, err := db.queryRuns(ctx, `SELECT `+runCols+` FROM (
		SELECT *, row_number() OVER (PARTITION BY root_id, job ORDER BY started DESC, id DESC) AS rn
		FROM runs) r JOIN roots o ON o.id = r.root_id
		WHERE r.rn = 1 ORDER BY o.local, o.remote, r.job`)
	if err != nil {
		return nil, fmt.Errorf("state: last runs: %w", err)
	}
	return runs, nil
}

// Runs returns up to limit runs of root, newest first (limit <= 0: all).
func (db *DB) Runs(ctx context.Context, root RootID, limit int) ([]Run, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	runs, err := db.queryRuns(ctx, `SELECT `+runCols+` FROM runs r JOIN roots o ON o.id = r.root_id
		WHERE r.root_id = ? ORDER BY r.started DESC, r.id DESC LIMIT ?`, root, limit)
	if err != nil {
		return nil, fmt.Errorf("state: runs of root %d: %w", root, err)
	}
	return runs, nil
}

// PruneRuns deletes all but the newest keep runs of each root and job, so
// a watching agent's history stays bounded. It returns how many it deleted.
func (db *DB) PruneRuns(ctx context.Context, keep int) (int64, error) {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM runs WHERE id IN (
		SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY root_id, job
			ORDER BY started DESC, id DESC) AS rn FROM runs) WHERE rn > ?)`, keep)
	if err != nil {
		return 0, fmt.Errorf("state: prune runs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("state: prune runs: %w", err)
	}
	return n, nil
}

func (db *DB) queryRuns(ctx context.Context, query string, args ...any) ([]Run, error) {
	rows, err := db.sql.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		var (
			r              Run
			started, ended sql.NullInt64
		)
		if err := rows.Scan(&r.ID, &r.Root, &r.Local, &r.Remote, &r.Job, &r.Mode, &r.Trigger, &started, &ended,
			&r.Result, &r.FilesUp, &r.FilesDown, &r.FilesDeleted, &r.BytesUp, &r.BytesDown,
			&r.Errors, &r.Conflicts, &r.ErrorText); err != nil {
			return nil, err
		}
		r.Started, r.Ended = fromNanos(started), fromNanos(ended)
		out = append(out, r)
	}
	return out, rows.Err()
}

// LastErrors returns, for each root and job, the latest run that recorded
// an error (failed, partial or interrupted with a message), for `ferry
// status`'s "last error".
func (db *DB) LastErrors(ctx context.Context) ([]Run, error) {
	runs, err := db.queryRuns(ctx, `SELECT `+runCols+` FROM (
		SELECT *, row_number() OVER (PARTITION BY root_id, job ORDER BY started DESC, id DESC) AS rn
		FROM runs WHERE error_text != '') r JOIN roots o ON o.id = r.root_id
		WHERE r.rn = 1 ORDER BY o.local, o.remote, r.job`)
	if err != nil {
		return nil, fmt.Errorf("state: last errors: %w", err)
	}
	return runs, nil
}
