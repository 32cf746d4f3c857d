package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
)

// RootID identifies a sync root in the state cache.
type RootID int64

// RootInfo is a sync root as stored.
type RootInfo struct {
	ID     RootID
	Local  string
	Remote string
}

// Root returns the id of the sync root pairing the local folder with the
// remote URL, creating it on first use. local must be absolute; it is
// stored filepath.Clean'ed. remote must already be redacted by the caller
// (no password: ftp://user@host:21/path); one that still holds a password
// in its userinfo is refused with ErrPasswordInRemote and nothing is
// stored. Two spellings of one URL are two roots: callers should pass a
// canonical form.
func (db *DB) Root(ctx context.Context, local, remote string) (RootID, error) {
	if !filepath.IsAbs(local) {
		return 0, fmt.Errorf("state: root %s: local path must be absolute", local)
	}
	if err := CheckRemote(remote); err != nil {
		return 0, fmt.Errorf("state: root %s: %w", local, err)
	}
	local = filepath.Clean(local)
	if _, err := db.sql.ExecContext(ctx,
		`INSERT INTO roots (local, remote) VALUES (?, ?) ON CONFLICT (local, remote) DO NOTHING`,
		local, remote); err != nil {
		return 0, fmt.Errorf("state: root %s: %w", local, err)
	}
	var id RootID
	if err := db.sql.QueryRowContext(ctx,
		`SELECT id FROM roots WHERE local = ? AND remote = ?`, local, remote).Scan(&id); err != nil {
		return 0, fmt.Errorf("state: root %s: %w", local, err)
	}
	return id, nil
}

// CheckRemote returns an error wrapping ErrPasswordInRemote when remote is
// a URL whose userinfo carries a password, and a parse error when it is not
// a URL at all. It is what Root checks before storing a remote.
func CheckRemote(remote string) error {
	if remote == "" {
		return errors.New("empty remote URL")
	}
	u, err := url.Parse(remote)
	if err != nil {
		// url.Error would quote the whole string, password included.
		return errors.New("remote is not a valid URL")
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return ErrPasswordInRemote
		}
	}
	return nil
}

// Roots lists every sync root, ordered by local path then remote.
func (db *DB) Roots(ctx context.Context) ([]RootInfo, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, local, remote FROM roots ORDER BY local, remote`)
	if err != nil {
		return nil, fmt.Errorf("state: list roots: %w", err)
	}
	defer rows.Close()
	var out []RootInfo
	for rows.Next() {
		var r RootInfo
		if err := rows.Scan(&r.ID, &r.Local, &r.Remote); err != nil {
			return nil, fmt.Errorf("state: list roots: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("state: list roots: %w", err)
	}
	return out, nil
}

// SetRootMeta stores value under key for the root, replacing any earlier
// value. The engine keeps facts such as the local root's device id and the
// file count there for the "local root vanished or replaced" check.
func (db *DB) SetRootMeta(ctx context.Context, root RootID, key, value string) error {
	_, err := db.sql.ExecContext(ctx,
		`INSERT INTO root_meta (root_id, key, value) VALUES (?, ?, ?)
		 ON CONFLICT (root_id, key) DO UPDATE SET value = excluded.value`,
		root, key, value)
	if err != nil {
		return fmt.Errorf("state: set root %d meta %q: %w", root, key, err)
	}
	return nil
}

// RootMeta returns the value stored under key for the root; ok is false
// when there is none.
func (db *DB) RootMeta(ctx context.Context, root RootID, key string) (value string, ok bool, err error) {
	err = db.sql.QueryRowContext(ctx,
		`SELECT value FROM root_meta WHERE root_id = ? AND key = ?`, root, key).Scan(&value)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	case err != nil:
		return "", false, fmt.Errorf("state: root %d meta %q: %w", root, key, err)
	}
	return value, true, nil
}
