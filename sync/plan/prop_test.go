package plan

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

var rounds = flag.Int("plan.rounds", 300, "number of seeds each randomized plan property test runs")

type rng struct{ *rand.Rand }

func (r rng) Intn(n int) int { return r.IntN(n) }

func newRng(seed uint64) rng { return rng{rand.New(rand.NewPCG(seed, 0x5eed))} }

// names is a small alphabet so paths collide: dotfiles, no extension,
// multi-dot names.
var names = []string{"a", "b.txt", ".h", "c.tar.gz", "d"}

// gen builds random worlds.
type gen struct {
	c    chooser
	id   int
	step time.Duration // a time shift both sides can see (0: the remote has no times)
}

func (g *gen) path() string {
	n := 1 + g.c.Intn(3)
	parts := make([]string, n)
	for i := range parts {
		parts[i] = names[g.c.Intn(len(names))]
	}
	return strings.Join(parts, "/")
}

func (g *gen) content(s *simSide, t time.Time) simEntry {
	g.id++
	return simEntry{kind: File, size: int64(g.id), mtime: s.stamp(t), id: g.id}
}

func (g *gen) when() time.Time { return at(g.c.Intn(10 * 24 * 3600)) }

// mkparents creates p's missing parent folders; false if one is a file.
func mkparents(s *simSide, p string) bool {
	var miss []string
	for q := parent(p); q != ""; q = parent(q) {
		e, ok := s.e[q]
		if ok && e.kind != Dir {
			return false
		}
		if !ok {
			miss = append(miss, q)
		}
	}
	for _, q := range miss {
		s.e[q] = simEntry{kind: Dir}
	}
	return true
}

func removeTree(s *simSide, p string) {
	for q := range s.e {
		if within(q, p) {
			delete(s.e, q)
		}
	}
}

func (g *gen) pick(s *simSide, kind Kind) (string, bool) {
	var ps []string
	for _, p := range sorted(s.e) {
		if kind == 0 || s.e[p].kind == kind {
			ps = append(ps, p)
		}
	}
	if len(ps) == 0 {
		return "", false
	}
	return ps[g.c.Intn(len(ps))], true
}

// later is a time detectably after t on side s.
func (g *gen) later(s *simSide, t time.Time) time.Time {
	step := max(s.prec, time.Second)
	return t.Add(step * time.Duration(1+g.c.Intn(5)))
}

// mutate changes side s the way a user would.
func (g *gen) mutate(s *simSide) {
	switch g.c.Intn(9) {
	case 0, 1: // create or overwrite a file
		p := g.path()
		if e, ok := s.e[p]; (ok && e.kind == Dir) || !mkparents(s, p) {
			return
		}
		s.e[p] = g.content(s, g.when())
	case 2: // modify
		if p, ok := g.pick(s, File); ok {
			s.e[p] = g.content(s, g.later(s, s.e[p].mtime))
		}
	case 3: // touch: same content, new time (undetectable without times)
		if p, ok := g.pick(s, File); ok && s.prec > 0 {
			e := s.e[p]
			e.mtime = s.stamp(g.later(s, e.mtime))
			s.e[p] = e
		}
	case 4: // delete a file or a whole folder
		if p, ok := g.pick(s, 0); ok {
			removeTree(s, p)
		}
	case 5: // mkdir
		p := g.path()
		if _, ok := s.e[p]; !ok && mkparents(s, p) {
			s.e[p] = simEntry{kind: Dir}
		}
	case 6: // a file becomes a folder (with something inside, sometimes)
		if p, ok := g.pick(s, File); ok {
			s.e[p] = simEntry{kind: Dir}
			if g.c.Intn(2) == 0 {
				s.e[p+"/"+names[g.c.Intn(len(names))]] = g.content(s, g.when())
			}
		}
	case 7: // a folder becomes a file
		if p, ok := g.pick(s, Dir); ok {
			removeTree(s, p)
			s.e[p] = g.content(s, g.when())
		}
	case 8: // new content of the same size: only the time tells
		if p, ok := g.pick(s, File); ok && g.step > 0 {
			e := s.e[p]
			g.id++
			// At 1000 steps per version id from a fixed time, more than
			// touches add up to, so no two versions of one size share a time
			// (no sync comparing size and time could tell them apart).
			s.e[p] = simEntry{kind: File, size: e.size, mtime: s.stamp(at(0).Add(g.step * time.Duration(1000*g.id))), id: g.id}
		}
	}
}

// sameEdit makes the same new version appear at one path on both sides.
func (g *gen) sameEdit(w *world) {
	p := g.path()
	l, r := w.side[sideLocal], w.side[sideRemote]
	if e, ok := l.e[p]; ok && e.kind == Dir {
		return
	}
	if e, ok := r.e[p]; ok && e.kind == Dir {
		return
	}
	if !mkparents(l, p) || !mkparents(r, p) {
		return
	}
	e := g.content(l, g.when())
	l.e[p] = e
	e.mtime = r.stamp(e.mtime)
	r.e[p] = e
}

// scenario is a world after both sides changed, and what the planner sees.
type scenario struct {
	w       *world
	unknown [2]map[string]bool
	hidden  [2]map[string]bool
	desc    string
}

func (sc *scenario) trees() (Tree, Tree) {
	return sc.w.tree(sideLocal, sc.unknown[sideLocal], sc.hidden[sideLocal]),
		sc.w.tree(sideRemote, sc.unknown[sideRemote], sc.hidden[sideRemote])
}

// underUnknown reports whether p is at or below an unknown folder of
// either side.
func (sc *scenario) underUnknown(p string) bool {
	for s := range 2 {
		for u := range sc.unknown[s] {
			if within(p, u) {
				return true
			}
		}
	}
	return false
}

func (sc *scenario) pinned(p string) bool {
	for s := range 2 {
		for u := range sc.unknown[s] {
			if u != p && within(u, p) {
				return true
			}
		}
	}
	return false
}

var precs = []time.Duration{time.Second, time.Minute, 24 * time.Hour, 0}

// newScenario builds a synced base, a state for it, then changes both sides.
func newScenario(c chooser) *scenario {
	rp := precs[c.Intn(len(precs))]
	g := &gen{c: c, step: rp}
	w := &world{
		side:  [2]*simSide{{name: "local", prec: time.Second, e: map[string]simEntry{}}, {name: "remote", prec: rp, e: map[string]simEntry{}}},
		st:    State{},
		clock: at(30 * 24 * 3600),
	}
	l, r := w.side[sideLocal], w.side[sideRemote]
	for range c.Intn(14) {
		p := g.path()
		if _, ok := l.e[p]; ok || !mkparents(l, p) {
			continue
		}
		if c.Intn(4) == 0 {
			l.e[p] = simEntry{kind: Dir}
		} else {
			l.e[p] = g.content(l, g.when())
		}
	}
	for p, e := range l.e {
		e.mtime = r.stamp(e.mtime)
		r.e[p] = e
	}
	stateMode := c.Intn(6) // 0: lost cache, 1: partial, else full
	for p := range l.e {
		if stateMode == 0 || stateMode == 1 && c.Intn(2) == 0 {
			continue
		}
		w.record(p)
	}
	for range c.Intn(7) {
		g.mutate(l)
	}
	for range c.Intn(7) {
		g.mutate(r)
	}
	for range c.Intn(2) {
		g.sameEdit(w)
	}
	sc := &scenario{w: w, desc: fmt.Sprintf("remote precision %v, state mode %d", rp, stateMode)}
	for s := range 2 {
		sc.unknown[s] = map[string]bool{}
		sc.hidden[s] = map[string]bool{}
		if c.Intn(5) != 0 {
			continue
		}
		u := ""
		if c.Intn(8) != 0 {
			var ok bool
			if u, ok = g.pick(w.side[s], Dir); !ok {
				continue
			}
		}
		sc.unknown[s][u] = true
		for p := range w.side[s].e {
			if p != u && within(p, u) && c.Intn(2) == 0 {
				sc.hidden[s][p] = true
			}
		}
	}
	return sc
}

// checkTwoWay plans, runs and checks one scenario; it returns a failure
// description or "".
func checkTwoWay(sc *scenario, c chooser) string {
	before := sc.w.clone()
	lt, rt := sc.trees()
	st := before.st
	p := TwoWay(lt, rt, st, Options{})
	w := sc.w.clone()
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("%s\n%s\nlocal: %v\nremote: %v\nstate: %v\nplan:\n%s",
			sc.desc, fmt.Sprintf(format, args...), before.side[0].e, before.side[1].e, st, p)
	}
	for _, a := range p.Actions {
		if sc.underUnknown(a.Path) || a.To != "" && sc.underUnknown(a.To) {
			return fail("%v touches an unknown region", a)
		}
		if (a.Op == DeleteLocal || a.Op == DeleteRemote) && a.Kind == Dir && sc.pinned(a.Path) {
			return fail("%v deletes a folder holding an unknown one", a)
		}
	}
	for _, msg := range p.Problems {
		if !strings.Contains(msg, "could not be listed completely") {
			return fail("unexpected problem %q", msg)
		}
	}
	if err := w.run(p, c); err != nil {
		return fail("executing: %v", err)
	}
	// Both trees identical outside unknown regions.
	for _, q := range sorted(mergeKeys(w.side[0].e, w.side[1].e)) {
		if sc.underUnknown(q) {
			continue
		}
		le, lok := w.side[sideLocal].e[q]
		re, rok := w.side[sideRemote].e[q]
		if !lok || !rok || le.kind != re.kind || le.id != re.id {
			return fail("after the sync %q differs: local %+v (%v), remote %+v (%v)", q, le, lok, re, rok)
		}
	}
	// No version lost, except unchanged copies the other side deleted or replaced.
	for _, s := range []side{sideLocal, sideRemote} {
		for q, e := range before.side[s].e {
			if e.kind != File || sc.underUnknown(q) {
				continue
			}
			m, _ := before.side[s].meta(q)
			if rec, ok := st[q]; ok && Same(m, recSide(rec, s)) {
				continue
			}
			if !versionKept(w, q, e.id) {
				return fail("%s version %d of %q is lost", s, e.id, q)
			}
		}
	}
	// A second plan on the result has nothing to do.
	lt2 := w.tree(sideLocal, sc.unknown[sideLocal], sc.hidden[sideLocal])
	rt2 := w.tree(sideRemote, sc.unknown[sideRemote], sc.hidden[sideRemote])
	p2 := TwoWay(lt2, rt2, w.st, Options{})
	for _, a := range p2.Actions {
		if a.Op != Adopt {
			return fail("second plan not empty:\n%s", p2)
		}
	}
	return ""
}

func mergeKeys(a, b map[string]simEntry) map[string]bool {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return m
}

// versionKept reports whether version id sits on both sides under p or a
// conflict name of p.
func versionKept(w *world, p string, id int) bool {
	for q, le := range w.side[sideLocal].e {
		re, ok := w.side[sideRemote].e[q]
		if le.kind == File && le.id == id && ok && re.kind == File && re.id == id &&
			(q == p || parent(q) == parent(p) && strings.Contains(q, ".conflict-")) {
			return true
		}
	}
	return false
}

func TestTwoWayProperties(t *testing.T) {
	stats := map[string]int{}
	for seed := range uint64(*rounds) {
		r := newRng(seed)
		sc := newScenario(r)
		lt, rt := sc.trees()
		for _, a := range TwoWay(lt, rt, sc.w.st, Options{}).Actions {
			stats[a.Op.String()]++
			if a.Conflict > 0 {
				stats["conflict actions"]++
			}
		}
		if msg := checkTwoWay(sc, r); msg != "" {
			t.Fatalf("seed %d: %s", seed, msg)
		}
	}
	// The generator must reach every kind of action, or the test proves little.
	for _, op := range []Op{MkdirLocal, MkdirRemote, Upload, Download, DeleteLocal, DeleteRemote, RenameLocal, RenameRemote, Adopt, Forget} {
		if stats[op.String()] == 0 && *rounds >= 300 {
			t.Errorf("no %v in %d rounds", op, *rounds)
		}
	}
	t.Logf("%d rounds, action counts: %v", *rounds, stats)
}

// checkOneWay plans, runs and checks one scenario as a push or pull.
func checkOneWay(sc *scenario, dir Direction, del bool, c chooser) string {
	before := sc.w.clone()
	lt, rt := sc.trees()
	st := before.st
	p := OneWay(dir, lt, rt, st, Options{Delete: del})
	src, dst := sideLocal, sideRemote
	if dir == Pull {
		src, dst = sideRemote, sideLocal
	}
	w := sc.w.clone()
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("%s dir %v delete %v\n%s\nlocal: %v\nremote: %v\nstate: %v\nplan:\n%s",
			sc.desc, dir, del, fmt.Sprintf(format, args...), before.side[0].e, before.side[1].e, st, p)
	}
	// Paths the plan may legitimately leave different: unknown regions and
	// unresolvable type clashes (with everything below them).
	var clashes []string
	for q, se := range before.side[src].e {
		if de, ok := before.side[dst].e[q]; ok && se.kind != de.kind && (!del || sc.pinned(q)) {
			clashes = append(clashes, q)
		}
	}
	exempt := func(q string) bool {
		return sc.underUnknown(q) || slices.ContainsFunc(clashes, func(c string) bool { return within(q, c) })
	}
	for _, a := range p.Actions {
		if sc.underUnknown(a.Path) {
			return fail("%v touches an unknown region", a)
		}
		switch a.Op {
		case DeleteLocal, DeleteRemote:
			if !del || sideOf(a.Op) != dst || a.Kind == Dir && sc.pinned(a.Path) {
				return fail("%v: delete not allowed", a)
			}
		case RenameLocal, RenameRemote:
			return fail("%v: one-way plans do not rename", a)
		case Upload, MkdirRemote:
			if dst != sideRemote {
				return fail("%v writes the source", a)
			}
		case Download, MkdirLocal:
			if dst != sideLocal {
				return fail("%v writes the source", a)
			}
		}
	}
	if err := w.run(p, c); err != nil {
		return fail("executing: %v", err)
	}
	if !mapsEqual(w.side[src].e, before.side[src].e) {
		return fail("the source changed")
	}
	for q, se := range w.side[src].e {
		if exempt(q) {
			continue
		}
		de, ok := w.side[dst].e[q]
		if !ok || de.kind != se.kind || de.id != se.id {
			return fail("destination %q = %+v (%v), source %+v", q, de, ok, se)
		}
	}
	for q, de := range before.side[dst].e {
		if exempt(q) || sc.pinned(q) && de.kind == Dir {
			continue
		}
		if _, inSrc := w.side[src].e[q]; inSrc {
			continue
		}
		_, still := w.side[dst].e[q]
		if del == still {
			return fail("destination extra %q (%+v): still there = %v with delete %v", q, de, still, del)
		}
	}
	lt2 := w.tree(sideLocal, sc.unknown[sideLocal], sc.hidden[sideLocal])
	rt2 := w.tree(sideRemote, sc.unknown[sideRemote], sc.hidden[sideRemote])
	if p2 := OneWay(dir, lt2, rt2, w.st, Options{Delete: del}); p2.Changes() {
		return fail("second plan not empty:\n%s", p2)
	}
	return ""
}

func mapsEqual(a, b map[string]simEntry) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

func TestOneWayProperties(t *testing.T) {
	for seed := range uint64(*rounds) {
		for _, dir := range []Direction{Push, Pull} {
			for _, del := range []bool{false, true} {
				r := newRng(seed)
				sc := newScenario(r)
				if msg := checkOneWay(sc, dir, del, r); msg != "" {
					t.Fatalf("seed %d: %s", seed, msg)
				}
			}
		}
	}
	t.Logf("%d rounds x push/pull x delete on/off", *rounds)
}

// TestTwoWayScopeProperties plans with a random Scope and checks that
// nothing outside it changes: only the scope paths, the parents they need
// and the conflict copies they make are touched.
func TestTwoWayScopeProperties(t *testing.T) {
	for seed := range uint64(*rounds) {
		r := newRng(seed)
		sc := newScenario(r)
		all := sorted(mergeKeys(sc.w.side[0].e, sc.w.side[1].e))
		if len(all) == 0 {
			continue
		}
		scope := []string{all[r.Intn(len(all))]}
		if r.Intn(2) == 0 {
			scope = append(scope, all[r.Intn(len(all))])
		}
		lt, rt := sc.trees()
		p := TwoWay(lt, rt, sc.w.st, Options{Scope: scope})
		touched := func(q string) bool {
			for _, s := range scope {
				if within(q, s) || strings.HasPrefix(s, q+"/") {
					return true
				}
				if parent(q) == parent(s) && strings.Contains(q, ".conflict-") {
					return true
				}
			}
			return false
		}
		for _, a := range p.Actions {
			in := slices.ContainsFunc(scope, func(s string) bool { return within(a.Path, s) })
			above := !in && slices.ContainsFunc(scope, func(s string) bool { return strings.HasPrefix(s, a.Path+"/") })
			if !touched(a.Path) || above && a.Op != MkdirLocal && a.Op != MkdirRemote {
				t.Fatalf("seed %d scope %q: %v is outside the scope\n%s", seed, scope, a, p)
			}
		}
		w := sc.w.clone()
		if err := w.run(p, r); err != nil {
			t.Fatalf("seed %d scope %q: %v\n%s", seed, scope, err, p)
		}
		for s := range 2 {
			for q, e := range sc.w.side[s].e {
				if !touched(q) && w.side[s].e[q] != e {
					t.Fatalf("seed %d scope %q: %s %q changed outside the scope\n%s", seed, scope, side(s), q, p)
				}
			}
		}
	}
}

// TestIncompleteFolderProperties marks one random folder of one side
// incomplete (listed without some unsafe names, which the other side can
// never hold) and checks, for two-way and for push and pull with and
// without delete: no plan deletes anything at or below it on either side,
// nor a folder holding it (a file where the other side has that folder may
// go), and a second plan after the first has run has
// nothing left to do.
func TestIncompleteFolderProperties(t *testing.T) {
	for seed := range uint64(*rounds) {
		r := newRng(seed)
		sc := newScenario(r)
		s := side(r.Intn(2))
		u := ""
		if r.Intn(6) != 0 {
			var ok bool
			if u, ok = (&gen{c: r}).pick(sc.w.side[s], Dir); !ok {
				continue
			}
		}
		trees := func(w *world) (Tree, Tree) {
			lt := w.tree(sideLocal, sc.unknown[sideLocal], sc.hidden[sideLocal])
			rt := w.tree(sideRemote, sc.unknown[sideRemote], sc.hidden[sideRemote])
			if s == sideLocal {
				lt = inc(lt, u)
			} else {
				rt = inc(rt, u)
			}
			return lt, rt
		}
		type planner struct {
			name string
			plan func(lt, rt Tree, st State) Plan
		}
		planners := []planner{{"two-way", func(lt, rt Tree, st State) Plan { return TwoWay(lt, rt, st, Options{}) }}}
		for _, dir := range []Direction{Push, Pull} {
			for _, del := range []bool{false, true} {
				planners = append(planners, planner{fmt.Sprintf("%v delete %v", dir, del), func(lt, rt Tree, st State) Plan {
					return OneWay(dir, lt, rt, st, Options{Delete: del})
				}})
			}
		}
		for _, pl := range planners {
			lt, rt := trees(sc.w)
			p := pl.plan(lt, rt, sc.w.st)
			for _, a := range p.Actions {
				if a.Op != DeleteLocal && a.Op != DeleteRemote {
					continue
				}
				if within(a.Path, u) || a.Kind == Dir && within(u, a.Path) {
					t.Fatalf("seed %d, %s, %s folder %q incomplete: %v\n%s", seed, pl.name, s, u, a, p)
				}
			}
			w := sc.w.clone()
			if err := w.run(p, r); err != nil {
				t.Fatalf("seed %d, %s: executing: %v\n%s", seed, pl.name, err, p)
			}
			lt2, rt2 := trees(w)
			if p2 := pl.plan(lt2, rt2, w.st); p2.Changes() {
				t.Fatalf("seed %d, %s, %s folder %q incomplete: second plan not empty:\n%s\nfirst:\n%s", seed, pl.name, s, u, p2, p)
			}
		}
	}
}
