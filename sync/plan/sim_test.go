package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// This file is an in-memory executor for plans: two map-based sides and a
// state, on which a plan's actions run in order (shuffling what the phase
// contract says may run in parallel). It checks every precondition the
// planner promises (parents exist, metas as announced, folders empty before
// deletion) and updates the state as Action documents.

// chooser is the randomness the generators use: math/rand for property
// tests, fuzz bytes for FuzzTwoWay.
type chooser interface{ Intn(n int) int }

// simEntry is one path on one simulated side.
type simEntry struct {
	kind  Kind
	size  int64
	mtime time.Time // as this side reports it (at its precision)
	id    int       // content version, files only
}

type simSide struct {
	name string
	prec time.Duration
	e    map[string]simEntry
}

// stamp is t as this side stores and reports it.
func (s *simSide) stamp(t time.Time) time.Time {
	if s.prec <= 0 {
		return time.Time{}
	}
	return t.Truncate(s.prec)
}

func (s *simSide) meta(p string) (Meta, bool) {
	e, ok := s.e[p]
	if !ok {
		return Meta{}, false
	}
	if e.kind == Dir {
		return Meta{Kind: Dir}, true
	}
	return Meta{Kind: File, Size: e.size, ModTime: e.mtime, Precision: s.prec}, true
}

// parentOK reports whether p's folder exists on s.
func (s *simSide) parentOK(p string) bool {
	q := parent(p)
	return q == "" || s.e[q].kind == Dir
}

func (s *simSide) hasChildren(p string) bool {
	for q := range s.e {
		if strings.HasPrefix(q, p+"/") {
			return true
		}
	}
	return false
}

func (s *simSide) clone() *simSide {
	return &simSide{name: s.name, prec: s.prec, e: maps.Clone(s.e)}
}

// world is the two sides and the state.
type world struct {
	side  [2]*simSide
	st    State
	clock time.Time // mtime a download gets when the server gives none
}

func (w *world) clone() *world {
	return &world{side: [2]*simSide{w.side[0].clone(), w.side[1].clone()}, st: maps.Clone(w.st), clock: w.clock}
}

// tree lists side s as the planner sees it: unknown folders marked, hidden
// entries (an incomplete listing) left out.
func (w *world) tree(s side, unknown, hidden map[string]bool) Tree {
	t := Tree{Entries: map[string]Meta{}, Unknown: maps.Clone(unknown)}
	if t.Unknown == nil {
		t.Unknown = map[string]bool{}
	}
	for p := range w.side[s].e {
		if !hidden[p] {
			t.Entries[p], _ = w.side[s].meta(p)
		}
	}
	return t
}

func sideOf(op Op) side {
	switch op {
	case MkdirLocal, DeleteLocal, RenameLocal, Download:
		return sideLocal
	}
	return sideRemote
}

func wantMeta(a Action, s side) Meta {
	if s == sideLocal {
		return a.Local
	}
	return a.Remote
}

// expect checks that side s holds at p what a says it holds.
func (w *world) expect(a Action, s side, p string) error {
	got, _ := w.side[s].meta(p)
	if want := wantMeta(a, s); got != want {
		return fmt.Errorf("%v: %s side holds %+v at %q, action says %+v", a, s, got, p, want)
	}
	return nil
}

func (w *world) record(p string) {
	l, _ := w.side[sideLocal].meta(p)
	r, _ := w.side[sideRemote].meta(p)
	w.st[p] = Record{Kind: l.Kind, Local: l, Remote: r}
}

// apply runs one action.
func (w *world) apply(a Action) error {
	s := sideOf(a.Op)
	x := w.side[s]
	switch a.Op {
	case MkdirLocal, MkdirRemote:
		if err := w.expect(a, s, a.Path); err != nil {
			return err
		}
		if _, ok := x.e[a.Path]; ok || !x.parentOK(a.Path) {
			return fmt.Errorf("%v: path exists or parent missing on %s", a, s)
		}
		x.e[a.Path] = simEntry{kind: Dir}
		w.record(a.Path)
	case Upload, Download:
		from := w.side[s.other()]
		src, ok := from.e[a.Path]
		if !ok || src.kind != File {
			return fmt.Errorf("%v: no source file", a)
		}
		if err := w.expect(a, s.other(), a.Path); err != nil {
			return err
		}
		if err := w.expect(a, s, a.Path); err != nil {
			return err
		}
		if d, ok := x.e[a.Path]; (ok && d.kind != File) || !x.parentOK(a.Path) {
			return fmt.Errorf("%v: destination is a folder or has no parent", a)
		}
		mt := src.mtime
		if from.prec <= 0 {
			mt = w.clock
		}
		x.e[a.Path] = simEntry{kind: File, size: src.size, mtime: x.stamp(mt), id: src.id}
		w.record(a.Path)
	case DeleteLocal, DeleteRemote:
		if _, ok := x.e[a.Path]; !ok {
			return fmt.Errorf("%v: nothing to delete", a)
		}
		if err := w.expect(a, s, a.Path); err != nil {
			return err
		}
		if x.hasChildren(a.Path) {
			return fmt.Errorf("%v: folder not empty", a)
		}
		delete(x.e, a.Path)
		delete(w.st, a.Path)
	case RenameLocal, RenameRemote:
		e, ok := x.e[a.Path]
		if !ok || e.kind != File {
			return fmt.Errorf("%v: no file to rename", a)
		}
		if err := w.expect(a, s, a.Path); err != nil {
			return err
		}
		if _, ok := x.e[a.To]; ok || parent(a.To) != parent(a.Path) {
			return fmt.Errorf("%v: target exists or is in another folder", a)
		}
		x.e[a.To] = e
		delete(x.e, a.Path)
		delete(w.st, a.Path)
	case Adopt:
		if err := w.expect(a, sideLocal, a.Path); err != nil {
			return err
		}
		if err := w.expect(a, sideRemote, a.Path); err != nil {
			return err
		}
		if !Same(a.Local, a.Remote) {
			return fmt.Errorf("%v: adopting different versions", a)
		}
		w.st[a.Path] = Record{Kind: a.Kind, Local: a.Local, Remote: a.Remote}
	case Forget:
		_, l := w.side[sideLocal].e[a.Path]
		_, r := w.side[sideRemote].e[a.Path]
		if l || r {
			return fmt.Errorf("%v: path still exists", a)
		}
		delete(w.st, a.Path)
	default:
		return fmt.Errorf("unknown op %v", a.Op)
	}
	return nil
}

// run applies the plan phase by phase. Within phases the contract lets run
// in parallel, actions (conflict groups as units) go in a shuffled order.
func (w *world) run(p Plan, c chooser) error {
	for i := 0; i < len(p.Actions); {
		ph := p.Actions[i].Phase
		j := i
		for j < len(p.Actions) && p.Actions[j].Phase == ph {
			j++
		}
		var units [][]Action
		for k := i; k < j; k++ {
			a := p.Actions[k]
			if n := len(units); a.Conflict > 0 && n > 0 && units[n-1][0].Conflict == a.Conflict {
				units[n-1] = append(units[n-1], a)
				continue
			}
			units = append(units, []Action{a})
		}
		if ph == PhaseTransfer || ph == PhaseDeleteFiles || ph == PhaseRecord {
			for k := len(units) - 1; k > 0; k-- {
				r := c.Intn(k + 1)
				units[k], units[r] = units[r], units[k]
			}
		}
		for _, u := range units {
			for _, a := range u {
				if err := w.apply(a); err != nil {
					return err
				}
			}
		}
		i = j
	}
	return nil
}

// sorted returns m's keys in order.
func sorted[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
