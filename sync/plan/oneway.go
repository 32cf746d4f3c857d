package plan

// OneWay plans a push (dir Push: local to remote) or a pull (dir Pull:
// remote to local) that makes the destination a mirror of the source.
//
// A source file missing on the destination is copied ("new"). With a
// Record for it, the file is left alone iff the source still equals the
// record's source side and the destination its destination side (Same);
// otherwise it is copied ("changed"). Without a Record, a destination file
// that is Same as the source is adopted (recorded, not copied: losing the
// state cache never re-transfers an unchanged tree) and any other is
// copied ("differs"). A source folder missing on the destination is
// created; a folder on both sides is adopted when the state lacks it.
//
// With opt.Delete, destination entries the source lacks are deleted, and a
// path that is a file on one side and a folder on the other is replaced
// (the destination's entry deleted first, in PhaseClear). Without it
// nothing is deleted and such a path is skipped with a Problem.
//
// Nothing at or below an unknown folder of either tree is created, copied,
// deleted, adopted or forgotten (one Problem per unknown folder), and no
// folder holding one is deleted. At or below an incomplete folder entries
// are copied and adopted but nothing is deleted, and a type clash there is
// skipped (one Problem per incomplete folder). State records of paths gone from both
// sides are forgotten. opt.Scope limits the plan (see Options).
func OneWay(dir Direction, local, remote Tree, st State, opt Options) Plan {
	src, dst := sideLocal, sideRemote
	if dir == Pull {
		src, dst = sideRemote, sideLocal
	}
	b := newBuilder(local, remote, st, opt)
	ow := oneWay{b: b, src: src, dst: dst}
	for _, p := range b.paths {
		ow.screen(p)
	}
	b.decideDeepestFirst(ow.decide)
	return b.finish(dir)
}

type oneWay struct {
	b        *builder
	src, dst side
}

// screen runs parents first and skips the paths OneWay cannot resolve: a
// type clash without Delete, or one whose destination folder holds an
// unknown folder.
func (ow oneWay) screen(p string) {
	b := ow.b
	if b.skipped(p) {
		return
	}
	s, sok := b.meta(ow.src, p)
	d, dok := b.meta(ow.dst, p)
	if !sok || !dok || s.Kind == d.Kind {
		return
	}
	what := "a " + s.Kind.String() + " on the " + ow.src.String() + " side and a " + d.Kind.String() + " on the " + ow.dst.String() + " side"
	switch {
	case b.ancestorOnly[p]:
		b.skip(p, "%s (outside the synced paths): skipped", what)
	case !b.opt.Delete:
		b.skip(p, "%s: skipped (--delete would replace it)", what)
	case d.Kind == Dir && b.pinned[p]:
		b.skip(p, "%s, and part of that folder could not be listed: skipped", what)
	case b.noDelete(p):
		b.skip(p, "%s, in a folder listed without some of its entries: skipped", what)
	}
}

func (ow oneWay) decide(p string) {
	b := ow.b
	s, sok := b.meta(ow.src, p)
	d, dok := b.meta(ow.dst, p)
	rec, hasRec := b.st[p]
	switch {
	case !sok && !dok:
		if hasRec {
			b.add(b.action(Forget, p, rec.Kind, "gone from both sides"))
		}
	case !sok:
		ow.extra(p, d)
	case s.Kind == File:
		ow.file(p, s, d, dok, rec, hasRec)
	default:
		ow.folder(p, d, dok, rec, hasRec)
	}
}

// extra handles a destination entry the source lacks.
func (ow oneWay) extra(p string, d Meta) {
	b := ow.b
	if b.opt.Delete && !b.noDelete(p) && (d.Kind == File || b.deletable(ow.dst, p)) {
		b.add(b.action(deleteOp(ow.dst), p, d.Kind, "not in source"))
		return
	}
	b.keep(ow.dst, p)
}

func (ow oneWay) file(p string, s, d Meta, dok bool, rec Record, hasRec bool) {
	b := ow.b
	b.keep(ow.src, p)
	b.keep(ow.dst, p)
	switch {
	case !dok:
		b.add(b.action(copyOp(ow.dst), p, File, "new"))
	case d.Kind == Dir:
		// Delete is on (screen): the folder and all inside it go first.
		b.clearRoot[ow.dst][p] = true
		b.add(b.action(deleteOp(ow.dst), p, Dir, "replaced by a file"))
		a := b.action(copyOp(ow.dst), p, File, "replaces a folder")
		setSide(&a, ow.dst, Meta{})
		b.add(a)
	case hasRec && rec.Kind == File && recSide(rec, ow.src).Kind == File && recSide(rec, ow.dst).Kind == File:
		if !Same(s, recSide(rec, ow.src)) || !Same(d, recSide(rec, ow.dst)) {
			b.add(b.action(copyOp(ow.dst), p, File, "changed"))
		}
	case Same(s, d):
		b.adopt(p, File, "already equal")
	default:
		b.add(b.action(copyOp(ow.dst), p, File, "differs"))
	}
}

func (ow oneWay) folder(p string, d Meta, dok bool, rec Record, hasRec bool) {
	b := ow.b
	b.keep(ow.src, p)
	b.keep(ow.dst, p)
	switch {
	case !dok:
		b.add(b.action(mkdirOp(ow.dst), p, Dir, "new"))
	case d.Kind == Dir:
		b.adopt(p, Dir, "already there")
	default:
		// A destination file where the source has a folder; Delete is on.
		b.clearRoot[ow.dst][p] = true
		b.add(b.action(deleteOp(ow.dst), p, File, "replaced by a folder"))
		a := b.action(mkdirOp(ow.dst), p, Dir, "replaces a file")
		setSide(&a, ow.dst, Meta{})
		b.add(a)
	}
}

// setSide sets a's Meta for side s.
func setSide(a *Action, s side, m Meta) {
	if s == sideLocal {
		a.Local = m
	} else {
		a.Remote = m
	}
}
