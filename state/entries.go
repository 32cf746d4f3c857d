package state

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3"

	"github.com/ferrysync/ferry/sync/plan"
)

const entryCols = `path, kind, local_kind, local_size, local_mtime, local_prec,
	remote_kind, remote_size, remote_mtime, remote_prec`

// Load returns every Record of the root. Times come back in UTC with their
// nanoseconds; an unknown (zero) time comes back as the zero time.Time. A
// root with no records gives an empty, non-nil State.
func (db *DB) Load(ctx context.Context, root RootID) (plan.State, error) {
	st := plan.State{}
	err := db.loadInto(ctx, st, `SELECT `+entryCols+` FROM entries WHERE root_id = ?`, root)
	if err != nil {
		return nil, fmt.Errorf("state: load root %d: %w", root, err)
	}
	return st, nil
}

// LoadUnder returns the Records of the root whose path equals one of the
// prefixes or lies below it ("a" selects "a" and "a/b", not "ab", "a b" or
// "a.b"). Prefixes are relative paths like plan.Tree's; "" selects the whole
// root. Each prefix is two index range lookups, never a scan of the root, so
// the agent's watch runs stay cheap on huge trees.
func (db *DB) LoadUnder(ctx context.Context, root RootID, prefixes []string) (plan.State, error) {
	st := plan.State{}
	for _, p := range coverPrefixes(prefixes) {
		if p == "" {
			return db.Load(ctx, root)
		}
		// Every path below p starts with p+"/"; since '0' is the byte after
		// '/', they are exactly the paths in [p+"/", p+"0") under SQLite's
		// BINARY (memcmp) collation. No LIKE, so '%' and '_' in names are
		// plain bytes.
		err := db.loadInto(ctx, st,
			`SELECT `+entryCols+` FROM entries WHERE root_id = ?1 AND path = ?2
			 UNION ALL
			 SELECT `+entryCols+` FROM entries WHERE root_id = ?1 AND path >= ?3 AND path < ?4`,
			root, p, p+"/", p+"0")
		if err != nil {
			return nil, fmt.Errorf("state: load root %d under %s: %w", root, p, err)
		}
	}
	return st, nil
}

// coverPrefixes cleans trailing slashes, sorts the prefixes and drops
// duplicates and those lying below another one.
func coverPrefixes(prefixes []string) []string {
	ps := make([]string, 0, len(prefixes))
	for _, p := range prefixes {
		ps = append(ps, strings.Trim(p, "/"))
	}
	sort.Strings(ps)
	out := ps[:0]
	for _, p := range ps {
		if n := len(out); n > 0 {
			last := out[n-1]
			if last == "" || p == last || strings.HasPrefix(p, last+"/") {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

// loadInto runs query (selecting entryCols) and adds its rows to st. It
// reads rows at the driver level: database/sql's conversions cost about
// a third of a 50,000-record load (BenchmarkLoad50k).
func (db *DB) loadInto(ctx context.Context, st plan.State, query string, args ...any) error {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		v, err := driver.DefaultParameterConverter.ConvertValue(a)
		if err != nil {
			return fmt.Errorf("argument %d: %w", i+1, err)
		}
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("unexpected driver connection %T", dc)
		}
		rows, err := c.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		defer rows.Close()
		row := make([]driver.Value, 10)
		for {
			if err := rows.Next(row); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			r, err := scanRecord(row)
			if err != nil {
				return err
			}
			st[asText(row[0])] = r
		}
	})
}

// scanRecord converts one row of entryCols (after the path).
func scanRecord(row []driver.Value) (plan.Record, error) {
	var n [9]int64
	var null [9]bool
	for i, v := range row[1:] {
		switch v := v.(type) {
		case int64:
			n[i] = v
		case nil:
			null[i] = true
		default:
			return plan.Record{}, fmt.Errorf("column %d of %q holds %T, want an integer", i+2, asText(row[0]), v)
		}
	}
	meta := func(k, size, mt, prec int) plan.Meta {
		m := plan.Meta{Kind: plan.Kind(n[k]), Size: n[size], Precision: time.Duration(n[prec])}
		if !null[mt] {
			m.ModTime = time.Unix(0, n[mt]).UTC()
		}
		return m
	}
	return plan.Record{Kind: plan.Kind(n[0]), Local: meta(1, 2, 3, 4), Remote: meta(5, 6, 7, 8)}, nil
}

// asText returns a TEXT (or BLOB) value as a string.
func asText(v driver.Value) string {
	switch v := v.(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}

// Count returns how many files (Records of Kind File) the root holds; the
// engine compares it with a fresh local scan to notice a vanished or
// replaced local root.
func (db *DB) Count(ctx context.Context, root RootID) (int, error) {
	var n int
	err := db.sql.QueryRowContext(ctx,
		`SELECT count(*) FROM entries WHERE root_id = ? AND kind = ?`, root, int64(plan.File)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("state: count root %d: %w", root, err)
	}
	return n, nil
}

func fromNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func toNanos(t time.Time) (sql.NullInt64, error) {
	if t.IsZero() {
		return sql.NullInt64{}, nil
	}
	// Unix nanoseconds in an int64 cover the years 1678 to 2262.
	if t.Before(time.Unix(0, -1<<63)) || t.After(time.Unix(0, 1<<63-1)) {
		return sql.NullInt64{}, fmt.Errorf("time %s outside the storable range 1678-2262", t.UTC().Format(time.RFC3339))
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}, nil
}

// checkPath accepts the relative paths plan.Tree uses: slash-separated, not
// empty, no leading or trailing slash, no "." or ".." element, no NUL.
func checkPath(p string) error {
	if p == "" || p == "." || !fs.ValidPath(p) || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("invalid relative path %q", p)
	}
	return nil
}

func checkRecord(r plan.Record) error {
	if r.Kind != plan.File && r.Kind != plan.Dir {
		return fmt.Errorf("record kind %d is neither file nor dir", r.Kind)
	}
	return nil
}

// LoadPaths returns the records of exactly the given paths of root (those
// that have one), for a change-only run's look-up of the changed paths'
// parents.
func (db *DB) LoadPaths(ctx context.Context, root RootID, paths []string) (plan.State, error) {
	st := plan.State{}
	for _, p := range paths {
		err := db.loadInto(ctx, st, `SELECT `+entryCols+` FROM entries WHERE root_id = ? AND path = ?`, root, p)
		if err != nil {
			return nil, fmt.Errorf("state: load root %d path %s: %w", root, p, err)
		}
	}
	return st, nil
}

// FileCounts returns how many files of root the state cache knows on the
// local and on the remote side, for the delete guards of a run that does
// not scan the whole tree.
func (db *DB) FileCounts(ctx context.Context, root RootID) (local, remote int, err error) {
	err = db.sql.QueryRowContext(ctx, `SELECT coalesce(sum(local_kind = 1), 0), coalesce(sum(remote_kind = 1), 0)
		FROM entries WHERE root_id = ? AND kind = 1`, root).Scan(&local, &remote)
	if err != nil {
		return 0, 0, fmt.Errorf("state: count files of root %d: %w", root, err)
	}
	return local, remote, nil
}
