package plan

import (
	"testing"
	"time"
)

func TestOneWay(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name          string
		dir           Direction
		local, remote Tree
		st            State
		opt           Options
		want          []string
		problems      []string
	}{
		{
			name:  "push: source file missing on destination -> upload (new)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(nil),
			want: []string{"upload a.txt"},
		},
		{
			name:  "pull: source file missing on destination -> download (new)",
			dir:   Pull,
			local: tr(nil), remote: tr(E{"a.txt": f(1, 0)}),
			want: []string{"download a.txt"},
		},
		{
			name:  "push: record matches both sides -> nothing",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(E{"a.txt": f(1, 0)}),
			st: State{"a.txt": rec(f(1, 0), f(1, 0))},
		},
		{
			name:  "push: source changed since the record -> upload (changed)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 9)}), remote: tr(E{"a.txt": f(1, 0)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "push: destination changed behind our back -> upload (changed)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(E{"a.txt": f(2, 5)}),
			st:   State{"a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "push: record mismatches even though the trees agree -> upload (record wins over size-only compare)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 9)}), remote: tr(E{"a.txt": fp(1, 0, 0)}),
			st:   State{"a.txt": rec(f(1, 0), fp(1, 0, 0))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "push: no record, same size and time -> adopt (lost cache never re-transfers)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 0), "d": dir(), "d/b": f(2, 3)}), remote: tr(E{"a.txt": f(1, 0), "d": dir(), "d/b": f(2, 3)}),
			want: []string{"adopt a.txt", "adopt d", "adopt d/b"},
		},
		{
			name:  "push: no record, different size -> upload (differs)",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 0)}), remote: tr(E{"a.txt": f(2, 0)}),
			want: []string{"upload a.txt"},
		},
		{
			name:  "push: no record, vsftpd minute-precision LIST within the same minute -> adopt",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 45)}), remote: tr(E{"a.txt": fp(1, 45, time.Minute)}),
			want: []string{"adopt a.txt"},
		},
		{
			name:  "push: no record, minute-precision remote a minute off -> upload",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 75)}), remote: tr(E{"a.txt": fp(1, 0, time.Minute)}),
			want: []string{"upload a.txt"},
		},
		{
			name:  "push: record kept at minute precision, nothing changed -> nothing",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 45)}), remote: tr(E{"a.txt": fp(1, 45, time.Minute)}),
			st: State{"a.txt": rec(f(1, 45), fp(1, 45, time.Minute))},
		},
		{
			name:  "push: record at minute precision, local touched within the minute -> upload",
			dir:   Push,
			local: tr(E{"a.txt": f(1, 50)}), remote: tr(E{"a.txt": fp(1, 45, time.Minute)}),
			st:   State{"a.txt": rec(f(1, 45), fp(1, 45, time.Minute))},
			want: []string{"upload a.txt"},
		},
		{
			name:  "pull: no record, day-precision remote, local time on that day -> adopt",
			dir:   Pull,
			local: tr(E{"a.txt": f(1, 3600)}), remote: tr(E{"a.txt": fp(1, 0, day)}),
			want: []string{"adopt a.txt"},
		},
		{
			name:  "pull: no record, remote without times, same size -> adopt",
			dir:   Pull,
			local: tr(E{"a.txt": f(7, 3600)}), remote: tr(E{"a.txt": fp(7, 0, 0)}),
			want: []string{"adopt a.txt"},
		},
		{
			name:  "pull: no record, remote without times, other size -> download",
			dir:   Pull,
			local: tr(E{"a.txt": f(7, 3600)}), remote: tr(E{"a.txt": fp(8, 0, 0)}),
			want: []string{"download a.txt"},
		},
		{
			name:  "push: source folders missing -> mkdir parents first, empty folders too, before content",
			dir:   Push,
			local: tr(E{"d": dir(), "d/e": dir(), "d/f.txt": f(1, 0), "z": dir()}), remote: tr(nil),
			want: []string{"mkdir-remote d", "mkdir-remote d/e", "mkdir-remote z", "upload d/f.txt"},
		},
		{
			name:  "push: folder on both sides and recorded -> nothing",
			dir:   Push,
			local: tr(E{"d": dir()}), remote: tr(E{"d": dir()}),
			st: State{"d": rec(dir(), dir())},
		},
		{
			name:  "push without --delete: destination extras stay",
			dir:   Push,
			local: tr(nil), remote: tr(E{"x": dir(), "x/a.txt": f(1, 0), "b.txt": f(1, 0)}),
		},
		{
			name:  "push --delete: extras deleted, files first, then folders deepest first",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(nil),
			remote: tr(E{"top.txt": f(1, 0), "x": dir(), "x/a.txt": f(1, 0), "x/y": dir(), "x/y/z.txt": f(1, 0),
				"x/y/w": dir(), "q": dir()}),
			want: []string{"delete-remote top.txt", "delete-remote x/a.txt", "delete-remote x/y/z.txt",
				"delete-remote x/y/w", "delete-remote x/y", "delete-remote q", "delete-remote x"},
		},
		{
			name:  "pull --delete: local extras deleted",
			dir:   Pull,
			opt:   Options{Delete: true},
			local: tr(E{"a.txt": f(1, 0), "keep.txt": f(1, 0)}), remote: tr(E{"keep.txt": f(1, 0)}),
			st:   State{"keep.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"delete-local a.txt"},
		},
		{
			name:  "push without --delete: file replacing a folder is a problem, skipped",
			dir:   Push,
			local: tr(E{"a": f(1, 0)}), remote: tr(E{"a": dir(), "a/b.txt": f(1, 0)}),
			problems: []string{`"a": a file on the local side and a dir on the remote side: skipped`},
		},
		{
			name:  "push without --delete: folder replacing a file is a problem, its contents skipped",
			dir:   Push,
			local: tr(E{"a": dir(), "a/b.txt": f(1, 0), "c.txt": f(1, 0)}), remote: tr(E{"a": f(1, 0)}),
			want:     []string{"upload c.txt"},
			problems: []string{`"a": a dir on the local side and a file on the remote side`},
		},
		{
			name:  "push --delete: file replaces a folder (folder emptied and removed first)",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(E{"a": f(1, 0)}), remote: tr(E{"a": dir(), "a/b": dir(), "a/b/c.txt": f(1, 0), "a/d.txt": f(1, 0)}),
			want: []string{"delete-remote a/b/c.txt", "delete-remote a/d.txt", "delete-remote a/b", "delete-remote a", "upload a"},
		},
		{
			name:  "pull --delete: folder replaces a file (file removed first)",
			dir:   Pull,
			opt:   Options{Delete: true},
			local: tr(E{"a": f(1, 0)}), remote: tr(E{"a": dir(), "a/b.txt": f(1, 0)}),
			want: []string{"delete-local a", "mkdir-local a", "download a/b.txt"},
		},
		{
			name:  "push --delete: replacing a folder that holds an unknown folder is refused",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(E{"a": f(1, 0)}), remote: tr(E{"a": dir(), "a/u": dir(), "a/f": f(1, 0)}, "a/u"),
			problems: []string{`"a": a file on the local side and a dir on the remote side, and part of that folder could not be listed`,
				`remote folder "a/u" could not be listed completely`},
		},
		{
			name:     "push --delete: unknown source folder -> nothing at or below it transferred or deleted",
			dir:      Push,
			opt:      Options{Delete: true},
			local:    tr(E{"u": dir(), "u/x.txt": f(9, 9), "n.txt": f(1, 0)}, "u"),
			remote:   tr(E{"u": dir(), "u/x.txt": f(1, 0), "u/y.txt": f(1, 0), "u/v": dir(), "u/v/w": f(1, 0)}),
			want:     []string{"upload n.txt"},
			problems: []string{`local folder "u" could not be listed completely`},
		},
		{
			name:  "push --delete: unknown destination folder -> nothing deleted, nothing copied into it",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(E{"u": dir(), "u/new.txt": f(1, 0)}), remote: tr(E{"u": dir(), "u/old.txt": f(1, 0)}, "u"),
			problems: []string{`remote folder "u" could not be listed completely`},
		},
		{
			name:  "push --delete: a folder holding an unknown folder is not deleted, the rest of it is",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(nil), remote: tr(E{"p": dir(), "p/u": dir(), "p/f.txt": f(1, 0), "p/e": dir()}, "p/u"),
			want:     []string{"delete-remote p/f.txt", "delete-remote p/e"},
			problems: []string{`remote folder "p/u" could not be listed completely`},
		},
		{
			name:  "push --delete: an unknown folder missing from the entries still protects its parents",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(nil), remote: tr(E{"p": dir(), "p/f.txt": f(1, 0)}, "p/u"),
			want:     []string{"delete-remote p/f.txt"},
			problems: []string{`remote folder "p/u" could not be listed completely`},
		},
		{
			name:  "push --delete: unknown remote root -> nothing at all",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(E{"a": f(1, 0)}), remote: tr(E{"b": f(1, 0)}, ""),
			st:       State{"gone": rec(f(1, 0), f(1, 0))},
			problems: []string{`remote folder "." (the root) could not be listed completely`},
		},
		// Incomplete folders: a listing that skipped unsafe names used to
		// be unknown as a whole, so nothing in it was synced.
		{
			name:     "pull --delete: remote folder listed without an unsafe name -> its entries are copied, no local extra under it deleted",
			dir:      Pull,
			opt:      Options{Delete: true},
			local:    tr(E{"u": dir(), "u/extra.txt": f(1, 0), "u/v": dir(), "u/v/mine": f(1, 0), "x.txt": f(1, 0)}),
			remote:   inc(tr(E{"u": dir(), "u/good.txt": f(2, 0), "u/v": dir(), "u/v/w": f(3, 0)}), "u"),
			want:     []string{"download u/good.txt", "download u/v/w", "delete-local x.txt", "adopt u", "adopt u/v"},
			problems: []string{`remote folder "u" was listed without some of its entries: nothing at or below it is deleted`},
		},
		{
			name:     "push --delete: remote folder listed without an unsafe name -> new files go up, nothing under it deleted",
			dir:      Push,
			opt:      Options{Delete: true},
			local:    tr(E{"u": dir(), "u/new.txt": f(1, 0), "u/same.txt": f(1, 0)}),
			remote:   inc(tr(E{"u": dir(), "u/old.txt": f(1, 0), "u/same.txt": f(1, 0), "u/v": dir(), "u/v/w": f(1, 0)}), "u"),
			want:     []string{"upload u/new.txt", "adopt u", "adopt u/same.txt"},
			problems: []string{`remote folder "u" was listed without some of its entries`},
		},
		{
			name:  "push --delete: a folder holding an incomplete folder is not deleted, the rest of it is",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(nil), remote: inc(tr(E{"p": dir(), "p/u": dir(), "p/u/a": f(1, 0), "p/f.txt": f(1, 0)}), "p/u"),
			want:     []string{"delete-remote p/f.txt"},
			problems: []string{`remote folder "p/u" was listed without some of its entries`},
		},
		{
			name:  "push --delete: file against folder inside an incomplete folder -> skipped",
			dir:   Push,
			opt:   Options{Delete: true},
			local: tr(E{"u": dir(), "u/a": f(1, 0)}), remote: inc(tr(E{"u": dir(), "u/a": dir(), "u/a/x": f(1, 0)}), "u"),
			want: []string{"adopt u"},
			problems: []string{`"u/a": a file on the local side and a dir on the remote side, in a folder listed without some of its entries: skipped`,
				`remote folder "u" was listed without some of its entries`},
		},
		{
			name:  "push: state entries gone from both sides -> forget",
			dir:   Push,
			local: tr(nil), remote: tr(nil),
			st:   State{"old": rec(dir(), dir()), "old/a.txt": rec(f(1, 0), f(1, 0))},
			want: []string{"forget old", "forget old/a.txt"},
		},
		{
			name:   "push --delete with scope: only paths at or below the scope, no deletes outside",
			dir:    Push,
			opt:    Options{Delete: true, Scope: []string{"a"}},
			local:  tr(E{"a": dir(), "a/x.txt": f(1, 0), "b.txt": f(5, 5)}),
			remote: tr(E{"a": dir(), "a/gone.txt": f(1, 0), "b.txt": f(1, 0), "c.txt": f(1, 0)}),
			st:     State{"a": rec(dir(), dir()), "zzz": rec(f(1, 0), f(1, 0))},
			want:   []string{"upload a/x.txt", "delete-remote a/gone.txt"},
		},
		{
			name:   "push with scope: missing parents of an in-scope path are created",
			dir:    Push,
			opt:    Options{Scope: []string{"a/b/x.txt"}},
			local:  tr(E{"a": dir(), "a/b": dir(), "a/b/x.txt": f(1, 0), "a/b/other.txt": f(1, 0)}),
			remote: tr(nil),
			want:   []string{"mkdir-remote a", "mkdir-remote a/b", "upload a/b/x.txt"},
		},
		{
			name:  "push --delete with scope: a deleted in-scope path is deleted on the destination",
			dir:   Push,
			opt:   Options{Delete: true, Scope: []string{"a/x.txt"}},
			local: tr(E{"a": dir()}), remote: tr(E{"a": dir(), "a/x.txt": f(1, 0), "a/y.txt": f(1, 0)}),
			want: []string{"delete-remote a/x.txt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := OneWay(tt.dir, tt.local, tt.remote, tt.st, tt.opt)
			checkActions(t, p, tt.want)
			checkProblems(t, p, tt.problems)
			if p.Direction != tt.dir {
				t.Errorf("Direction = %v, want %v", p.Direction, tt.dir)
			}
		})
	}
}

func TestOneWayActionMeta(t *testing.T) {
	// The executor records what the action carries: the source version and
	// what the destination held before.
	l, r := f(3, 9), fp(1, 0, time.Minute)
	p := OneWay(Push, tr(E{"a": l}), tr(E{"a": r}), State{"a": rec(f(1, 0), r)}, Options{})
	if len(p.Actions) != 1 {
		t.Fatalf("plan:\n%s", p)
	}
	a := p.Actions[0]
	if a.Op != Upload || a.Local != l || a.Remote != r || a.Kind != File || a.Reason != "changed" || a.Phase != PhaseTransfer {
		t.Errorf("action = %+v", a)
	}
}
