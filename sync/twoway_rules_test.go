package sync_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// twServers are the servers of the two-way rule tests: the test server in
// its full shape and in vsftpd's (LIST only, MDTM to set times), and the
// real ones.
var twServers = []string{"ftptest-mlsd", "ftptest-list", "vsftpd", "proftpd", "pure-ftpd"}

// twFile is one entry of a rule test's tree: a folder when path ends in
// "/", else a file with data and the mtime twTimes.at(at).
type twFile struct {
	path string
	data string
	at   int
}

// twTimes gives the rule tests their mtimes: recent (so LIST shows them to
// the minute), two minutes apart, 17 seconds past the minute (so a conflict
// name that dropped the seconds would show), with a fraction of a second
// on the local side (which the server drops).
type twTimes struct{ base time.Time }

func twNewTimes() twTimes {
	return twTimes{base: time.Now().UTC().Truncate(time.Minute).Add(-48*time.Hour + 17*time.Second)}
}

func (tt twTimes) at(n int) time.Time { return tt.base.Add(time.Duration(n) * 2 * time.Minute) }

// copyName is SPEC's conflict copy name of p (a top-level name with one
// extension) for a loser written at n: NAME.conflict-YYYYMMDD-HHMMSS.EXT,
// the loser's mtime in UTC.
func (tt twTimes) copyName(p string, n int) string {
	ext := filepath.Ext(p)
	return strings.TrimSuffix(p, ext) + ".conflict-" + tt.at(n).UTC().Format("20060102-150405") + ext
}

// twRule is one row of SPEC "Two-way sync": both sides are synced with
// synced, then changed (removals, then moves, then writes), and one sync
// must plan exactly want and leave both sides holding tree. With synced
// nil the changes are the two trees of a first run.
type twRule struct {
	name                   string
	synced                 []twFile
	rmLocal, rmRemote      []string
	mvLocal, mvRemote      [][2]string
	local, remote          []twFile
	want                   []string // twMoves of the run
	tree                   []twFile
	adopted, transfers     int // expected Result.Adopted (-1: any) and FilesUp+FilesDown
	checkUntouchedLocalSHA bool
}

// twPad is added to every synced tree (and every expected tree) of a rule
// that is not a first run, so that the deletes a rule makes stay within
// the mass-delete guard's half of the files.
var twPad = []twFile{{"pad/1", "one", 1}, {"pad/2", "two", 1}, {"pad/3", "three", 1}, {"pad/4", "four", 1}}

func twRules(tt twTimes) []twRule {
	base := []twFile{{"doc.txt", "version 1", 0}, {"other.txt", "other", 0}}
	return []twRule{
		{
			name:   "changed or new locally, unchanged remotely: upload",
			synced: base,
			local:  []twFile{{"doc.txt", "version 2 (local)", 5}, {"new/fresh.txt", "fresh", 6}, {"new/empty/", "", 0}},
			want:   []string{"mkdir-remote new", "mkdir-remote new/empty", "upload doc.txt", "upload new/fresh.txt"},
			tree:   []twFile{{"doc.txt", "version 2 (local)", 5}, {"other.txt", "other", 0}, {"new/fresh.txt", "fresh", 6}, {"new/empty/", "", 0}},
		},
		{
			name:   "unchanged locally, changed or new remotely: download",
			synced: base,
			remote: []twFile{{"doc.txt", "version 2 (remote)", 5}, {"new/fresh.txt", "fresh", 6}, {"new/empty/", "", 0}},
			want:   []string{"download doc.txt", "download new/fresh.txt", "mkdir-local new", "mkdir-local new/empty"},
			tree:   []twFile{{"doc.txt", "version 2 (remote)", 5}, {"other.txt", "other", 0}, {"new/fresh.txt", "fresh", 6}, {"new/empty/", "", 0}},
		},
		{
			name:    "deleted locally, unchanged remotely: delete on remote",
			synced:  base,
			rmLocal: []string{"doc.txt"},
			want:    []string{"delete-remote doc.txt"},
			tree:    []twFile{{"other.txt", "other", 0}},
		},
		{
			name:     "unchanged locally, deleted remotely: delete locally",
			synced:   base,
			rmRemote: []string{"doc.txt"},
			want:     []string{"delete-local doc.txt"},
			tree:     []twFile{{"other.txt", "other", 0}},
		},
		{
			name:   "changed on both sides: the newer remote keeps the name, the local version is kept as a conflict copy on both sides",
			synced: base,
			local:  []twFile{{"doc.txt", "local edit", 5}},
			remote: []twFile{{"doc.txt", "remote edit, newer", 7}},
			want: []string{
				"download doc.txt", "rename-local doc.txt -> " + tt.copyName("doc.txt", 5), "upload " + tt.copyName("doc.txt", 5),
			},
			tree: []twFile{{"doc.txt", "remote edit, newer", 7}, {tt.copyName("doc.txt", 5), "local edit", 5}, {"other.txt", "other", 0}},
		},
		{
			name:   "changed on both sides: the newer local keeps the name, the remote version is kept as a conflict copy on both sides",
			synced: base,
			local:  []twFile{{"doc.txt", "local edit, newer", 9}},
			remote: []twFile{{"doc.txt", "remote edit", 6}},
			want: []string{
				"download " + tt.copyName("doc.txt", 6), "rename-remote doc.txt -> " + tt.copyName("doc.txt", 6), "upload doc.txt",
			},
			tree: []twFile{{"doc.txt", "local edit, newer", 9}, {tt.copyName("doc.txt", 6), "remote edit", 6}, {"other.txt", "other", 0}},
		},
		{
			name:    "deleted locally, changed remotely: the change is downloaded",
			synced:  base,
			rmLocal: []string{"doc.txt"},
			remote:  []twFile{{"doc.txt", "remote edit", 4}},
			want:    []string{"download doc.txt"},
			tree:    []twFile{{"doc.txt", "remote edit", 4}, {"other.txt", "other", 0}},
		},
		{
			name:     "changed locally, deleted remotely: the change is uploaded",
			synced:   base,
			rmRemote: []string{"doc.txt"},
			local:    []twFile{{"doc.txt", "local edit", 4}},
			want:     []string{"upload doc.txt"},
			tree:     []twFile{{"doc.txt", "local edit", 4}, {"other.txt", "other", 0}},
		},
		{
			name:      "first run: a path on one side only is copied across",
			local:     []twFile{{"l.txt", "local only", 1}, {"ld/", "", 0}},
			remote:    []twFile{{"r.txt", "remote only", 2}, {"rd/sub/x", "x", 3}},
			want:      []string{"download r.txt", "download rd/sub/x", "mkdir-local rd", "mkdir-local rd/sub", "mkdir-remote ld", "upload l.txt"},
			tree:      []twFile{{"l.txt", "local only", 1}, {"ld/", "", 0}, {"r.txt", "remote only", 2}, {"rd/sub/x", "x", 3}},
			transfers: 3, adopted: -1,
		},
		{
			name:      "first run: equal size and mtime on both sides is taken as in sync, nothing moves",
			local:     []twFile{{"same.txt", "same content", 3}, {"d/same2", "also", 4}},
			remote:    []twFile{{"same.txt", "same content", 3}, {"d/same2", "also", 4}},
			want:      nil,
			tree:      []twFile{{"same.txt", "same content", 3}, {"d/same2", "also", 4}},
			transfers: 0, adopted: 3, checkUntouchedLocalSHA: true,
		},
		{
			name:   "first run: different content is a conflict, the newer remote keeps the name",
			local:  []twFile{{"doc.txt", "local", 2}},
			remote: []twFile{{"doc.txt", "remote, newer", 4}},
			want: []string{
				"download doc.txt", "rename-local doc.txt -> " + tt.copyName("doc.txt", 2), "upload " + tt.copyName("doc.txt", 2),
			},
			tree:      []twFile{{"doc.txt", "remote, newer", 4}, {tt.copyName("doc.txt", 2), "local", 2}},
			transfers: 2, adopted: -1,
		},
		{
			name:   "first run: equal mtimes and different content, the local version keeps the name",
			local:  []twFile{{"doc.txt", "local version", 3}},
			remote: []twFile{{"doc.txt", "the remote version", 3}},
			want: []string{
				"download " + tt.copyName("doc.txt", 3), "rename-remote doc.txt -> " + tt.copyName("doc.txt", 3), "upload doc.txt",
			},
			tree:      []twFile{{"doc.txt", "local version", 3}, {tt.copyName("doc.txt", 3), "the remote version", 3}},
			transfers: 2, adopted: -1,
		},
		{
			name:    "a folder deleted on one side with everything in it is deleted on the other",
			synced:  append([]twFile{{"d/a", "a", 0}, {"d/sub/b", "b", 0}, {"d/empty/", "", 0}}, base...),
			rmLocal: []string{"d"},
			want:    []string{"delete-remote d", "delete-remote d/a", "delete-remote d/empty", "delete-remote d/sub", "delete-remote d/sub/b"},
			tree:    base,
		},
		{
			name:     "a folder deleted remotely that the local side added into is recreated, not deleted",
			synced:   append([]twFile{{"d/a", "a", 0}, {"d/sub/b", "b", 0}}, base...),
			rmRemote: []string{"d"},
			local:    []twFile{{"d/sub/new.txt", "added locally", 5}},
			want:     []string{"delete-local d/a", "delete-local d/sub/b", "mkdir-remote d", "mkdir-remote d/sub", "upload d/sub/new.txt"},
			tree:     append([]twFile{{"d/sub/new.txt", "added locally", 5}}, base...),
		},
		{
			name:    "a folder deleted locally that the remote side added into is recreated, not deleted",
			synced:  append([]twFile{{"d/a", "a", 0}, {"d/sub/b", "b", 0}}, base...),
			rmLocal: []string{"d"},
			remote:  []twFile{{"d/sub/new.txt", "added remotely", 5}},
			want:    []string{"delete-remote d/a", "delete-remote d/sub/b", "download d/sub/new.txt", "mkdir-local d", "mkdir-local d/sub"},
			tree:    append([]twFile{{"d/sub/new.txt", "added remotely", 5}}, base...),
		},
		{
			name:     "a rename is a delete plus an add, on either side",
			synced:   append([]twFile{{"moved-here.txt", "moves", 0}}, base...),
			mvLocal:  [][2]string{{"doc.txt", "sub/renamed.txt"}},
			mvRemote: [][2]string{{"moved-here.txt", "there.txt"}},
			want:     []string{"delete-local moved-here.txt", "delete-remote doc.txt", "download there.txt", "mkdir-remote sub", "upload sub/renamed.txt"},
			tree:     []twFile{{"sub/renamed.txt", "version 1", 0}, {"there.txt", "moves", 0}, {"other.txt", "other", 0}},
		},
	}
}

// TestTwoWayRules pins each row of SPEC "Two-way sync" on every server:
// the exact plan (transfers, deletes, conflict renames with the loser's
// mtime in UTC in the copy's name), both sides' trees afterwards (names,
// contents, mtimes to the second), and that a second sync is a no-op.
func TestTwoWayRules(t *testing.T) {
	for _, name := range twServers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := twStart(t, name)
			tt := twNewTimes()
			for i, r := range twRules(tt) {
				t.Run(r.name, func(t *testing.T) {
					twCheckRule(t, srv, tt, fmt.Sprintf("rule-%d", i), r)
				})
			}
		})
	}
}

func twCheckRule(t *testing.T, srv *twServer, tt twTimes, folder string, r twRule) {
	ctx := t.Context()
	j := twNewJob(t, srv, folder)
	tree := r.tree
	if r.synced != nil {
		synced := append(slices.Clone(r.synced), twPad...)
		tree = append(slices.Clone(tree), twPad...)
		twPutFiles(t, j, 0, tt, synced)
		j.mustRun(ctx, t, nil)
		twAssertTree(t, j, tt, "after the first sync", synced)
		for _, p := range r.rmLocal {
			twRemoveAll(t, filepath.Join(j.local, p))
		}
		for _, p := range r.rmRemote {
			twRemoveAll(t, filepath.Join(j.remoteDisk(), p))
		}
		twMoveAll(t, j.local, r.mvLocal)
		twMoveAll(t, j.remoteDisk(), r.mvRemote)
	}
	twPutFiles(t, j, 0, tt, r.local)
	twPutFiles(t, j, 1, tt, r.remote)
	before := twSnap(t, j.local)

	res := j.mustRun(ctx, t, nil)
	if got := twMoves(res); !slices.Equal(got, r.want) {
		t.Errorf("planned\n\t%s\nwant\n\t%s\nplan:\n%s", strings.Join(got, "\n\t"), strings.Join(r.want, "\n\t"), strings.Join(twAllActions(res), "\n"))
	}
	if r.synced == nil {
		if n := res.FilesUp + res.FilesDown; n != r.transfers {
			t.Errorf("first run transferred %d files, want %d", n, r.transfers)
		}
		if r.adopted >= 0 && res.Adopted != r.adopted {
			t.Errorf("first run adopted %d paths, want %d", res.Adopted, r.adopted)
		}
	}
	if r.checkUntouchedLocalSHA {
		after := twSnap(t, j.local)
		for p, e := range before {
			if a := after[p]; a != e {
				t.Errorf("local %q changed: %+v -> %+v", p, e, a)
			}
		}
	}
	twAssertTree(t, j, tt, "after the sync", tree)
	twAssertNoOp(ctx, t, j, "after the sync")
}

// twPutFiles writes files on side s (0 local, 1 remote): folders, and
// files with their mtimes (a fraction of a second more locally).
func twPutFiles(t *testing.T, j *twJob, s int, tt twTimes, files []twFile) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(j.side(s), filepath.FromSlash(f.path))
		if strings.HasSuffix(f.path, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		m := tt.at(f.at)
		if s == 0 {
			m = m.Add(250 * time.Millisecond)
		}
		twWrite(t, p, []byte(f.data), m)
	}
	j.chown(t)
}

func twRemoveAll(t *testing.T, p string) {
	t.Helper()
	if err := os.RemoveAll(p); err != nil {
		t.Fatal(err)
	}
}

func twMoveAll(t *testing.T, dir string, moves [][2]string) {
	t.Helper()
	for _, m := range moves {
		to := filepath.Join(dir, filepath.FromSlash(m[1]))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, filepath.FromSlash(m[0])), to); err != nil {
			t.Fatal(err)
		}
	}
}

// twAssertTree checks that both sides hold exactly files (with parent
// folders implied), with their contents and mtimes to the second.
func twAssertTree(t *testing.T, j *twJob, tt twTimes, what string, files []twFile) {
	t.Helper()
	want := map[string]twEntry{}
	for _, f := range files {
		p := strings.TrimSuffix(f.path, "/")
		for q := filepath.ToSlash(filepath.Dir(p)); q != "."; q = filepath.ToSlash(filepath.Dir(q)) {
			want[q] = twEntry{dir: true}
		}
		if strings.HasSuffix(f.path, "/") {
			want[p] = twEntry{dir: true}
			continue
		}
		want[p] = twEntry{size: int64(len(f.data)), sha: twSum([]byte(f.data)), mtime: tt.at(f.at)}
	}
	for s := range 2 {
		got := twSnap(t, j.side(s))
		if d := twTreeDiff(want, got); len(d) > 0 {
			t.Errorf("%s: %s side differs from the expected tree (first):\n%s", what, twSideName(s), strings.Join(d, "\n"))
		}
		for p, w := range want {
			if g, ok := got[p]; ok && !w.dir && g.mtime.Unix() != w.mtime.Unix() {
				t.Errorf("%s: %s %q has mtime %v, want %v", what, twSideName(s), p, g.mtime.UTC(), w.mtime)
			}
		}
	}
}

// TestTwoWayMassDeleteGuard pins SPEC's guard: a sync that would delete
// more than half of the files on one side returns an error naming how
// many and where, and changes nothing (trees and state cache: the next
// run plans the same deletes); --max-delete (Options.MaxDelete) below the
// number of entries to delete (files and folders) still refuses, at it
// allows them.
func TestTwoWayMassDeleteGuard(t *testing.T) {
	for _, name := range twServers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := twStart(t, name)
			tt := twNewTimes()
			files := []twFile{{"a", "a", 0}, {"b", "b", 0}, {"c", "c", 0}, {"d/e", "e", 0}, {"d/f", "f", 0}, {"g", "g", 0}}
			for s := range 2 {
				t.Run("deleted on the "+twSideName(s)+" side", func(t *testing.T) {
					ctx := t.Context()
					j := twNewJob(t, srv, "guard-"+twSideName(s))
					twPutFiles(t, j, 0, tt, files)
					j.mustRun(ctx, t, nil)
					for _, p := range []string{"a", "b", "d"} {
						twRemoveAll(t, filepath.Join(j.side(s), p))
					}
					// Four of six files: more than half.
					where := twSideName(1 - s)
					before := [2]map[string]twEntry{twSnap(t, j.local), twSnap(t, j.remoteDisk())}
					for _, max := range []int{-1, 4} {
						_, err := j.run(ctx, t, func(o *ferrysync.Options) { o.MaxDelete = max })
						var te *plan.TooManyDeletesError
						switch {
						case !errors.As(err, &te):
							t.Fatalf("MaxDelete %d: Run returned %v, want a *plan.TooManyDeletesError", max, err)
						case max < 0 && (te.Deletes != 4 || te.Total != 6 || te.Side != where):
							t.Errorf("refusal says %d of %d on the %q side, want 4 of 6 on the %q side", te.Deletes, te.Total, te.Side, where)
						case max < 0 && !(strings.Contains(err.Error(), "4 of the 6") && strings.Contains(err.Error(), where)):
							t.Errorf("refusal %q does not say how many and where", err)
						case max >= 0 && (te.Deletes != 5 || te.Side != where || te.Limit != max):
							// 4 files and the folder d: --max-delete counts folders too.
							t.Errorf("--max-delete %d refusal says %d on %q (limit %d), want 5 on %q", max, te.Deletes, te.Side, te.Limit, where)
						}
						for s2 := range 2 {
							after := twSnap(t, j.side(s2))
							if d := twTreeDiff(before[s2], after); len(d) > 0 {
								t.Errorf("refused run changed the %s side: %q", twSideName(s2), d)
							}
						}
					}
					res := j.mustRun(ctx, t, func(o *ferrysync.Options) { o.MaxDelete = 5 })
					del := "delete-" + where
					want := []string{del + " a", del + " b", del + " d", del + " d/e", del + " d/f"}
					if got := twMoves(res); !slices.Equal(got, want) {
						t.Errorf("with --max-delete 5: planned %q, want %q", got, want)
					}
					twAssertTree(t, j, tt, "after --max-delete 5", []twFile{{"c", "c", 0}, {"g", "g", 0}})
					twAssertNoOp(ctx, t, j, "after --max-delete 5")
				})
			}
		})
	}
}
