//go:build linux

package crashtest

import (
	"os"
	"path"
	"sort"
	"strings"
)

// editor changes one side on disk and in its model together.
type editor struct {
	r *round
	s *side
	t *tree
}

func (r *round) edit(s *side, t *tree) *editor { return &editor{r: r, s: s, t: t} }

func (e *editor) check(err error) {
	if err != nil {
		e.r.fail("harness", "changing the %s tree: %v", e.s.name, err)
	}
}

// newSize is the size of a new version of p: often the old one's (a
// same-size edit, told apart only by its mtime), else a fresh draw.
func (e *editor) newSize(p string) int64 {
	if old := e.t.files[p]; old != nil && e.r.rng.IntN(10) < 3 {
		return old.size
	}
	return e.r.prof.size(e.r.rng, &e.r.hugeLeft)
}

// put writes a new version of p: a fresh one, or, for an existing file,
// now and then an edit of the old one (patched near the start, appended
// to, truncated), as people edit files.
func (e *editor) put(p string) {
	old := e.t.files[p]
	var v *version
	var b []byte
	rng := e.r.rng
	switch x := rng.Float64(); {
	case old == nil || x < 0.4:
		v, b = e.r.reg.add(p, e.newSize(p), rng)
	case x < 0.75 && old.size > 0:
		v, b = e.r.reg.derive(p, old, "patch", 0, rng)
	case x < 0.9 || old.size < 2:
		v, b = e.r.reg.derive(p, old, "append", old.size+1+rng.Int64N(old.size/2+4096), rng)
	default:
		v, b = e.r.reg.derive(p, old, "truncate", rng.Int64N(old.size), rng)
	}
	e.check(e.s.write(p, v, b))
	e.t.files[p] = v
	e.t.addParents(p)
}

// place writes an existing version at p (the same file on both sides).
func (e *editor) place(p string, v *version) {
	e.check(e.s.write(p, v, nil))
	e.t.files[p] = v
	e.t.addParents(p)
}

func (e *editor) del(p string) {
	if e.t.files[p] == nil {
		return
	}
	e.check(e.s.remove(p))
	delete(e.t.files, p)
}

// add writes a new file in a random folder of the side (or a new one).
func (e *editor) add() string {
	dirs := append([]string{""}, e.t.sortedDirs()...)
	dir := dirs[e.r.rng.IntN(len(dirs))]
	if e.r.rng.IntN(4) == 0 && strings.Count(dir, "/")+1 < e.r.prof.maxDepth {
		dir = e.r.nm.name(dir, true)
	}
	p := e.r.nm.name(dir, false)
	e.put(p)
	return p
}

func (e *editor) addDir() {
	dirs := append([]string{""}, e.t.sortedDirs()...)
	d := e.r.nm.name(dirs[e.r.rng.IntN(len(dirs))], true)
	e.check(e.s.mkdirAll(d))
	e.t.dirs[d] = true
	e.t.addParents(d)
}

// delDir removes a folder and everything in it.
func (e *editor) delDir(d string) {
	e.check(e.s.removeAll(d))
	for p := range e.t.files {
		if strings.HasPrefix(p, d+"/") {
			delete(e.t.files, p)
		}
	}
	for x := range e.t.dirs {
		if x == d || strings.HasPrefix(x, d+"/") {
			delete(e.t.dirs, x)
		}
	}
}

// fileToDir replaces file p by a folder of the same name holding a new file.
func (e *editor) fileToDir(p string) {
	e.del(p)
	e.check(e.s.mkdirAll(p))
	e.t.dirs[p] = true
	e.put(e.r.nm.name(p, false))
}

// randomDir returns one of the side's folders, or "".
func (e *editor) randomDir() string {
	ds := e.t.sortedDirs()
	if len(ds) == 0 {
		return ""
	}
	return ds[e.r.rng.IntN(len(ds))]
}

// mutate changes the synced base: the source of a one-way mode a lot and
// its destination a little (a mirror must undo that), both sides of a
// two-way sync, with conflicts. It returns the trees ferry starts from.
func (r *round) mutate(base *tree) (L, R *tree) {
	L, R = base.clone(), base.clone()
	le, re := r.edit(r.local, L), r.edit(r.remote, R)
	switch r.mode {
	case Push:
		r.mutateOneWay(le, re)
	case Pull:
		r.mutateOneWay(re, le)
	default:
		r.mutateTwoWay(base, le, re)
	}
	if len(L.files) == 0 {
		le.add() // an empty local folder with a state cache is refused (vanished root)
	}
	if r.mode == Pull && len(R.files) == 0 {
		re.add()
	}
	return L, R
}

func (r *round) mutateOneWay(src, dst *editor) {
	rng := r.rng
	if rng.Float64() < 0.15 {
		if d := src.randomDir(); d != "" {
			src.delDir(d)
		}
	}
	for _, p := range src.t.sortedFiles() {
		switch x := rng.Float64(); {
		case x < 0.2:
			src.put(p)
		case x < 0.3:
			src.del(p)
		}
	}
	for _, p := range dst.t.sortedFiles() {
		switch x := rng.Float64(); {
		case x < 0.04:
			dst.put(p)
		case x < 0.07:
			dst.del(p)
		}
	}
	for range rng.IntN(6) {
		src.add()
	}
	if rng.Float64() < 0.3 {
		for range 1 + rng.IntN(2) {
			dst.add()
		}
	}
	for range rng.IntN(3) {
		src.addDir()
	}
	if rng.Float64() < 0.2 {
		dst.addDir()
	}
	if rng.Float64() < 0.1 {
		// A file on one side against a folder on the other.
		ed := src
		if rng.IntN(2) == 0 {
			ed = dst
		}
		if fs := ed.t.sortedFiles(); len(fs) > 0 {
			ed.fileToDir(fs[rng.IntN(len(fs))])
		}
	}
}

func (r *round) mutateTwoWay(base *tree, le, re *editor) {
	rng := r.rng
	if rng.Float64() < 0.15 {
		ed := le
		if rng.IntN(2) == 0 {
			ed = re
		}
		if d := ed.randomDir(); d != "" {
			ed.delDir(d)
		}
	}
	for _, p := range base.sortedFiles() {
		switch x := rng.Float64(); {
		case x < 0.12:
			le.put(p)
		case x < 0.24:
			re.put(p)
		case x < 0.30:
			le.del(p)
		case x < 0.36:
			re.del(p)
		case x < 0.44: // a conflict
			le.put(p)
			re.put(p)
		case x < 0.47:
			le.del(p)
			re.put(p)
		case x < 0.50:
			le.put(p)
			re.del(p)
		case x < 0.53:
			le.del(p)
			re.del(p)
		}
	}
	if rng.Float64() < 0.1 {
		// An untouched file becomes a folder on one side.
		var untouched []string
		for _, p := range base.sortedFiles() {
			if le.t.files[p] == base.files[p] && re.t.files[p] == base.files[p] {
				untouched = append(untouched, p)
			}
		}
		if len(untouched) > 0 {
			ed := le
			if rng.IntN(2) == 0 {
				ed = re
			}
			ed.fileToDir(untouched[rng.IntN(len(untouched))])
		}
	}
	for range rng.IntN(5) {
		le.add()
	}
	for range rng.IntN(5) {
		re.add()
	}
	if rng.Float64() < 0.3 {
		// The same new name on both sides, two versions: a conflict
		// without a record.
		dir := ""
		if ds := base.sortedDirs(); len(ds) > 0 && rng.IntN(2) == 0 {
			dir = ds[rng.IntN(len(ds))]
			if !le.t.dirs[dir] || !re.t.dirs[dir] {
				dir = ""
			}
		}
		p := r.nm.name(dir, false)
		le.put(p)
		re.put(p)
	}
	for range rng.IntN(3) {
		if rng.IntN(2) == 0 {
			le.addDir()
		} else {
			re.addDir()
		}
	}
}

// prepareFresh makes trees on both sides with no sync before: overlapping
// paths, some with the same version (adopted), some with another version
// (a one-way run replaces it, a two-way run keeps both), a file against a
// folder now and then.
func (r *round) prepareFresh() (L, R *tree) {
	rng := r.rng
	src := gen(rng, r.reg, r.nm, r.prof, &r.hugeLeft)
	dst := newTree()
	if r.mode == Sync {
		dst = gen(rng, r.reg, r.nm, r.prof, &r.hugeLeft)
	}
	sameP, otherP := 0.25, 0.15
	if r.mode != Sync && rng.IntN(2) == 0 {
		sameP, otherP = 0, 0 // a first run into an empty destination
	}
	for _, p := range src.sortedFiles() {
		switch x := rng.Float64(); {
		case x < sameP:
			dst.files[p] = src.files[p]
			dst.addParents(p)
		case x < sameP+otherP:
			v, _ := r.reg.add(p, r.prof.size(rng, &r.hugeLeft), rng)
			dst.files[p] = v
			dst.addParents(p)
		}
	}
	if r.mode != Sync && sameP > 0 {
		for range rng.IntN(4) { // destination extras
			dirs := append([]string{""}, dst.sortedDirs()...)
			p := r.nm.name(dirs[rng.IntN(len(dirs))], false)
			v, _ := r.reg.add(p, r.prof.size(rng, &r.hugeLeft), rng)
			dst.files[p] = v
			dst.addParents(p)
		}
		if rng.IntN(3) == 0 {
			d := r.nm.name("", true)
			dst.dirs[d] = true
		}
	}
	if rng.Float64() < 0.1 {
		// A file of the source is a folder on the destination.
		var cands []string
		for _, p := range src.sortedFiles() {
			if dst.files[p] == nil {
				cands = append(cands, p)
			}
		}
		if len(cands) > 0 {
			p := cands[rng.IntN(len(cands))]
			dst.dirs[p] = true
			dst.addParents(p)
			q := r.nm.name(p, false)
			v, _ := r.reg.add(q, r.prof.size(rng, &r.hugeLeft), rng)
			dst.files[q] = v
		}
	}
	L, R = src, dst
	if r.mode == Pull {
		L, R = dst, src
	}
	r.write(L, R)
	return L, R
}

// editWhileDown changes the source side(s) between a failed run and the
// next, as a user would while ferry is down: above all the files ferry was
// moving (their temporaries lie on the destination), so that the next run
// finds a leftover of an older version to resume, or not.
//
// An edit starts from what the file holds now, which in two-way mode may
// be what the failed run brought from the other side: when both sides
// hold the same version, that version is the path's new base (ferry may
// have recorded it as synced, so it need not survive the edit). The
// versions edits replace are noted in r.superseded.
func (r *round) editWhileDown(L, R, base *tree) {
	r.poll.pause()
	defer r.poll.start()
	le, re := r.edit(r.local, L), r.edit(r.remote, R)
	var targets []struct {
		ed *editor
		p  string
	}
	add := func(ed *editor, p string) {
		targets = append(targets, struct {
			ed *editor
			p  string
		}{ed, p})
	}
	// Temporaries on the remote side are uploads of local files, and the
	// other way round.
	if r.mode != Pull {
		for _, tmp := range temps(r.remote) {
			if p := realName(tmp); L.files[p] != nil {
				add(le, p)
			}
		}
	}
	if r.mode != Push {
		for _, tmp := range temps(r.local) {
			if p := realName(tmp); R.files[p] != nil {
				add(re, p)
			}
		}
	}
	src := le
	if r.mode == Pull || (r.mode == Sync && r.rng.IntN(2) == 0) {
		src = re
	}
	if fs := src.t.sortedFiles(); len(fs) > 0 && (len(targets) == 0 || r.rng.IntN(3) == 0) {
		add(src, fs[r.rng.IntN(len(fs))])
	}
	for _, tg := range targets {
		if r.rng.IntN(5) == 0 {
			continue
		}
		other := re
		if tg.ed == re {
			other = le
		}
		old := r.actual(tg.ed.s, tg.p)
		if o := r.actual(other.s, tg.p); old != nil && o != nil && old.sum == o.sum {
			base.files[tg.p] = old
			other.t.files[tg.p] = o
		}
		for _, v := range []*version{old, tg.ed.t.files[tg.p]} {
			if v != nil {
				r.superseded[tg.p] = append(r.superseded[tg.p], v)
			}
		}
		var v *version
		var b []byte
		switch x := r.rng.Float64(); {
		case old == nil:
			v, b = r.reg.add(tg.p, r.prof.size(r.rng, &r.hugeLeft), r.rng)
		case x < 0.6 && old.size > 0:
			v, b = r.reg.derive(tg.p, old, "patch", 0, r.rng)
		case x < 0.8:
			v, b = r.reg.derive(tg.p, old, "append", old.size+1+r.rng.Int64N(old.size/2+4096), r.rng)
		case x < 0.9 && old.size > 1:
			v, b = r.reg.derive(tg.p, old, "truncate", old.size/2+r.rng.Int64N(old.size/2), r.rng)
		default:
			v, b = r.reg.add(tg.p, r.prof.size(r.rng, &r.hugeLeft), r.rng)
		}
		tg.ed.check(tg.ed.s.write(tg.p, v, b))
		tg.ed.t.files[tg.p] = v
		tg.ed.t.addParents(tg.p)
		r.editedDown[tg.p] = true
		r.logf("  edited %s %s while ferry was down: %v -> %v", tg.ed.s.name, tg.p, old, v)
	}
}

// actual returns the version side s holds at p now (nil: none, or bytes
// that are no version, which the poller reports).
func (r *round) actual(s *side, p string) *version {
	b, err := os.ReadFile(s.abs(p))
	if err != nil {
		return nil
	}
	return r.reg.match(p, sha256Sum(b))
}

// temps lists ferry's temporaries on a side (relative paths).
func temps(s *side) []string {
	var out []string
	for p := range sizes([]*side{s}) {
		rel := strings.TrimPrefix(p, s.name+"/")
		if isFerryTemp(path.Base(rel)) {
			out = append(out, rel)
		}
	}
	sort.Strings(out)
	return out
}

// realName is the path a temporary stands for: dir/.NAME.ferry-tmp -> dir/NAME.
func realName(tmp string) string {
	dir, base := path.Split(tmp)
	return dir + strings.TrimSuffix(strings.TrimPrefix(base, "."), ".ferry-tmp")
}
