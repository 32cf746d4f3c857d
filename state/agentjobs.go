package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AgentJob is what the agent records of one of its jobs for `ferry
// status`: the parts of its state that live only in the agent's memory.
type AgentJob struct {
	Name     string
	Mode     string
	Local    string
	Remote   string // URL without password
	Watch    string // off, starting, ok or degraded
	WatchWhy string // why degraded
	Schedule string
	NextRun  time.Time // zero: none planned
	Problem  string    // paused or failing, and why; "" when fine
	Updated  time.Time
}

// SaveAgentJob inserts or replaces the record of job j.Name.
func (db *DB) SaveAgentJob(ctx context.Context, j AgentJob) error {
	next, err := toNanos(j.NextRun)
	if err != nil {
		return fmt.Errorf("state: save agent job %s: %w", j.Name, err)
	}
	upd, err := toNanos(j.Updated)
	if err != nil || !upd.Valid {
		return fmt.Errorf("state: save agent job %s: bad update time %v", j.Name, j.Updated)
	}
	_, err = db.sql.ExecContext(ctx, `INSERT OR REPLACE INTO agent_jobs
		(name, mode, local, remote, watch, watch_why, schedule, next_run, problem, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.Name, j.Mode, j.Local, j.Remote, j.Watch, j.WatchWhy, j.Schedule, next, j.Problem, upd)
	if err != nil {
		return fmt.Errorf("state: save agent job %s: %w", j.Name, err)
	}
	return nil
}

// AgentJobs returns every recorded agent job, by name.
func (db *DB) AgentJobs(ctx context.Context) ([]AgentJob, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT name, mode, local, remote, watch, watch_why, schedule,
		next_run, problem, updated FROM agent_jobs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("state: agent jobs: %w", err)
	}
	defer rows.Close()
	var out []AgentJob
	for rows.Next() {
		var j AgentJob
		var next, upd sql.NullInt64
		if err := rows.Scan(&j.Name, &j.Mode, &j.Local, &j.Remote, &j.Watch, &j.WatchWhy, &j.Schedule,
			&next, &j.Problem, &upd); err != nil {
			return nil, fmt.Errorf("state: agent jobs: %w", err)
		}
		j.NextRun, j.Updated = fromNanos(next), fromNanos(upd)
		out = append(out, j)
	}
	return out, rows.Err()
}

// KeepAgentJobs deletes the records of agent jobs not named in names (jobs
// gone from the configuration).
func (db *DB) KeepAgentJobs(ctx context.Context, names []string) error {
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("state: keep agent jobs: %w", err)
	}
	defer tx.Rollback()
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	rows, err := tx.QueryContext(ctx, `SELECT name FROM agent_jobs`)
	if err != nil {
		return fmt.Errorf("state: keep agent jobs: %w", err)
	}
	var drop []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return fmt.Errorf("state: keep agent jobs: %w", err)
		}
		if !keep[n] {
			drop = append(drop, n)
		}
	}
	rows.Close()
	for _, n := range drop {
		if _, err := tx.ExecContext(ctx, `DELETE FROM agent_jobs WHERE name = ?`, n); err != nil {
			return fmt.Errorf("state: keep agent jobs: %w", err)
		}
	}
	return tx.Commit()
}
