package plan

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// side is one end of a sync.
type side uint8

const (
	sideLocal side = iota
	sideRemote
)

func (s side) other() side { return 1 - s }

func (s side) String() string {
	if s == sideLocal {
		return "local"
	}
	return "remote"
}

func mkdirOp(s side) Op  { return pick(s, MkdirLocal, MkdirRemote) }
func deleteOp(s side) Op { return pick(s, DeleteLocal, DeleteRemote) }
func renameOp(s side) Op { return pick(s, RenameLocal, RenameRemote) }

// copyOp is the transfer that writes side s.
func copyOp(to side) Op { return pick(to, Download, Upload) }

func pick(s side, local, remote Op) Op {
	if s == sideLocal {
		return local
	}
	return remote
}

// recSide is the record's Meta for side s (zero when there is no record).
func recSide(r Record, s side) Meta {
	if s == sideLocal {
		return r.Local
	}
	return r.Remote
}

// parent is the folder holding p ("" for a top-level name).
func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

// depth is the number of path elements of p.
func depth(p string) int { return strings.Count(p, "/") + 1 }

// within reports whether p is root or below it ("" is the root).
func within(p, root string) bool {
	return root == "" || p == root || strings.HasPrefix(p, root+"/")
}

func show(p string) string {
	if p == "" {
		return `"." (the root)`
	}
	return fmt.Sprintf("%q", p)
}

// item is an action with its sort position.
type item struct {
	Action
	key string // sort key within PhaseTransfer: a conflict group shares one
	seq int    // insertion order, keeps a conflict group in order
}

// builder holds what one planning run needs; it lives for one call.
type builder struct {
	local, remote Tree
	st            State
	opt           Options

	paths        []string        // every path to decide, sorted
	ancestorOnly map[string]bool // parents of scope paths, outside the scope
	unknown      map[string]bool // unknown folders of either tree
	incomplete   map[string]bool // incomplete folders of either tree
	pinned       map[string]bool // strict ancestors of unknown and incomplete folders: never deleted
	skipRoot     map[string]bool // skipped with everything below (a Problem says why)
	survives     [2]map[string]bool
	clearRoot    [2]map[string]bool // a type change deletes this subtree first
	used         map[string]bool    // conflict names taken by this plan
	items        []item
	problems     map[string]bool
	conflicts    int
}

func newBuilder(local, remote Tree, st State, opt Options) *builder {
	b := &builder{
		local: local, remote: remote, st: st, opt: opt,
		ancestorOnly: map[string]bool{},
		unknown:      map[string]bool{},
		incomplete:   map[string]bool{},
		pinned:       map[string]bool{},
		skipRoot:     map[string]bool{},
		used:         map[string]bool{},
		problems:     map[string]bool{},
	}
	for s := range 2 {
		b.survives[s] = map[string]bool{}
		b.clearRoot[s] = map[string]bool{}
	}
	b.collect()
	b.noteUnknown(sideLocal)
	b.noteUnknown(sideRemote)
	b.noteIncomplete(sideLocal)
	b.noteIncomplete(sideRemote)
	return b
}

func (b *builder) tree(s side) Tree {
	if s == sideLocal {
		return b.local
	}
	return b.remote
}

func (b *builder) meta(s side, p string) (Meta, bool) {
	m, ok := b.tree(s).Entries[p]
	return m, ok
}

// collect gathers and sorts every path of both trees and the state that
// the scope admits. Sorting puts every folder before what it holds.
func (b *builder) collect() {
	b.paths = make([]string, 0, max(len(b.local.Entries), len(b.remote.Entries), len(b.st)))
	add := func(p string) {
		switch {
		case p == "":
		case b.inScope(p):
			b.paths = append(b.paths, p)
		case b.aboveScope(p):
			b.paths = append(b.paths, p)
			b.ancestorOnly[p] = true
		}
	}
	// Each path once, without a set: a path of remote or st is added
	// only when the maps before it lack it.
	for p := range b.local.Entries {
		add(p)
	}
	for p := range b.remote.Entries {
		if _, ok := b.local.Entries[p]; !ok {
			add(p)
		}
	}
	for p := range b.st {
		_, inLocal := b.local.Entries[p]
		_, inRemote := b.remote.Entries[p]
		if !inLocal && !inRemote {
			add(p)
		}
	}
	slices.Sort(b.paths)
}

func (b *builder) inScope(p string) bool {
	if len(b.opt.Scope) == 0 {
		return true
	}
	for _, s := range b.opt.Scope {
		if within(p, s) {
			return true
		}
	}
	return false
}

// aboveScope reports whether p is a strict ancestor of a scope path.
func (b *builder) aboveScope(p string) bool {
	for _, s := range b.opt.Scope {
		if s != "" && strings.HasPrefix(s, p+"/") {
			return true
		}
	}
	return false
}

// noteUnknown records side s's unknown folders, pins their ancestors and
// reports each one that the scope touches.
func (b *builder) noteUnknown(s side) {
	var us []string
	for u := range b.tree(s).Unknown {
		us = append(us, u)
	}
	slices.Sort(us)
	for _, u := range us {
		b.unknown[u] = true
		for q := u; q != ""; {
			q = parent(q)
			b.pinned[q] = true
		}
		if b.inScope(u) || u == "" || b.aboveScope(u) {
			b.problem("%s folder %s could not be listed completely: nothing at or below it is synced", s, show(u))
		}
	}
}

// noteIncomplete records side s's incomplete folders, pins their ancestors
// and reports each one that the scope touches.
func (b *builder) noteIncomplete(s side) {
	var is []string
	for u := range b.tree(s).Incomplete {
		is = append(is, u)
	}
	slices.Sort(is)
	for _, u := range is {
		b.incomplete[u] = true
		for q := u; q != ""; {
			q = parent(q)
			b.pinned[q] = true
		}
		if b.inScope(u) || u == "" || b.aboveScope(u) {
			b.problem("%s folder %s was listed without some of its entries: nothing at or below it is deleted", s, show(u))
		}
	}
}

// noDelete reports whether p is at or below an incomplete folder: nothing
// there is deleted on either side, nor taken as deleted.
func (b *builder) noDelete(p string) bool {
	if len(b.incomplete) == 0 {
		return false
	}
	for q := p; ; q = parent(q) {
		if b.incomplete[q] {
			return true
		}
		if q == "" {
			return false
		}
	}
}

func (b *builder) problem(format string, args ...any) {
	b.problems[fmt.Sprintf(format, args...)] = true
}

// skipped reports whether p is at or below an unknown folder or a skip root.
func (b *builder) skipped(p string) bool {
	if b.unknown[""] {
		return true
	}
	for q := p; q != ""; q = parent(q) {
		if b.unknown[q] || b.skipRoot[q] {
			return true
		}
	}
	return false
}

// skip makes p and everything below it untouchable, with a Problem.
func (b *builder) skip(p, format string, args ...any) {
	b.skipRoot[p] = true
	b.problem("%s: "+format, append([]any{show(p)}, args...)...)
}

// keep notes that p exists on side s after the plan, so its folder does.
func (b *builder) keep(s side, p string) { b.survives[s][parent(p)] = true }

// keepPresent calls keep for every side where p exists now.
func (b *builder) keepPresent(p string) {
	for _, s := range []side{sideLocal, sideRemote} {
		if _, ok := b.meta(s, p); ok {
			b.keep(s, p)
		}
	}
}

// deletable reports whether folder p on side s may go as far as its
// contents go: nothing inside it on s stays and no unknown or incomplete
// folder lies below it. (Callers check noDelete for p itself.)
func (b *builder) deletable(s side, p string) bool {
	return !b.survives[s][p] && !b.pinned[p] && !b.unknown[p]
}

// passive handles a path the plan must not change: a skipped one, or a
// parent of the scope, which is only created where something inside it is
// copied to a side that lacks it.
func (b *builder) passive(p string) {
	if b.ancestorOnly[p] && !b.skipped(p) {
		for _, s := range []side{sideLocal, sideRemote} {
			o, ok := b.meta(s.other(), p)
			if _, here := b.meta(s, p); !here && ok && o.Kind == Dir && b.survives[s][p] {
				b.add(b.action(mkdirOp(s), p, Dir, "parent of a synced path"))
			}
			if b.survives[s][p] {
				b.keep(s, p)
			}
		}
	}
	b.keepPresent(p)
}

// action builds an action on p with both sides' current Meta.
func (b *builder) action(op Op, p string, k Kind, reason string) Action {
	l, _ := b.meta(sideLocal, p)
	r, _ := b.meta(sideRemote, p)
	return Action{Op: op, Path: p, Kind: k, Local: l, Remote: r, Reason: reason}
}

// add appends a, setting its Phase from its Op (deletes are placed by
// finish).
func (b *builder) add(a Action) { b.addKeyed(a, a.Path) }

// addKeyed is add with an explicit sort key for PhaseTransfer.
func (b *builder) addKeyed(a Action, key string) {
	switch a.Op {
	case MkdirLocal, MkdirRemote:
		a.Phase = PhaseMkdir
	case Upload, Download:
		a.Phase = PhaseTransfer
	case RenameLocal, RenameRemote:
		if a.Phase == 0 {
			a.Phase = PhaseTransfer
		}
	case Adopt, Forget:
		a.Phase = PhaseRecord
	}
	b.items = append(b.items, item{Action: a, key: key, seq: len(b.items)})
}

// adopt adds an Adopt for p unless the state already holds exactly
// what both sides show.
func (b *builder) adopt(p string, k Kind, reason string) {
	l, _ := b.meta(sideLocal, p)
	r, _ := b.meta(sideRemote, p)
	if rec, ok := b.st[p]; ok && rec.Kind == k && Same(rec.Local, l) && Same(rec.Remote, r) {
		return
	}
	b.add(b.action(Adopt, p, k, reason))
}

// cleared reports whether p on side s lies in a subtree a type change
// deletes first.
func (b *builder) cleared(s side, p string) bool {
	for q := p; ; q = parent(q) {
		if b.clearRoot[s][q] {
			return true
		}
		if q == "" {
			return false
		}
	}
}

// finish places deletes in their phase, sorts, counts and returns the plan.
func (b *builder) finish(d Direction) Plan {
	for i := range b.items {
		a := &b.items[i].Action
		var s side
		switch a.Op {
		case DeleteLocal:
			s = sideLocal
		case DeleteRemote:
			s = sideRemote
		default:
			continue
		}
		switch {
		case b.cleared(s, a.Path):
			a.Phase = PhaseClear
		case a.Kind == Dir:
			a.Phase = PhaseDeleteDirs
		default:
			a.Phase = PhaseDeleteFiles
		}
	}
	slices.SortFunc(b.items, compareItems)
	p := Plan{Direction: d, Actions: make([]Action, 0, len(b.items))}
	ids := map[int]int{} // conflict groups numbered in plan order
	for _, it := range b.items {
		if it.Conflict > 0 {
			if ids[it.Conflict] == 0 {
				ids[it.Conflict] = len(ids) + 1
			}
			it.Conflict = ids[it.Conflict]
		}
		p.Actions = append(p.Actions, it.Action)
		switch it.Op {
		case DeleteLocal:
			p.LocalDeletes++
		case DeleteRemote:
			p.RemoteDeletes++
		}
	}
	for msg := range b.problems {
		p.Problems = append(p.Problems, msg)
	}
	slices.Sort(p.Problems)
	return p
}

// clearRank orders PhaseClear: renames, file deletes, folder deletes.
func clearRank(a Action) int {
	switch {
	case a.Op == RenameLocal || a.Op == RenameRemote:
		return 0
	case a.Kind != Dir:
		return 1
	}
	return 2
}

func compareItems(x, y item) int {
	if c := cmp.Compare(x.Phase, y.Phase); c != 0 {
		return c
	}
	switch x.Phase {
	case PhaseClear:
		if c := cmp.Compare(clearRank(x.Action), clearRank(y.Action)); c != 0 {
			return c
		}
		if clearRank(x.Action) == 2 {
			if c := cmp.Compare(depth(y.Path), depth(x.Path)); c != 0 {
				return c
			}
		}
	case PhaseDeleteDirs:
		if c := cmp.Compare(depth(y.Path), depth(x.Path)); c != 0 {
			return c
		}
	case PhaseTransfer:
		// A conflict group shares its Path's sort key and keeps its order.
		if c := strings.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.seq, y.seq)
	}
	if c := strings.Compare(x.Path, y.Path); c != 0 {
		return c
	}
	if c := cmp.Compare(x.Op, y.Op); c != 0 {
		return c
	}
	return cmp.Compare(x.seq, y.seq)
}

// decideDeepestFirst calls decide for every path, children before their
// folder (so a folder's fate can depend on what happens inside it); paths
// at or below an unknown folder or a skipped one, and the parents of scope
// paths, are only kept as they are.
func (b *builder) decideDeepestFirst(decide func(p string)) {
	for i := len(b.paths) - 1; i >= 0; i-- {
		p := b.paths[i]
		if b.skipped(p) || b.ancestorOnly[p] {
			b.passive(p)
			continue
		}
		decide(p)
	}
}
