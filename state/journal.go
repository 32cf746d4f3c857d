package state

import (
	"context"
	"fmt"
)

// JournalEntry is a non-atomic step that was started and not yet marked
// done: after a crash the engine finds it here and repairs or finishes it.
type JournalEntry struct {
	ID   int64
	Root RootID
	Kind string // caller-defined, e.g. "replace" (delete then rename) or "upload-temp"
	Path string
	Data string // caller-defined details, e.g. the temporary name
}

// JournalAdd records, durably against a process crash, that a non-atomic
// step on path is about to start, and returns the entry's id. Call it
// before the first half of the step and JournalDone after the last.
func (db *DB) JournalAdd(ctx context.Context, root RootID, kind, path, data string) (int64, error) {
	res, err := db.sql.ExecContext(ctx,
		`INSERT INTO journal (root_id, kind, path, data) VALUES (?, ?, ?, ?)`, root, kind, path, data)
	if err != nil {
		return 0, fmt.Errorf("state: journal %s %s: %w", kind, path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("state: journal %s %s: %w", kind, path, err)
	}
	return id, nil
}

// JournalDone removes entry id. It fails with an error wrapping ErrNotFound
// when there is no such entry (already done).
func (db *DB) JournalDone(ctx context.Context, id int64) error {
	res, err := db.sql.ExecContext(ctx, `DELETE FROM journal WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("state: journal done %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("state: journal done %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("state: journal done %d: %w", id, ErrNotFound)
	}
	return nil
}

// Journal returns the root's pending entries, oldest first.
func (db *DB) Journal(ctx context.Context, root RootID) ([]JournalEntry, error) {
	rows, err := db.sql.QueryContext(ctx,
		`SELECT id, root_id, kind, path, data FROM journal WHERE root_id = ? ORDER BY id`, root)
	if err != nil {
		return nil, fmt.Errorf("state: journal of root %d: %w", root, err)
	}
	defer rows.Close()
	var out []JournalEntry
	for rows.Next() {
		var e JournalEntry
		if err := rows.Scan(&e.ID, &e.Root, &e.Kind, &e.Path, &e.Data); err != nil {
			return nil, fmt.Errorf("state: journal of root %d: %w", root, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: journal of root %d: %w", root, err)
	}
	return out, nil
}
