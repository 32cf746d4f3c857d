package plan

// status is how one side's entry stands against the state's record of it.
type status uint8

const (
	absent  status = iota // not there, and no record of it on this side
	deleted               // not there, but recorded: deleted since the last sync
	same                  // there and equal to the record (Same)
	changed               // there and different from the record (content or type)
	added                 // there, and no record of it on this side
)

// modified reports whether the side holds something the other must learn.
func (s status) modified() bool { return s == changed || s == added }

func statusOf(cur Meta, ok bool, rec Meta) status {
	switch {
	case !ok && rec.Kind == 0:
		return absent
	case !ok:
		return deleted
	case rec.Kind == 0:
		return added
	case Same(cur, rec):
		return same
	}
	return changed
}

// TwoWay plans a two-way sync: changes on either side since the state's
// Records reach the other, by the table of SPEC "Two-way sync".
//
// For files, a side has changed when its Meta differs from the record's
// side (Same, so the remote compares at its listing's precision):
//
//   - changed or new on one side, unchanged (or absent) on the other: copy.
//   - deleted on one side, unchanged on the other: delete on the other.
//   - deleted on one side, changed on the other: the change is copied back.
//   - deleted on both: Forget.
//   - changed (or new) on both: if both versions are Same, with times known
//     on both sides (or, on a first run with no record, Same by size alone
//     when one side has no times), Adopt; otherwise a conflict (see below).
//
// Folders are created on the side that lacks them unless the state shows
// them deleted there; a folder deleted on one side is deleted on the other
// only if it is unchanged there and everything inside it there is deleted
// too; if the other side added or changed something inside, the folder is
// recreated (the addition wins). A rename is a delete plus an add.
//
// Conflicts never lose data. Between two files, the newer (by ModTime; on
// equal times, the local one) keeps the name on both sides and the other is
// kept on both sides under ConflictName (its mtime, or the winner's when it
// has none; the first number free in both trees, the state and this plan)
// as a three-action group (see Action.Conflict). For a local winner:
// RenameRemote(Path → copy), Download(copy), Upload(Path); for a remote one:
// RenameLocal, Upload(copy), Download(Path). A file on one side against a
// folder on the other: an unchanged file gives way to the folder; an
// unchanged folder whose contents all go gives way to the file (deleted in
// PhaseClear); otherwise the folder keeps the name and the file is renamed to
// its conflict name (PhaseClear) and copied across.
//
// Nothing at or below an unknown folder of either tree is copied, deleted,
// adopted or forgotten, or taken as deleted (one Problem per unknown
// folder); no folder holding one is deleted. At or below an incomplete
// folder entries are copied and adopted, but nothing is deleted or taken as
// deleted (such a path is left as it is), and a file against a folder is
// skipped (one Problem per incomplete folder). opt.Delete is ignored;
// opt.Scope limits the plan (see Options).
func TwoWay(local, remote Tree, st State, opt Options) Plan {
	b := newBuilder(local, remote, st, opt)
	for _, p := range b.paths {
		if b.ancestorOnly[p] && !b.skipped(p) {
			l, lok := b.meta(sideLocal, p)
			r, rok := b.meta(sideRemote, p)
			if lok && rok && l.Kind != r.Kind {
				b.skip(p, "a %s locally and a %s on the remote (outside the synced paths): skipped", l.Kind, r.Kind)
			}
		}
		// A type clash is resolved by deleting one side's entry or
		// moving it aside: inside an incomplete folder it waits for a
		// run that sees the whole folder.
		if b.noDelete(p) && !b.skipped(p) {
			l, lok := b.meta(sideLocal, p)
			r, rok := b.meta(sideRemote, p)
			if lok && rok && l.Kind != r.Kind {
				b.skip(p, "a %s locally and a %s on the remote, in a folder listed without some of its entries: skipped", l.Kind, r.Kind)
			}
		}
	}
	tw := twoWay{b: b}
	b.decideDeepestFirst(tw.decide)
	return b.finish(Both)
}

type twoWay struct{ b *builder }

// entry is one side's view of a path being decided.
type entry struct {
	s  side
	m  Meta
	ok bool
	st status
}

func (tw twoWay) decide(p string) {
	b := tw.b
	rec, hasRec := b.st[p]
	var e [2]entry
	for _, s := range []side{sideLocal, sideRemote} {
		m, ok := b.meta(s, p)
		e[s] = entry{s: s, m: m, ok: ok, st: statusOf(m, ok, recSide(rec, s))}
	}
	l, r := e[sideLocal], e[sideRemote]
	switch {
	case !l.ok && !r.ok:
		if hasRec {
			b.add(b.action(Forget, p, rec.Kind, "gone from both sides"))
		}
	case l.ok && r.ok && l.m.Kind == Dir && r.m.Kind == Dir:
		b.keep(sideLocal, p)
		b.keep(sideRemote, p)
		b.adopt(p, Dir, "on both sides")
	case l.ok && r.ok && l.m.Kind == File && r.m.Kind == File:
		tw.files(p, l, r)
	case l.ok && r.ok && l.m.Kind == File:
		tw.clash(p, l, r)
	case l.ok && r.ok:
		tw.clash(p, r, l)
	case l.ok:
		tw.oneSide(p, l, r)
	default:
		tw.oneSide(p, r, l)
	}
}

// oneSide handles p present on x only.
func (tw twoWay) oneSide(p string, x, y entry) {
	b := tw.b
	if y.st == deleted && x.st == same && b.noDelete(p) && !b.survives[y.s][p] {
		// Neither deleted nor brought back (a folder only where
		// something inside it comes to y): p stays as it is until its
		// folder lists whole.
		b.keepPresent(p)
		return
	}
	if y.st == deleted && x.st == same && (x.m.Kind == File || b.deletable(x.s, p)) {
		b.add(b.action(deleteOp(x.s), p, x.m.Kind, "deleted on "+y.s.String()))
		return
	}
	b.keep(x.s, p)
	b.keep(y.s, p)
	reason := "new"
	switch {
	case y.st == deleted && x.st == same:
		reason = "recreated: " + x.s.String() + " has changes inside it"
	case y.st == deleted:
		reason = "changed on " + x.s.String() + ", deleted on " + y.s.String() + ": the change wins"
	case x.st == same:
		reason = "missing on " + y.s.String()
	case x.st == changed:
		reason = "changed"
	}
	if x.m.Kind == Dir {
		b.add(b.action(mkdirOp(y.s), p, Dir, reason))
		return
	}
	b.add(b.action(copyOp(y.s), p, File, reason))
}

// files handles a file on both sides.
func (tw twoWay) files(p string, l, r entry) {
	b := tw.b
	b.keep(sideLocal, p)
	b.keep(sideRemote, p)
	lm, rm := l.st.modified(), r.st.modified()
	switch {
	case !lm && !rm:
	case lm && !rm:
		b.add(b.action(Upload, p, File, reasonFor(l.st)))
	case !lm && rm:
		b.add(b.action(Download, p, File, reasonFor(r.st)))
	case Same(l.m, r.m) && (timeKnown(l.m, r.m) || l.st == added && r.st == added):
		b.adopt(p, File, "equal on both sides")
	default:
		tw.conflict(p, l, r)
	}
}

func reasonFor(s status) string {
	if s == added {
		return "new"
	}
	return "changed"
}

// conflict emits the three-action group for two different versions of p.
func (tw twoWay) conflict(p string, l, r entry) {
	b := tw.b
	win, lose := l, r
	if newer(r.m, l.m) {
		win, lose = r, l
	}
	why := "both changed"
	if l.st == added && r.st == added {
		why = "different on both sides"
	}
	stamp := lose.m.ModTime
	if lose.m.Precision <= 0 {
		stamp = win.m.ModTime // the loser has no time: name it after the conflict's other side
	}
	name := b.conflictName(p, stamp)
	b.conflicts++
	id := b.conflicts

	rn := b.action(renameOp(lose.s), p, File,
		"conflict: "+why+"; "+win.s.String()+" is newer, "+lose.s.String()+" version kept as conflict copy")
	rn.To, rn.Conflict = name, id
	b.addKeyed(rn, p)

	cp := Action{Op: copyOp(win.s), Path: name, Kind: File, Conflict: id,
		Reason: "conflict copy of " + lose.s.String() + " version of " + p}
	setSide(&cp, lose.s, lose.m)
	b.addKeyed(cp, p)

	wn := Action{Op: copyOp(lose.s), Path: p, Kind: File, Conflict: id,
		Reason: "conflict: " + win.s.String() + " version wins"}
	setSide(&wn, win.s, win.m)
	b.addKeyed(wn, p)
}

// clash handles a file on side f against a folder on side d.
func (tw twoWay) clash(p string, f, d entry) {
	b := tw.b
	b.keep(f.s, p)
	b.keep(d.s, p)
	switch {
	case f.st == same:
		// The file is what both had; the folder replaced it.
		b.clearRoot[f.s][p] = true
		b.add(b.action(deleteOp(f.s), p, File, "replaced by a folder on "+d.s.String()))
		a := b.action(mkdirOp(f.s), p, Dir, "folder replaced a file on "+d.s.String())
		setSide(&a, f.s, Meta{})
		b.add(a)
	case d.st == same && b.deletable(d.s, p):
		// The folder is what both had and all of it goes; the file replaced it.
		b.clearRoot[d.s][p] = true
		b.add(b.action(deleteOp(d.s), p, Dir, "replaced by a file on "+f.s.String()))
		a := b.action(copyOp(d.s), p, File, "file replaced a folder on "+f.s.String())
		setSide(&a, d.s, Meta{})
		b.add(a)
	default:
		// Both changed: the folder keeps the name, the file moves aside.
		name := b.conflictName(p, f.m.ModTime)
		rn := b.action(renameOp(f.s), p, File,
			"conflict: file on "+f.s.String()+", folder on "+d.s.String()+"; file kept as conflict copy")
		rn.To, rn.Phase = name, PhaseClear
		b.add(rn)
		cp := Action{Op: copyOp(d.s), Path: name, Kind: File,
			Reason: "conflict copy of " + f.s.String() + " file " + p}
		setSide(&cp, f.s, f.m)
		b.add(cp)
		mk := b.action(mkdirOp(f.s), p, Dir, "conflict: the folder keeps the name")
		setSide(&mk, f.s, Meta{})
		b.add(mk)
	}
}
