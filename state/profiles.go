package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ServerProfile returns the quirks profile stored for key (e.g.
// "ftp.example.com:21 deploy") and when it was probed; ok is false when
// none is stored. data is opaque here: the FTP layer serialises its own
// profile (as JSON).
func (db *DB) ServerProfile(ctx context.Context, key string) (data []byte, probedAt time.Time, ok bool, err error) {
	var at sql.NullInt64
	err = db.sql.QueryRowContext(ctx,
		`SELECT data, probed_at FROM server_profiles WHERE key = ?`, key).Scan(&data, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, time.Time{}, false, nil
	case err != nil:
		return nil, time.Time{}, false, fmt.Errorf("state: server profile %s: %w", key, err)
	}
	return data, fromNanos(at), true, nil
}

// SaveServerProfile stores data as the profile of key, probed at at,
// replacing any earlier one. key must not contain a password.
func (db *DB) SaveServerProfile(ctx context.Context, key string, data []byte, at time.Time) error {
	ns, err := toNanos(at)
	if err != nil || !ns.Valid {
		return fmt.Errorf("state: save server profile %s: bad probe time %v", key, at)
	}
	if data == nil {
		data = []byte{} // the column is NOT NULL
	}
	_, err = db.sql.ExecContext(ctx,
		`INSERT INTO server_profiles (key, data, probed_at) VALUES (?, ?, ?)
		 ON CONFLICT (key) DO UPDATE SET data = excluded.data, probed_at = excluded.probed_at`,
		key, data, ns)
	if err != nil {
		return fmt.Errorf("state: save server profile %s: %w", key, err)
	}
	return nil
}
