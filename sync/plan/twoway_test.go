package plan

import (
	"testing"
	"time"
)

func TestTwoWay(t *testing.T) {
	m := time.Minute
	cA := ConflictName("a.txt", at(0), 1)    // loser's mtime at(0)
	cA10 := ConflictName("a.txt", at(10), 1) // loser's mtime at(10)
	tests := []struct {
		name          string
		local, remote Tree
		st            State
		opt           Options
		want          []string
		problems      []string
	}{
		// SPEC "Two-way sync" table, row by row.
		{
			name:  "two-way: local changed, remote unchanged -> upload",
			local: tr(E{"a.txt": f(2, 9)}), remote: tr(E{"a.txt": f(1, 0)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "two-way: local new, remote absent -> upload",
			local: tr(E{"a.txt": f(2, 9)}), remote: tr(nil),
			want: []string{"upload a.txt"},
		},
		{
			name:  "two-way: local unchanged, remote changed -> download",
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(E{"a.txt": f(2, 9)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"download a.txt"},
		},
		{
			name:  "two-way: local absent, remote new -> download",
			local: tr(nil), remote: tr(E{"a.txt": f(2, 9)}),
			want: []string{"download a.txt"},
		},
		{
			name:  "two-way: local deleted, remote unchanged -> delete on remote",
			local: tr(nil), remote: tr(E{"a.txt": f(1, 0)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-remote a.txt"},
		},
		{
			name:  "two-way: local unchanged, remote deleted -> delete locally",
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(nil),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-local a.txt"},
		},
		{
			name:  "two-way: changed on both, local newer -> conflict, local keeps the name",
			local: tr(E{"a.txt": f(2, 20)}), remote: tr(E{"a.txt": f(3, 10)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"rename-remote a.txt -> " + cA10, "download " + cA10, "upload a.txt"},
		},
		{
			name:  "two-way: changed on both, remote newer -> conflict, remote keeps the name",
			local: tr(E{"a.txt": f(2, 10)}), remote: tr(E{"a.txt": f(3, 20)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"rename-local a.txt -> " + cA10, "upload " + cA10, "download a.txt"},
		},
		{
			name:  "two-way: changed on both with equal mtimes -> conflict, local keeps the name",
			local: tr(E{"a.txt": f(2, 0)}), remote: tr(E{"a.txt": f(3, 0)}),
			st:   State{"a.txt": rec(f(1, 5), f(1, 5))},
			want: []string{"rename-remote a.txt -> " + cA, "download " + cA, "upload a.txt"},
		},
		{
			name:  "two-way: changed on both, remote minute-precision in the same minute counts as equal mtime -> local wins",
			local: tr(E{"a.txt": f(2, 10)}), remote: tr(E{"a.txt": fp(3, 50, m)}),
			st:   State{"a.txt": rec(f(1, 100), fp(1, 100, m))},
			want: []string{"rename-remote a.txt -> " + cA, "download " + cA, "upload a.txt"},
		},
		{
			name:  "two-way: local deleted, remote changed -> download (the change wins)",
			local: tr(nil), remote: tr(E{"a.txt": f(2, 9)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"download a.txt"},
		},
		{
			name:  "two-way: local changed, remote deleted -> upload (the change wins)",
			local: tr(E{"a.txt": f(2, 9)}), remote: tr(nil),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "two-way: deleted on both -> forget",
			local: tr(nil), remote: tr(nil),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0)), "d": rec(dir(), dir())},
			want: []string{"forget a.txt", "forget d"},
		},
		{
			name:  "two-way: unchanged on both -> nothing",
			local: tr(E{"a.txt": f(1, 0), "d": dir()}), remote: tr(E{"a.txt": f(1, 0), "d": dir()}),
			st: State{"a.txt": rec(f(1, 0), f(1, 0)), "d": rec(dir(), dir())},
		},
		// First run: no state.
		{
			name:  "two-way first run: a path on one side only is copied across",
			local: tr(E{"l.txt": f(1, 0), "ld": dir()}), remote: tr(E{"r.txt": f(1, 0), "rd": dir(), "rd/x": f(1, 0)}),
			want: []string{"mkdir-remote ld", "mkdir-local rd", "upload l.txt", "download r.txt", "download rd/x"},
		},
		{
			name:  "two-way first run: same size and mtime on both sides -> adopt",
			local: tr(E{"a.txt": f(1, 0), "d": dir()}), remote: tr(E{"a.txt": f(1, 0), "d": dir()}),
			want: []string{"adopt a.txt", "adopt d"},
		},
		{
			name:  "two-way first run (lost cache): vsftpd minute-precision listing in the same minute -> adopt",
			local: tr(E{"a.txt": f(1, 42)}), remote: tr(E{"a.txt": fp(1, 42, m)}),
			want: []string{"adopt a.txt"},
		},
		{
			name:  "two-way first run: remote without times, same size -> adopt (size decides)",
			local: tr(E{"a.txt": f(1, 42)}), remote: tr(E{"a.txt": fp(1, 0, 0)}),
			want: []string{"adopt a.txt"},
		},
		{
			name:  "two-way first run: different content -> conflict",
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(E{"a.txt": f(2, 10)}),
			want: []string{"rename-local a.txt -> " + cA, "upload " + cA, "download a.txt"},
		},
		{
			name:  "two-way: both changed to the same size and mtime -> adopt, not a conflict",
			local: tr(E{"a.txt": f(2, 9)}), remote: tr(E{"a.txt": f(2, 9)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"adopt a.txt"},
		},
		{
			name:  "two-way: both changed to the same size on a server without times -> conflict (size alone cannot tell), named after the winner's time",
			local: tr(E{"a.txt": f(2, 10)}), remote: tr(E{"a.txt": fp(2, 0, 0)}),
			st:   State{"a.txt": rec(f(1, 0), fp(1, 0, 0))},
			want: []string{"rename-remote a.txt -> " + cA10, "download " + cA10, "upload a.txt"},
		},
		// Precision.
		{
			name:  "two-way: minute-precision record, nothing changed -> nothing",
			local: tr(E{"a.txt": f(1, 42)}), remote: tr(E{"a.txt": fp(1, 42, m)}),
			st: State{"a.txt": rec(f(1, 42), fp(1, 42, m))},
		},
		{
			name:  "two-way: minute-precision remote changed to the next minute -> download",
			local: tr(E{"a.txt": f(1, 42)}), remote: tr(E{"a.txt": fp(1, 62, m)}),
			st:   State{"a.txt": rec(f(1, 42), fp(1, 42, m))},
			want: []string{"download a.txt"},
		},
		{
			name:  "two-way: record at second precision, server now lists at minute precision (LIST fallback) -> nothing",
			local: tr(E{"a.txt": f(1, 42)}), remote: tr(E{"a.txt": fp(1, 42, m)}),
			st: State{"a.txt": rec(f(1, 42), f(1, 42))},
		},
		{
			name:  "two-way: day-precision remote unchanged -> nothing; local touched -> upload",
			local: tr(E{"a.txt": f(1, 50), "b.txt": f(1, 0)}), remote: tr(E{"a.txt": fp(1, 0, 24*time.Hour), "b.txt": fp(1, 0, 24*time.Hour)}),
			st:   State{"a.txt": rec(f(1, 0), fp(1, 0, 24*time.Hour)), "b.txt": rec(f(1, 0), fp(1, 0, 24*time.Hour))},
			want: []string{"upload a.txt"},
		},
		// Folders.
		{
			name:  "two-way: new empty folder -> created on the other side",
			local: tr(E{"e": dir()}), remote: tr(E{"d": dir()}),
			want: []string{"mkdir-local d", "mkdir-remote e"},
		},
		{
			name:   "two-way: folder deleted locally, remote unchanged -> remote contents then folder deleted, deepest first",
			local:  tr(nil),
			remote: tr(E{"d": dir(), "d/a.txt": f(1, 0), "d/s": dir(), "d/s/b.txt": f(1, 0)}),
			st: State{"d": rec(dir(), dir()), "d/a.txt": rec(f(1, 0), f(1, 0)), "d/s": rec(dir(), dir()),
				"d/s/b.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-remote d/a.txt", "delete-remote d/s/b.txt", "delete-remote d/s", "delete-remote d"},
		},
		{
			name:   "two-way: folder deleted locally while remote added inside it -> folder recreated, addition downloaded, unchanged files deleted",
			local:  tr(nil),
			remote: tr(E{"d": dir(), "d/a.txt": f(1, 0), "d/s": dir(), "d/s/new.txt": f(1, 0), "d/t": dir()}),
			st:     State{"d": rec(dir(), dir()), "d/a.txt": rec(f(1, 0), f(1, 0)), "d/s": rec(dir(), dir()), "d/t": rec(dir(), dir())},
			want:   []string{"mkdir-local d", "mkdir-local d/s", "download d/s/new.txt", "delete-remote d/a.txt", "delete-remote d/t"},
		},
		{
			name:   "two-way: folder deleted on remote while local changed a file inside -> folder recreated on remote",
			local:  tr(E{"d": dir(), "d/a.txt": f(2, 9), "d/b.txt": f(1, 0)}),
			remote: tr(nil),
			st:     State{"d": rec(dir(), dir()), "d/a.txt": rec(f(1, 0), f(1, 0)), "d/b.txt": rec(f(1, 0), f(1, 0))},
			want:   []string{"mkdir-remote d", "upload d/a.txt", "delete-local d/b.txt"},
		},
		{
			name:  "two-way: rename is a delete plus an add",
			local: tr(E{"b.txt": f(1, 0)}), remote: tr(E{"a.txt": f(1, 0)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload b.txt", "delete-remote a.txt"},
		},
		// Type clashes.
		{
			name:  "two-way: local replaced an unchanged file by a folder -> remote file deleted first, folder created",
			local: tr(E{"a": dir(), "a/x": f(1, 0)}), remote: tr(E{"a": f(1, 0)}),
			st:   State{"a": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-remote a", "mkdir-remote a", "upload a/x"},
		},
		{
			name:  "two-way: remote replaced an unchanged folder by a file -> local folder deleted first, file downloaded",
			local: tr(E{"a": dir(), "a/x": f(1, 0)}), remote: tr(E{"a": f(5, 5)}),
			st:   State{"a": rec(dir(), dir()), "a/x": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-local a/x", "delete-local a", "download a"},
		},
		{
			name:  "two-way: file on one side, folder with news on the other -> folder keeps the name, file becomes a conflict copy",
			local: tr(E{"a": dir(), "a/x": f(1, 0), "a/new": f(1, 0)}), remote: tr(E{"a": f(5, 5)}),
			st: State{"a": rec(dir(), dir()), "a/x": rec(f(1, 0), f(1, 0))},
			want: []string{"rename-remote a -> " + ConflictName("a", at(5), 1), "mkdir-remote a",
				"download " + ConflictName("a", at(5), 1), "upload a/new", "delete-local a/x"},
		},
		{
			name:  "two-way first run: file vs folder -> folder keeps the name",
			local: tr(E{"a.d": f(1, 0)}), remote: tr(E{"a.d": dir()}),
			want: []string{"rename-local a.d -> " + ConflictName("a.d", at(0), 1), "mkdir-local a.d", "upload " + ConflictName("a.d", at(0), 1)},
		},
		// Unknown folders.
		{
			name:     "two-way: unknown remote folder -> nothing below it taken as deleted, nothing copied into it",
			local:    tr(E{"u": dir(), "u/a.txt": f(1, 0), "u/new.txt": f(1, 0)}),
			remote:   tr(E{"u": dir()}, "u"),
			st:       State{"u": rec(dir(), dir()), "u/a.txt": rec(f(1, 0), f(1, 0))},
			problems: []string{`remote folder "u" could not be listed completely`},
		},
		{
			name:     "two-way: unknown local folder -> nothing deleted on the remote, nothing copied out",
			local:    tr(E{"u": dir()}, "u"),
			remote:   tr(E{"u": dir(), "u/a.txt": f(1, 0), "u/new.txt": f(1, 0)}),
			st:       State{"u": rec(dir(), dir()), "u/a.txt": rec(f(1, 0), f(1, 0))},
			problems: []string{`local folder "u" could not be listed completely`},
		},
		{
			name:     "two-way: folder deleted locally holding an unknown remote folder -> not deleted, recreated locally",
			local:    tr(nil),
			remote:   tr(E{"p": dir(), "p/f.txt": f(1, 0), "p/u": dir()}, "p/u"),
			st:       State{"p": rec(dir(), dir()), "p/f.txt": rec(f(1, 0), f(1, 0)), "p/u": rec(dir(), dir())},
			want:     []string{"mkdir-local p", "delete-remote p/f.txt"},
			problems: []string{`remote folder "p/u" could not be listed completely`},
		},
		{
			name:  "two-way: unknown local root -> nothing",
			local: tr(nil, ""), remote: tr(E{"a": f(1, 0)}),
			st:       State{"a": rec(f(1, 0), f(1, 0))},
			problems: []string{`local folder "." (the root) could not be listed completely`},
		},
		// Incomplete folders: a listing that skipped unsafe names used to
		// be unknown as a whole, so nothing in it was synced.
		{
			name:     "two-way: new files on both sides of an incomplete remote folder are copied",
			local:    tr(E{"u": dir(), "u/l.txt": f(1, 0)}),
			remote:   inc(tr(E{"u": dir(), "u/r.txt": f(1, 0)}), "u"),
			st:       State{"u": rec(dir(), dir())},
			want:     []string{"upload u/l.txt", "download u/r.txt"},
			problems: []string{`remote folder "u" was listed without some of its entries: nothing at or below it is deleted`},
		},
		{
			name:     "two-way: file missing from an incomplete remote listing -> not deleted locally",
			local:    tr(E{"u": dir(), "u/a.txt": f(1, 0)}),
			remote:   inc(tr(E{"u": dir()}), "u"),
			st:       State{"u": rec(dir(), dir()), "u/a.txt": rec(f(1, 0), f(1, 0))},
			problems: []string{`remote folder "u" was listed without some of its entries`},
		},
		{
			name:     "two-way: file deleted locally inside an incomplete remote folder -> not deleted on the remote, not brought back",
			local:    tr(E{"u": dir()}),
			remote:   inc(tr(E{"u": dir(), "u/a.txt": f(1, 0), "u/d": dir(), "u/d/x": f(1, 0)}), "u"),
			st:       State{"u": rec(dir(), dir()), "u/a.txt": rec(f(1, 0), f(1, 0)), "u/d": rec(dir(), dir()), "u/d/x": rec(f(1, 0), f(1, 0))},
			problems: []string{`remote folder "u" was listed without some of its entries`},
		},
		{
			name:     "two-way: changed on one side, missing from an incomplete listing -> the change is copied",
			local:    tr(E{"u": dir(), "u/a.txt": f(2, 9)}),
			remote:   inc(tr(E{"u": dir()}), "u"),
			st:       State{"u": rec(dir(), dir()), "u/a.txt": rec(f(1, 0), f(1, 0))},
			want:     []string{"upload u/a.txt"},
			problems: []string{`remote folder "u" was listed without some of its entries`},
		},
		{
			name:   "two-way: file against folder inside an incomplete folder -> skipped",
			local:  tr(E{"u": dir(), "u/a": f(1, 0)}),
			remote: inc(tr(E{"u": dir(), "u/a": dir(), "u/a/x": f(1, 0)}), "u"),
			st:     State{"u": rec(dir(), dir()), "u/a": rec(f(1, 0), f(1, 0))},
			problems: []string{`"u/a": a file locally and a dir on the remote, in a folder listed without some of its entries: skipped`,
				`remote folder "u" was listed without some of its entries`},
		},
		{
			name:     "two-way: folder deleted locally holding an incomplete remote folder -> not deleted, recreated locally",
			local:    tr(nil),
			remote:   inc(tr(E{"p": dir(), "p/f.txt": f(1, 0), "p/u": dir(), "p/u/a": f(1, 0)}), "p/u"),
			st:       State{"p": rec(dir(), dir()), "p/f.txt": rec(f(1, 0), f(1, 0)), "p/u": rec(dir(), dir()), "p/u/a": rec(f(1, 0), f(1, 0))},
			want:     []string{"mkdir-local p", "delete-remote p/f.txt"},
			problems: []string{`remote folder "p/u" was listed without some of its entries`},
		},
		// Scope.
		{
			name:   "two-way scope: only the changed paths, nothing outside deleted",
			opt:    Options{Scope: []string{"d/a.txt", "gone.txt"}},
			local:  tr(E{"d": dir(), "d/a.txt": f(2, 9)}),
			remote: tr(E{"d": dir(), "d/a.txt": f(1, 0), "gone.txt": f(1, 0), "other.txt": f(1, 0)}),
			st: State{"d": rec(dir(), dir()), "d/a.txt": rec(f(1, 0), f(1, 0)), "gone.txt": rec(f(1, 0), f(1, 0)),
				"other.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload d/a.txt", "delete-remote gone.txt"},
		},
		{
			name:   "two-way scope: a new folder's parents are created where missing",
			opt:    Options{Scope: []string{"p/q"}},
			local:  tr(E{"p": dir(), "p/q": dir(), "p/q/x": f(1, 0)}),
			remote: tr(nil),
			want:   []string{"mkdir-remote p", "mkdir-remote p/q", "upload p/q/x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := TwoWay(tt.local, tt.remote, tt.st, tt.opt)
			checkActions(t, p, tt.want)
			checkProblems(t, p, tt.problems)
			if p.Direction != Both {
				t.Errorf("Direction = %v, want Both", p.Direction)
			}
		})
	}
}

func TestTwoWayConflictGroup(t *testing.T) {
	l, r := f(2, 20), fp(3, 10, time.Minute)
	p := TwoWay(tr(E{"x/a.txt": l, "x": dir()}), tr(E{"x/a.txt": r, "x": dir()}),
		State{"x": rec(dir(), dir()), "x/a.txt": rec(f(1, 0), fp(1, 0, time.Minute))}, Options{})
	if len(p.Actions) != 3 {
		t.Fatalf("plan:\n%s", p)
	}
	name := ConflictName("x/a.txt", r.ModTime, 1)
	want := []Action{
		{Op: RenameRemote, Path: "x/a.txt", To: name, Kind: File, Local: l, Remote: r, Phase: PhaseTransfer, Conflict: 1},
		{Op: Download, Path: name, Kind: File, Remote: r, Phase: PhaseTransfer, Conflict: 1},
		{Op: Upload, Path: "x/a.txt", Kind: File, Local: l, Phase: PhaseTransfer, Conflict: 1},
	}
	for i, w := range want {
		got := p.Actions[i]
		got.Reason = ""
		if got != w {
			t.Errorf("action %d:\n got %+v\nwant %+v", i, got, w)
		}
	}
	if name != "x/a.conflict-20241124-063100.txt" {
		t.Errorf("conflict name %q uses the loser's (remote, minute) mtime", name)
	}
}

func TestTwoWayConflictsGetDistinctGroupsAndNames(t *testing.T) {
	st := State{"a.txt": rec(f(1, 0), f(1, 0)), "b.txt": rec(f(1, 0), f(1, 0))}
	existing := ConflictName("a.txt", at(10), 1)
	p := TwoWay(tr(E{"a.txt": f(2, 20), "b.txt": f(2, 20), existing: f(1, 1)}),
		tr(E{"a.txt": f(3, 10), "b.txt": f(3, 10), existing: f(1, 1)}),
		State{"a.txt": st["a.txt"], "b.txt": st["b.txt"], existing: rec(f(1, 1), f(1, 1))}, Options{})
	want := []string{
		"rename-remote a.txt -> " + ConflictName("a.txt", at(10), 2), "download " + ConflictName("a.txt", at(10), 2), "upload a.txt",
		"rename-remote b.txt -> " + ConflictName("b.txt", at(10), 1), "download " + ConflictName("b.txt", at(10), 1), "upload b.txt",
	}
	checkActions(t, p, want)
	for i, a := range p.Actions {
		if g := i/3 + 1; a.Conflict != g {
			t.Errorf("action %d %v: Conflict = %d, want %d", i, a, a.Conflict, g)
		}
	}
}
