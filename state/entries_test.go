package state

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// recordEqual compares Records field by field, times with Equal and with
// the requirement that loaded times are UTC.
func recordEqual(a, b plan.Record) bool {
	meta := func(x, y plan.Meta) bool {
		return x.Kind == y.Kind && x.Size == y.Size && x.Precision == y.Precision &&
			x.ModTime.Equal(y.ModTime) && x.ModTime.IsZero() == y.ModTime.IsZero()
	}
	return a.Kind == b.Kind && meta(a.Local, b.Local) && meta(a.Remote, b.Remote)
}

func TestRecordRoundTripKeepsEveryMetaField(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/home/u/site", "ftp://u@h:2121/www")
	paris := time.FixedZone("CEST", 2*3600)
	recs := map[string]plan.Record{
		"nanoseconds.txt": {Kind: plan.File,
			Local:  plan.Meta{Kind: plan.File, Size: 1 << 40, ModTime: time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC), Precision: time.Nanosecond},
			Remote: plan.Meta{Kind: plan.File, Size: 1 << 40, ModTime: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), Precision: time.Second}},
		"non-utc input.txt": {Kind: plan.File,
			Local:  plan.Meta{Kind: plan.File, Size: 7, ModTime: time.Date(2025, 6, 1, 12, 0, 0, 1, paris), Precision: time.Microsecond},
			Remote: plan.Meta{Kind: plan.File, Size: 7, ModTime: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC), Precision: time.Minute}},
		"ls-date-precision": {Kind: plan.File,
			Local:  plan.Meta{Kind: plan.File, Size: 0, ModTime: time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC), Precision: time.Second},
			Remote: plan.Meta{Kind: plan.File, Size: 0, ModTime: time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC), Precision: 24 * time.Hour}},
		"dir": {Kind: plan.Dir,
			Local:  plan.Meta{Kind: plan.Dir, ModTime: time.Date(2020, 2, 29, 0, 0, 0, 0, time.UTC), Precision: time.Second},
			Remote: plan.Meta{Kind: plan.Dir}}, // no time known: zero
		"dir/only-local-known": {Kind: plan.File,
			Local: plan.Meta{Kind: plan.File, Size: 3, ModTime: time.Unix(0, 1).UTC(), Precision: time.Second}},
		"pre-1970": {Kind: plan.File,
			Local: plan.Meta{Kind: plan.File, Size: 1, ModTime: time.Date(1969, 7, 20, 20, 17, 40, 5, time.UTC), Precision: time.Nanosecond}},
	}
	putAll(t, db, root, recs)
	st, err := db.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != len(recs) {
		t.Errorf("Load returned %d records, want %d", len(st), len(recs))
	}
	for p, want := range recs {
		got, ok := st[p]
		if !ok {
			t.Errorf("%s missing", p)
			continue
		}
		if !recordEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", p, got, want)
		}
		for side, m := range map[string]plan.Meta{"local": got.Local, "remote": got.Remote} {
			if !m.ModTime.IsZero() && m.ModTime.Location() != time.UTC {
				t.Errorf("%s %s time in %v, want UTC", p, side, m.ModTime.Location())
			}
		}
	}
	if got := st["dir"].Remote.ModTime; !got.IsZero() {
		t.Errorf("unknown time came back as %v, want zero", got)
	}
}

func TestPutRejectsWhatCannotBeStored(t *testing.T) {
	db, _ := openTest(t)
	w := db.Writer(mustRoot(t, db, "/l", "ftp://h/"))
	defer w.Close(context.Background())
	good := fileRecord(1)
	badTime := good
	badTime.Local.ModTime = time.Date(1500, 1, 1, 0, 0, 0, 0, time.UTC)
	noKind := good
	noKind.Kind = 0
	for _, tc := range []struct {
		name, path string
		rec        plan.Record
	}{
		{"empty path", "", good},
		{"leading slash", "/a", good},
		{"trailing slash", "a/", good},
		{"dot element", "a/./b", good},
		{"dotdot element", "../a", good},
		{"root dot", ".", good},
		{"NUL byte", "a\x00b", good},
		{"kind unset", "a", noKind},
		{"time before 1678", "a", badTime},
	} {
		if err := w.Put(tc.path, tc.rec); err == nil {
			t.Errorf("%s: Put(%q) accepted", tc.name, tc.path)
		}
	}
	if err := w.Delete("a//b"); err == nil {
		t.Errorf("Delete(a//b) accepted")
	}
}

// trickyNames sort around "a" in byte order: ' ', '%', '.', '_' and 'b'
// come before or after '/', and '0' is the byte right after '/'.
var trickyNames = []string{
	"a", "a/b", "a/b/c", "a/_", "a/%", "a b", "a b/c", "a%", "a%/x", "a_", "a_/x", "a.b", "a.b/c",
	"a0", "a/", "ab", "ab/c", "b", "é", "é/ü", "éa", "日本", "日本/語", "a-", "a!",
}

func TestLoadUnderSelectsPrefixAndBelowOnly(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	other := mustRoot(t, db, "/other", "ftp://h/")
	recs := map[string]plan.Record{}
	for i, n := range trickyNames {
		if n == "a/" { // not a valid path; stands in the list to pin that "a/" as a prefix means "a"
			continue
		}
		recs[n] = fileRecord(i)
	}
	putAll(t, db, root, recs)
	putAll(t, db, other, map[string]plan.Record{"a/b": fileRecord(0), "a": fileRecord(0)})

	for _, tc := range []struct {
		name     string
		prefixes []string
		want     []string
	}{
		{"folder and everything below", []string{"a"}, []string{"a", "a/%", "a/_", "a/b", "a/b/c"}},
		{"trailing slash means the folder", []string{"a/"}, []string{"a", "a/%", "a/_", "a/b", "a/b/c"}},
		{"deeper folder", []string{"a/b"}, []string{"a/b", "a/b/c"}},
		{"name with space", []string{"a b"}, []string{"a b", "a b/c"}},
		{"percent is no wildcard", []string{"a%"}, []string{"a%", "a%/x"}},
		{"underscore is no wildcard", []string{"a_"}, []string{"a_", "a_/x"}},
		{"dot", []string{"a.b"}, []string{"a.b", "a.b/c"}},
		{"file", []string{"a0"}, []string{"a0"}},
		{"unicode", []string{"é"}, []string{"é", "é/ü"}},
		{"cjk", []string{"日本"}, []string{"日本", "日本/語"}},
		{"absent", []string{"zzz"}, nil},
		{"several, overlapping", []string{"ab", "a/b", "a/b/c", "ab"}, []string{"a/b", "a/b/c", "ab", "ab/c"}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := db.LoadUnder(ctx, root, tc.prefixes)
			if err != nil {
				t.Fatal(err)
			}
			got := keys(st)
			if !slices.Equal(got, tc.want) {
				t.Errorf("LoadUnder(%q) = %q, want %q", tc.prefixes, got, tc.want)
			}
			for _, p := range got {
				if !recordEqual(st[p], recs[p]) {
					t.Errorf("%s = %+v, want %+v", p, st[p], recs[p])
				}
			}
		})
	}
	all, err := db.LoadUnder(ctx, root, []string{"a", ""})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(recs) {
		t.Errorf(`LoadUnder with "" returned %d records, want the whole root's %d`, len(all), len(recs))
	}
}

func TestLoadUnderUsesTheIndex(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	rows, err := db.sql.QueryContext(ctx, `EXPLAIN QUERY PLAN
		SELECT `+entryCols+` FROM entries WHERE root_id = ?1 AND path = ?2
		UNION ALL
		SELECT `+entryCols+` FROM entries WHERE root_id = ?1 AND path >= ?3 AND path < ?4`, 1, "a", "a/", "a0")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var details []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		details = append(details, detail)
	}
	searches := 0
	for _, d := range details {
		if strings.HasPrefix(d, "SCAN entries") {
			t.Errorf("query plan scans the table: %q", details)
		}
		if strings.HasPrefix(d, "SEARCH entries USING PRIMARY KEY") {
			searches++
		}
	}
	if searches != 2 {
		t.Errorf("query plan %q: want two primary-key searches", details)
	}
}

func TestCountCountsFilesOfOneRoot(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	other := mustRoot(t, db, "/l", "ftp://h2/")
	dir := plan.Record{Kind: plan.Dir, Local: plan.Meta{Kind: plan.Dir}, Remote: plan.Meta{Kind: plan.Dir}}
	putAll(t, db, root, map[string]plan.Record{"d": dir, "d/1": fileRecord(1), "d/2": fileRecord(2), "3": fileRecord(3)})
	putAll(t, db, other, map[string]plan.Record{"x": fileRecord(1)})
	if n, err := db.Count(ctx, root); err != nil || n != 3 {
		t.Errorf("Count = %d, %v; want 3", n, err)
	}
	if n, err := db.Count(ctx, mustRoot(t, db, "/empty", "ftp://h/")); err != nil || n != 0 {
		t.Errorf("Count of empty root = %d, %v; want 0", n, err)
	}
}

func TestDeleteTreeRemovesFolderAndBelowOnly(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	recs := map[string]plan.Record{}
	for i, n := range trickyNames {
		if n != "a/" {
			recs[n] = fileRecord(i)
		}
	}
	putAll(t, db, root, recs)
	w := db.Writer(root)
	mustOK(t, w.DeleteTree("a"))
	mustOK(t, w.Delete("a b")) // "a b/c" stays: Delete is not recursive
	mustOK(t, w.Close(ctx))
	st, err := db.Load(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a b/c", "a!", "a%", "a%/x", "a-", "a.b", "a.b/c", "a0", "a_", "a_/x", "ab", "ab/c", "b", "é", "é/ü", "éa", "日本", "日本/語"}
	if got := keys(st); !slices.Equal(got, want) {
		t.Errorf("after DeleteTree(a), Delete(a b):\n got %q\nwant %q", got, want)
	}
	w = db.Writer(root)
	mustOK(t, w.DeleteTree(""))
	mustOK(t, w.Close(ctx))
	if n, _ := db.Count(ctx, root); n != 0 {
		t.Errorf(`after DeleteTree(""): %d files left`, n)
	}
}

func keys(st plan.State) []string {
	var out []string
	for k := range st {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestLoadPathsAndFileCounts(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	other := mustRoot(t, db, "/other", "ftp://h/")
	localOnly := fileRecord(1)
	localOnly.Remote = plan.Meta{}
	putAll(t, db, root, map[string]plan.Record{
		"a":   {Kind: plan.Dir, Local: plan.Meta{Kind: plan.Dir}, Remote: plan.Meta{Kind: plan.Dir}},
		"a/b": fileRecord(2), "a/c": localOnly, "z": fileRecord(3),
	})
	putAll(t, db, other, map[string]plan.Record{"a/b": fileRecord(0), "x": fileRecord(0)})
	st, err := db.LoadPaths(ctx, root, []string{"a", "a/b", "missing", "x"})
	mustOK(t, err)
	if got := keys(st); !slices.Equal(got, []string{"a", "a/b"}) {
		t.Errorf("LoadPaths = %q, want a,a/b", got)
	}
	local, remote, err := db.FileCounts(ctx, root)
	mustOK(t, err)
	if local != 3 || remote != 2 {
		t.Errorf("FileCounts = %d local, %d remote; want 3, 2", local, remote)
	}
}
