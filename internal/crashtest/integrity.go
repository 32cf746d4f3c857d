//go:build linux

package crashtest

import (
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/mattn/go-sqlite3" // the driver ferry's state cache uses
)

// checkIntegrity runs PRAGMA integrity_check (and foreign_key_check) on a
// copy of the state cache at statePath with its write-ahead log, as a
// crashed ferry left them: the copy keeps the check from changing the
// files the next run opens (closing the last connection checkpoints the
// log). No cache yet is fine.
func checkIntegrity(statePath, scratch string) error {
	if _, err := os.Stat(statePath); errors.Is(err, fs.ErrNotExist) {
		if _, werr := os.Stat(statePath + "-wal"); werr == nil {
			return fmt.Errorf("%s-wal exists without %s", statePath, statePath)
		}
		return nil
	}
	if err := os.RemoveAll(scratch); err != nil {
		return err
	}
	if err := os.MkdirAll(scratch, 0o755); err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	cp := filepath.Join(scratch, "state.db")
	for _, suffix := range []string{"", "-wal"} {
		if err := copyFile(statePath+suffix, cp+suffix); err != nil {
			if suffix != "" && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
	}
	db, err := sql.Open("sqlite3", "file:"+cp)
	if err != nil {
		return err
	}
	defer db.Close()
	var problems []string
	rows, err := db.Query("PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("integrity_check: %w", err)
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	fk, err := db.Query("PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign_key_check: %w", err)
	}
	for fk.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var idx int
		if err := fk.Scan(&table, &rowid, &parent, &idx); err == nil {
			problems = append(problems, fmt.Sprintf("foreign key: %s row %v -> %s", table, rowid.Int64, parent))
		}
	}
	fk.Close()
	if len(problems) > 0 {
		return fmt.Errorf("state cache damaged: %s", strings.Join(problems, "; "))
	}
	return nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
