//go:build linux

package crashtest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// tree is the harness's model of one side: each file's version, and the
// folders (parents of files included; "" is the root and never listed).
type tree struct {
	files map[string]*version
	dirs  map[string]bool
}

func newTree() *tree { return &tree{files: map[string]*version{}, dirs: map[string]bool{}} }

func (t *tree) clone() *tree {
	c := newTree()
	for p, v := range t.files {
		c.files[p] = v
	}
	for d := range t.dirs {
		c.dirs[d] = true
	}
	return c
}

// addParents records the folders above p.
func (t *tree) addParents(p string) {
	for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
		t.dirs[d] = true
	}
}

func (t *tree) bytes() int64 {
	var n int64
	for _, v := range t.files {
		n += v.size
	}
	return n
}

// sortedFiles returns the file paths in order, for deterministic choices.
func (t *tree) sortedFiles() []string {
	ps := make([]string, 0, len(t.files))
	for p := range t.files {
		ps = append(ps, p)
	}
	sort.Strings(ps)
	return ps
}

func (t *tree) sortedDirs() []string {
	ds := make([]string, 0, len(t.dirs))
	for d := range t.dirs {
		ds = append(ds, d)
	}
	sort.Strings(ds)
	return ds
}

// profile sets the size of a round's trees.
type profile struct {
	minFiles, maxFiles int
	maxDepth           int
	sizes              []sizeClass
	hugeSize           int64   // a size some files get (long campaign: 16 MiB)
	hugeChance         float64 // per file
	maxHuge            int     // per round
}

type sizeClass struct {
	weight   int
	min, max int64
}

var (
	shortProfile = profile{
		minFiles: 3, maxFiles: 14, maxDepth: 3,
		sizes: []sizeClass{
			{10, 0, 0},
			{35, 1, 1 << 10},
			{35, 1 << 10, 64 << 10},
			{15, 64 << 10, 512 << 10},
			{8, 1 << 20, 3 << 19}, // 1 to 1.5 MiB: resumable leftovers
		},
	}
	longProfile = profile{
		minFiles: 5, maxFiles: 50, maxDepth: 4,
		sizes: []sizeClass{
			{8, 0, 0},
			{27, 1, 1 << 10},
			{30, 1 << 10, 64 << 10},
			{20, 64 << 10, 1 << 20},
			{15, 1 << 20, 6 << 20},
		},
		hugeSize: 16 << 20, hugeChance: 0.03, maxHuge: 2,
	}
)

// namer makes file and folder names: ASCII, Unicode (NFC), inner spaces,
// punctuation, dotfiles, several extensions; never a name ferry refuses
// or reserves (.NAME.ferry-tmp, .conflict-), never one used before in the
// round, so a new name never clashes with an old one by accident.
type namer struct {
	rng  *rand.Rand
	used map[string]bool // every path ever handed out in the round
}

var (
	plainStems = []string{"alpha", "beta", "report", "data", "notes", "photo", "x", "README", "Makefile", "a", "log"}
	fancyStems = []string{"café", "naïve résumé", "日本語", "Ελληνικά", "emoji 🚀", "two  spaces", "with space",
		"Ünïcødé", "ñandú", "dash-and_underscore", "#hash", "100%", "[brackets]", "quote'", "amp&co", "plus+minus",
		"comma,semi;", "Straße", "ÅÄÖ", "Ωmega"}
	exts = []string{"", ".txt", ".txt", ".bin", ".tar.gz", ".jpg", ".md"}
)

func (n *namer) name(dir string, isDir bool) string {
	for i := 0; ; i++ {
		var stem string
		switch r := n.rng.IntN(10); {
		case r < 5:
			stem = plainStems[n.rng.IntN(len(plainStems))]
		case r < 9:
			stem = fancyStems[n.rng.IntN(len(fancyStems))]
		default:
			stem = "." + plainStems[n.rng.IntN(len(plainStems))] // dotfile
		}
		if i > 0 || n.rng.IntN(3) == 0 {
			stem += fmt.Sprintf("-%d", n.rng.IntN(1000))
		}
		name := stem
		if !isDir {
			name += exts[n.rng.IntN(len(exts))]
		}
		p := name
		if dir != "" {
			p = dir + "/" + name
		}
		if !n.used[p] {
			n.used[p] = true
			return p
		}
	}
}

func (pr profile) size(rng *rand.Rand, hugeLeft *int) int64 {
	if pr.hugeSize > 0 && *hugeLeft > 0 && rng.Float64() < pr.hugeChance {
		*hugeLeft--
		return pr.hugeSize
	}
	total := 0
	for _, c := range pr.sizes {
		total += c.weight
	}
	w := rng.IntN(total)
	for _, c := range pr.sizes {
		if w < c.weight {
			if c.max == c.min {
				return c.min
			}
			return c.min + rng.Int64N(c.max-c.min+1)
		}
		w -= c.weight
	}
	return 0
}

// gen makes a random tree: nested folders (some empty), files of the
// profile's sizes.
func gen(rng *rand.Rand, reg *registry, nm *namer, pr profile, hugeLeft *int) *tree {
	t := newTree()
	dirs := []string{""}
	for range rng.IntN(2 + pr.maxDepth*2) {
		parent := dirs[rng.IntN(len(dirs))]
		if strings.Count(parent, "/")+1 >= pr.maxDepth {
			continue
		}
		d := nm.name(parent, true)
		dirs = append(dirs, d)
		t.dirs[d] = true
		t.addParents(d)
	}
	nfiles := pr.minFiles + rng.IntN(pr.maxFiles-pr.minFiles+1)
	for range nfiles {
		p := nm.name(dirs[rng.IntN(len(dirs))], false)
		v, _ := reg.add(p, pr.size(rng, hugeLeft), rng)
		t.files[p] = v
	}
	return t
}

// side is one side's folder on disk: the local root, or the remote root
// as the FTP server's folder. Files the harness writes on the remote side
// get the server's user as owner (real servers run sessions as that user).
type side struct {
	name     string // "local" or "remote"
	root     string
	uid, gid int // -1: leave the owner alone
}

func (s *side) abs(p string) string { return filepath.Join(s.root, filepath.FromSlash(p)) }

func (s *side) chown(abs string) error {
	if s.uid < 0 {
		return nil
	}
	return os.Lchown(abs, s.uid, s.gid)
}

func (s *side) mkdirAll(p string) error {
	var made []string
	for d := p; d != "." && d != ""; d = path.Dir(d) {
		if _, err := os.Lstat(s.abs(d)); err == nil {
			break
		}
		made = append(made, d)
	}
	for i := len(made) - 1; i >= 0; i-- {
		if err := os.Mkdir(s.abs(made[i]), 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		if err := s.chown(s.abs(made[i])); err != nil {
			return err
		}
	}
	return nil
}

// write puts version v (bytes b, or made from v when nil) at p with v's
// mtime, creating the folders above it.
func (s *side) write(p string, v *version, b []byte) error {
	if err := s.mkdirAll(path.Dir(p)); err != nil {
		return err
	}
	if b == nil {
		b = v.bytes(v.size)
	}
	abs := s.abs(p)
	// Written aside and renamed: the poller never sees the harness's own
	// half-written file.
	tmp := filepath.Join(filepath.Dir(abs), ".crashtest-write.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := s.chown(tmp); err != nil {
		return err
	}
	if err := os.Chtimes(tmp, v.mtime, v.mtime); err != nil {
		return err
	}
	return os.Rename(tmp, abs)
}

func (s *side) remove(p string) error { return os.Remove(s.abs(p)) }

func (s *side) removeAll(p string) error { return os.RemoveAll(s.abs(p)) }

// materialize writes a whole tree to an empty side.
func (s *side) materialize(t *tree) error {
	if err := os.MkdirAll(s.root, 0o755); err != nil {
		return err
	}
	if err := s.chown(s.root); err != nil {
		return err
	}
	for _, d := range t.sortedDirs() {
		if err := s.mkdirAll(d); err != nil {
			return err
		}
	}
	for _, p := range t.sortedFiles() {
		if err := s.write(p, t.files[p], nil); err != nil {
			return err
		}
	}
	return nil
}

// snapshot is what a side holds on disk.
type snapshot struct {
	files   map[string][32]byte // by path: SHA-256
	sizes   map[string]int64
	dirs    map[string]bool
	temps   []string // ferry's temporaries (.NAME.ferry-tmp)
	foreign []string // other servers' temporaries (pure-ftpd's .pureftpd-upload.*) and the like
}

// isFerryTemp reports whether base is the name of a ferry temporary.
func isFerryTemp(base string) bool {
	return strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".ferry-tmp")
}

// isFerryProbeDir reports whether base is the name of the scratch folder
// ferry makes to measure a server's time zone (.ferry-probe-RANDOM); it
// counts as a temporary: gone after a successful run.
func isFerryProbeDir(base string) bool {
	return strings.HasPrefix(base, ".ferry-probe-")
}

// isServerTemp reports whether base is a server's own temporary:
// pure-ftpd's upload file and the file it renames through when RNTO
// replaces an existing name (.pureftpd-rename.PID.RANDOM, which holds the
// renamed file's bytes for a moment).
func isServerTemp(base string) bool {
	return strings.HasPrefix(base, ".pureftpd-upload.") || strings.HasPrefix(base, ".pureftpd-rename.") ||
		base == ".crashtest-write.tmp"
}

// scan reads a side: every file's hash, every folder, the temporaries.
func (s *side) scan() (*snapshot, error) {
	snap := &snapshot{files: map[string][32]byte{}, sizes: map[string]int64{}, dirs: map[string]bool{}}
	err := filepath.WalkDir(s.root, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s.root, abs)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() && isFerryProbeDir(d.Name()):
			snap.temps = append(snap.temps, rel)
			return filepath.SkipDir
		case d.IsDir():
			snap.dirs[rel] = true
		case isFerryTemp(d.Name()):
			snap.temps = append(snap.temps, rel)
		case isServerTemp(d.Name()):
			snap.foreign = append(snap.foreign, rel)
		case d.Type().IsRegular():
			b, err := os.ReadFile(abs)
			if err != nil {
				return err
			}
			snap.files[rel] = sha256.Sum256(b)
			snap.sizes[rel] = int64(len(b))
		default:
			snap.foreign = append(snap.foreign, rel+" ("+d.Type().String()+")")
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) && len(snap.files) == 0 && len(snap.dirs) == 0 {
		return snap, nil // a pull's local folder not made yet
	}
	return snap, err
}

// model maps a snapshot to versions; unknown contents are returned as
// problems.
func (snap *snapshot) model(reg *registry) (*tree, []string) {
	t := newTree()
	var bad []string
	for p, sum := range snap.files {
		v := reg.match(p, sum)
		if v == nil {
			bad = append(bad, fmt.Sprintf("%s: %d bytes, not a version of it", p, snap.sizes[p]))
			continue
		}
		t.files[p] = v
	}
	for d := range snap.dirs {
		t.dirs[d] = true
	}
	sort.Strings(bad)
	return t, bad
}

// diff lists the differences between two snapshots (files by content,
// folders), at most max of them, and the paths that differ. With a
// registry, differing files are named by version.
func diff(aName string, a *snapshot, bName string, b *snapshot, max int, reg *registry) (out, paths []string) {
	add := func(p, format string, args ...any) {
		paths = append(paths, p)
		if len(out) < max {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	name := func(p string, s *snapshot) string {
		if reg != nil {
			if v := reg.match(p, s.files[p]); v != nil {
				return v.String()
			}
		}
		return fmt.Sprintf("%d bytes", s.sizes[p])
	}
	for _, p := range sortedKeys(a.files) {
		if sb, ok := b.files[p]; !ok {
			add(p, "%s has file %s, %s does not", aName, p, bName)
		} else if sb != a.files[p] {
			add(p, "file %s differs: %s on %s, %s on %s", p, name(p, a), aName, name(p, b), bName)
		}
	}
	for _, p := range sortedKeys(b.files) {
		if _, ok := a.files[p]; !ok {
			add(p, "%s has file %s, %s does not", bName, p, aName)
		}
	}
	for _, d := range sortedKeys(a.dirs) {
		if !b.dirs[d] {
			add(d, "%s has folder %s, %s does not", aName, d, bName)
		}
	}
	for _, d := range sortedKeys(b.dirs) {
		if !a.dirs[d] {
			add(d, "%s has folder %s, %s does not", bName, d, aName)
		}
	}
	return out, paths
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
