package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// BusyTimeout is how long, in milliseconds, a connection waits for another
// connection's or process's write lock before failing with SQLITE_BUSY.
const BusyTimeout = 5000

// DB is an open state cache. It owns the *sql.DB; all methods are safe for
// concurrent use.
type DB struct {
	sql       *sql.DB
	path      string
	closeOnce sync.Once
	closeErr  error
}

// DefaultPath returns the state file used when no --state is given:
// $XDG_STATE_HOME/ferry/state.db, or ~/.local/state/ferry/state.db when
// XDG_STATE_HOME is unset or not absolute (the XDG spec says relative values
// are invalid and must be ignored).
func DefaultPath() (string, error) {
	if dir := os.Getenv("XDG_STATE_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "ferry", "state.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("state: default path: %w", err)
	}
	return filepath.Join(home, ".local", "state", "ferry", "state.db"), nil
}

// Open opens the state cache at path, creating it and its parent folders
// (mode 0700; the file itself 0600) when missing, and brings its schema up
// to date. It fails with an error wrapping ErrNotDatabase when path is not a
// SQLite file, and with a *VersionError when the file was written by a
// newer ferry. The caller must Close the DB.
func Open(ctx context.Context, path string) (*DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	// Create the file ourselves so it is private: it names servers, users and
	// paths. SQLite gives its -wal and -shm files the same mode.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in our prefix
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	f.Close()

	db := &DB{sql: sql.OpenDB(newConnector(abs)), path: path}
	if err := db.sql.PingContext(ctx); err != nil {
		db.sql.Close()
		return nil, openError(path, err)
	}
	if err := migrate(ctx, db.sql, path, migrationFiles); err != nil {
		db.sql.Close()
		return nil, openError(path, err)
	}
	return db, nil
}

// openError names the path and maps SQLITE_NOTADB to ErrNotDatabase.
func openError(path string, err error) error {
	var ve *VersionError
	if errors.As(err, &ve) {
		return err
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.Code == sqlite3.ErrNotADB {
		return fmt.Errorf("state: open %s: %w (%v)", path, ErrNotDatabase, err)
	}
	return fmt.Errorf("state: open %s: %w", path, err)
}

// Path returns the path the DB was opened with.
func (db *DB) Path() string { return db.path }

// Close runs PRAGMA optimize and closes the database. Writers still open
// lose their unflushed rows; Close them first. Later calls return the
// first call's result.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		_, optErr := db.sql.Exec("PRAGMA optimize")
		if err := db.sql.Close(); err != nil {
			db.closeErr = fmt.Errorf("state: close %s: %w", db.path, err)
		} else if optErr != nil {
			db.closeErr = fmt.Errorf("state: close %s: optimize: %w", db.path, optErr)
		}
	})
	return db.closeErr
}

// connector opens go-sqlite3 connections without registering a driver name
// (no package-level state) and applies the pragmas to each one.
type connector struct {
	drv *sqlite3.SQLiteDriver
	dsn string
}

func newConnector(abs string) *connector {
	// A file: URI so that '?', '#' and '%' in the path are escaped rather
	// than taken as options. _txlock=immediate makes every transaction take
	// the write lock at BEGIN, so two writers queue on the busy timeout
	// instead of failing to upgrade a read lock.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?_txlock=immediate"
	return &connector{drv: &sqlite3.SQLiteDriver{ConnectHook: setupConn}, dsn: dsn}
}

func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c *connector) Driver() driver.Driver                        { return c.drv }

// pragma is one connection setting and the value PRAGMA name reads back
// once it is applied.
type pragma struct{ name, set, want string }

func connPragmas() []pragma {
	return []pragma{
		{"busy_timeout", fmt.Sprint(BusyTimeout), fmt.Sprint(BusyTimeout)},
		{"journal_mode", "WAL", "wal"},
		{"synchronous", "NORMAL", "1"}, // 1 = NORMAL
		{"foreign_keys", "ON", "1"},
	}
}

// setupConn prepares every new connection: the pragmas, and no checkpoint
// when it closes (noCheckpointOnClose; best effort, so its error is
// dropped: without it each exit just checkpoints).
func setupConn(conn *sqlite3.SQLiteConn) error {
	if err := applyPragmas(conn); err != nil {
		return err
	}
	noCheckpointOnClose(conn)
	return nil
}

// applyPragmas sets each pragma on a new connection and reads it back: a
// pragma SQLite does not know, or cannot apply (WAL on some file systems),
// is silently ignored, so only reading it back proves it took.
func applyPragmas(conn *sqlite3.SQLiteConn) error {
	for _, p := range connPragmas() {
		if _, err := conn.Exec("PRAGMA "+p.name+" = "+p.set, nil); err != nil {
			return fmt.Errorf("set PRAGMA %s: %w", p.name, err)
		}
		got, err := readPragma(conn, p.name)
		if err != nil {
			return err
		}
		if !strings.EqualFold(got, p.want) {
			return fmt.Errorf("PRAGMA %s = %s not applied: reads back %q", p.name, p.set, got)
		}
	}
	return nil
}

func readPragma(conn *sqlite3.SQLiteConn, name string) (string, error) {
	rows, err := conn.Query("PRAGMA "+name, nil)
	if err != nil {
		return "", fmt.Errorf("read PRAGMA %s: %w", name, err)
	}
	defer rows.Close()
	dest := make([]driver.Value, len(rows.Columns()))
	if err := rows.Next(dest); err != nil {
		if err == io.EOF {
			return "", fmt.Errorf("read PRAGMA %s: no value", name)
		}
		return "", fmt.Errorf("read PRAGMA %s: %w", name, err)
	}
	if b, ok := dest[0].([]byte); ok {
		return string(b), nil
	}
	return fmt.Sprint(dest[0]), nil
}
