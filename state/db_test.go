package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ferrysync/ferry/sync/plan"
)

func TestOpenCreatesPrivateParentsAndSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x", "y z?#%", "state.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	for _, dir := range []string{filepath.Dir(path), filepath.Dir(filepath.Dir(path))} {
		fi, err := os.Stat(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o700 {
			t.Errorf("%s mode = %o, want 700", dir, got)
		}
	}
	fi, err := os.Stat(path) // the real file, not a mangled URI name
	if err != nil {
		t.Fatalf("state file not at %s: %v", path, err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("state file mode = %o, want 600", got)
	}
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	var v int
	if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != len(ms) || v < 1 {
		t.Errorf("user_version = %d, want %d", v, len(ms))
	}
	for _, table := range []string{"roots", "root_meta", "entries", "runs", "server_profiles", "journal"} {
		var n int
		err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, table).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("table %s: count %d, err %v", table, n, err)
		}
	}
}

func TestPragmasAppliedOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	want := map[string]string{"journal_mode": "wal", "synchronous": "1", "foreign_keys": "1", "busy_timeout": "5000"}
	// Hold three connections at once so the pool has to open new ones.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		for name, w := range want {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+name).Scan(&got); err != nil {
				t.Fatalf("conn %d PRAGMA %s: %v", i, name, err)
			}
			if !strings.EqualFold(got, w) {
				t.Errorf("conn %d PRAGMA %s = %q, want %q", i, name, got, w)
			}
		}
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	root := mustRoot(t, db, "/srv/site", "ftp://deploy@example.com/www")
	putAll(t, db, root, map[string]plan.Record{"a.txt": fileRecord(1)})
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing does not checkpoint (noCheckpointOnClose): the records are
	// still in the WAL, and the next open reads them from there.
	if st, err := os.Stat(path + "-wal"); err != nil || st.Size() == 0 {
		t.Errorf("WAL after close: %v, %v; want it kept, not empty", st, err)
	}
	db2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db2.Close()
	if got := mustRoot(t, db2, "/srv/site", "ftp://deploy@example.com/www"); got != root {
		t.Errorf("root id after reopen = %d, want %d", got, root)
	}
	st, err := db2.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st["a.txt"], fileRecord(1); !recordEqual(got, want) {
		t.Errorf("after reopen a.txt = %+v, want %+v", got, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	db, path := openTest(t)
	if _, err := db.sql.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err := Open(ctx, path)
	var ve *VersionError
	if !errors.As(err, &ve) {
		t.Fatalf("Open of a version-99 file: err = %v, want *VersionError", err)
	}
	if ve.Version != 99 || ve.Known < 1 || ve.Known >= 99 || ve.Path != path {
		t.Errorf("VersionError = %+v", ve)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
}

func TestOpenRejectsNonSQLiteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	text := strings.Repeat("this is not a database, just some text\n", 200)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(context.Background(), path)
	if !errors.Is(err, ErrNotDatabase) {
		t.Fatalf("Open of a text file: err = %v, want ErrNotDatabase", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the path", err)
	}
	if got, _ := os.ReadFile(path); string(got) != text {
		t.Errorf("Open modified the non-database file")
	}
}

func TestMigrationEachStepInOwnTransaction(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	version := func() int {
		var v int
		if err := db.sql.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	base := version()
	next := func(n int) string { return fmt.Sprintf("migrations/%04d_t.sql", n) }
	fsys := fstest.MapFS{}
	for n := 1; n <= base; n++ {
		fsys[next(n)] = &fstest.MapFile{Data: []byte("SELECT 1;")}
	}
	// Step base+1 succeeds; step base+2 fails half-way and must leave no trace.
	fsys[next(base+1)] = &fstest.MapFile{Data: []byte("CREATE TABLE t1 (x);")}
	fsys[next(base+2)] = &fstest.MapFile{Data: []byte("CREATE TABLE t2 (x); INSERT INTO nope VALUES (1);")}
	if err := migrate(ctx, db.sql, "test.db", fsys); err == nil {
		t.Fatal("migrate with a failing step succeeded")
	}
	if got := version(); got != base+1 {
		t.Errorf("user_version after failed step = %d, want %d", got, base+1)
	}
	var n int
	db.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name IN ('t1', 't2')`).Scan(&n)
	if n != 1 {
		t.Errorf("tables t1,t2 present: %d, want only t1", n)
	}
	fsys[next(base+2)] = &fstest.MapFile{Data: []byte("CREATE TABLE t2 (x);")}
	if err := migrate(ctx, db.sql, "test.db", fsys); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if got := version(); got != base+2 {
		t.Errorf("user_version = %d, want %d", got, base+2)
	}
}

func TestLoadMigrationsRejectsBadNumbering(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"gap":       {"migrations/0001_a.sql": {}, "migrations/0003_c.sql": {}},
		"no number": {"migrations/init.sql": {}},
		"zero":      {"migrations/0000_a.sql": {}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("%s: loadMigrations accepted it", name)
		}
	}
}

func TestDefaultPathFollowsXDG(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	for _, tc := range []struct {
		name, xdg, want string
	}{
		{"XDG_STATE_HOME set", "/var/state", "/var/state/ferry/state.db"},
		{"unset", "", filepath.Join(home, ".local/state/ferry/state.db")},
		{"relative is ignored", "rel/dir", filepath.Join(home, ".local/state/ferry/state.db")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tc.xdg)
			got, err := DefaultPath()
			if err != nil || got != tc.want {
				t.Errorf("DefaultPath() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
