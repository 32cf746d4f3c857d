package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// PartialStore is a Store that can read parts of a root's records, which a
// change-only run needs (state.RootStore is one). With a Store that is not,
// a change-only run falls back to a full run.
type PartialStore interface {
	Store
	// LoadUnder returns the records at or below each prefix.
	LoadUnder(ctx context.Context, prefixes []string) (plan.State, error)
	// LoadPaths returns the records of exactly the given paths.
	LoadPaths(ctx context.Context, paths []string) (plan.State, error)
	// FileCounts returns how many files the records know on each side.
	FileCounts(ctx context.Context) (local, remote int, err error)
}

// Bounds of a change-only run: above maxChangeTargets changed paths a full
// run is cheaper; above maxStatTargets lone names, their parents are listed
// instead of asking about each name (a listing's round trips do not grow
// with its length).
const (
	maxChangeTargets = 2000
	maxStatTargets   = 16
)

// errNeedFullRun makes a change-only run fall back to a full scan: the
// change-only view would be unsafe or incomplete (the root's identity is
// in doubt, a parent folder could not be listed).
var errNeedFullRun = errors.New("change-only run needs a full run")

// changeScan is what a change-only run knows: the changed paths (lifted to
// the highest folder that is new or gone), their local and remote state
// (and their parents', as folders), and the records of both.
type changeScan struct {
	targets []string
	st      plan.State
	local   *LocalScan
	remote  *Walk
}

// scanChanges builds the three trees of a change-only run over paths
// (relative, slash-separated) without scanning the whole local tree or
// listing the whole remote one: it stats the changed paths (and scans
// the folders among them), looks up their records and their parents'
// records, and lists each changed path's parent folder once, keeping only
// the changed names (and walking below those that are folders).
func scanChanges(ctx context.Context, o Options, ps PartialStore, paths []string) (*changeScan, error) {
	if err := checkRootCheap(ctx, o, ps); err != nil {
		return nil, err
	}
	targets := cleanTargets(paths, o.Exclude)
	if len(targets) > maxChangeTargets {
		// A burst this big (a checkout, an unpacked archive) is cheaper
		// as one full scan than as thousands of look-ups.
		return nil, fmt.Errorf("%w: %d changed paths", errNeedFullRun, len(targets))
	}
	if len(targets) == 0 {
		return &changeScan{st: plan.State{}, local: emptyLocal(), remote: emptyWalk()}, nil
	}
	anc, err := ps.LoadPaths(ctx, ancestorsOf(targets))
	if err != nil {
		return nil, err
	}
	// Lift each target to its highest ancestor that is not a folder in
	// step on both sides (new, or gone locally): the change is that whole
	// folder, and its parent is one the server is known to have.
	for i, t := range targets {
		targets[i] = liftTarget(o.Local, t, anc)
	}
	targets = coverTargets(targets)
	c := &changeScan{targets: targets}
	if c.st, err = ps.LoadUnder(ctx, targets); err != nil {
		return nil, err
	}
	for _, a := range ancestorsOf(targets) {
		r, ok := anc[a]
		if !ok || r.Kind != plan.Dir {
			return nil, fmt.Errorf("%w: no record of folder %s", errNeedFullRun, a)
		}
		c.st[a] = r
	}
	if c.local, err = scanLocalTargets(o.Local, targets, o.Exclude); err != nil {
		return nil, err
	}
	// A parent with one changed name is asked about that name alone (MLST:
	// one round trip, no data connection); a parent with several is
	// listed once.
	byParent := map[string][]string{}
	for _, t := range targets {
		byParent[parentOf(t)] = append(byParent[parentOf(t)], t)
	}
	stated, start, err := statLoneTargets(ctx, o, byParent)
	if err != nil {
		return nil, err
	}
	sort.Strings(start)
	keep := func(rel string) bool { return underTargets(targets, rel) }
	if c.remote, err = walkRemote(ctx, o.Pool, o.Remote, o.Parallel, o.Exclude, start, keep); err != nil {
		return nil, err
	}
	for rel, m := range stated {
		c.remote.Tree.Entries[rel] = m
	}
	if c.remote.RootMissing || len(c.remote.Problems) > 0 || len(c.remote.Tree.Unknown) > 0 {
		return nil, fmt.Errorf("%w: a parent folder's listing failed", errNeedFullRun)
	}
	// The parents themselves are folders in step on both sides (their
	// records say so); the trees must hold every parent of an entry.
	for _, a := range ancestorsOf(targets) {
		c.local.Tree.Entries[a] = plan.Meta{Kind: plan.Dir}
		c.remote.Tree.Entries[a] = plan.Meta{Kind: plan.Dir}
	}
	return c, nil
}

// statLoneTargets asks the server, with MLST where it offers it, about each
// target that is its parent's only changed name. It returns what it found
// (absent names are missing from the map) and the folders still to list:
// the parents of several targets, and the stat'ed targets that are
// folders (to see what lies below them).
func statLoneTargets(ctx context.Context, o Options, byParent map[string][]string) (map[string]plan.Meta, []string, error) {
	stated := map[string]plan.Meta{}
	var list []string
	var lone []string
	for parent, ts := range byParent {
		if len(ts) == 1 && ts[0] != "" {
			lone = append(lone, ts[0])
		} else {
			list = append(list, parent)
		}
	}
	listParents := func() (map[string]plan.Meta, []string, error) {
		for _, t := range lone {
			list = append(list, parentOf(t))
		}
		return stated, list, nil
	}
	if len(lone) == 0 {
		return stated, list, nil
	}
	if len(lone) > maxStatTargets {
		return listParents()
	}
	c, err := o.Pool.Get(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer o.Pool.Put(c)
	if _, ok := c.Feature("MLST"); !ok {
		return listParents()
	}
	for _, t := range lone {
		e, err := c.Stat(ctx, path.Join(o.Remote, t))
		var fe *ftp.Error
		switch {
		case errors.As(err, &fe) && fe.Code == 550:
			// Absent on the server (RFC 3659 section 7.2: 550 for a name
			// that does not exist).
		case err != nil:
			return nil, nil, fmt.Errorf("%w: MLST %s: %v", errNeedFullRun, t, err)
		case e.Type == ftp.TypeDir:
			stated[t] = plan.Meta{Kind: plan.Dir}
			list = append(list, t)
		case e.Type == ftp.TypeFile:
			stated[t] = plan.Meta{Kind: plan.File, Size: e.Size, ModTime: e.ModTime.UTC(), Precision: e.Precision}
		default:
			return nil, nil, fmt.Errorf("%w: %s is a %s on the server", errNeedFullRun, t, e.Type)
		}
	}
	return stated, list, nil
}

// checkRootCheap is the root check of a change-only run: the root exists,
// is a folder on the device and with the identity the state remembers, and is
// not empty while the state knows files there. It reads one folder entry,
// not the tree.
func checkRootCheap(ctx context.Context, o Options, ps PartialStore) error {
	st, err := os.Stat(o.Local)
	if err != nil || !st.IsDir() {
		return fmt.Errorf("%w: %s is missing or not a folder", ErrRootVanished, o.Local)
	}
	dev, id := rootIdentity(o.Local)
	if err := checkRootMeta(ctx, o, ps, dev, id); err != nil {
		return err
	}
	f, err := os.Open(o.Local)
	if err != nil {
		return fmt.Errorf("opening local folder: %w", err)
	}
	defer f.Close()
	if _, err := f.ReadDir(1); errors.Is(err, io.EOF) {
		if local, _, err := ps.FileCounts(ctx); err == nil && local > 0 {
			return fmt.Errorf("%w: %s is empty but the state cache remembers %d files there", ErrRootVanished, o.Local, local)
		}
	}
	return nil
}

// cleanTargets drops empty, excluded and temporary paths and the paths
// below another one.
func cleanTargets(paths []string, ex *Excluder) []string {
	var out []string
	for _, p := range paths {
		p = strings.Trim(path.Clean("/"+p), "/")
		if p == "" || p == "." {
			// The root itself changed: every path below it is a target.
			return []string{""}
		}
		_, base := splitRel(p)
		if isTemp(base) || ex.Excluded(p, false) && ex.Excluded(p, true) {
			continue
		}
		out = append(out, p)
	}
	return coverTargets(out)
}

// coverTargets sorts targets and drops those at or below another.
func coverTargets(ts []string) []string {
	sort.Strings(ts)
	out := ts[:0]
	for _, t := range ts {
		if n := len(out); n > 0 && (out[n-1] == "" || t == out[n-1] || strings.HasPrefix(t, out[n-1]+"/")) {
			continue
		}
		out = append(out, t)
	}
	return out
}

// ancestorsOf returns every proper ancestor folder of targets (not the
// root), each once.
func ancestorsOf(targets []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range targets {
		for p := parentOf(t); p != ""; p = parentOf(p) {
			if seen[p] {
				break
			}
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func parentOf(rel string) string {
	dir, _ := splitRel(rel)
	return dir
}

// liftTarget returns the highest ancestor of t (or t itself) that is not
// a folder in step on both sides per anc, or is gone locally.
func liftTarget(root, t string, anc plan.State) string {
	segs := strings.Split(t, "/")
	for i := 1; i < len(segs); i++ {
		a := strings.Join(segs[:i], "/")
		r, ok := anc[a]
		if !ok || r.Kind != plan.Dir || r.Local.Kind != plan.Dir || r.Remote.Kind != plan.Dir {
			return a
		}
		if st, err := os.Lstat(filepath.Join(root, filepath.FromSlash(a))); err != nil || !st.IsDir() {
			return a
		}
	}
	return t
}

// underTargets reports whether rel is a target, lies below one, or is a
// target's temporary (for resuming it).
func underTargets(targets []string, rel string) bool {
	i := sort.SearchStrings(targets, rel)
	if i < len(targets) && targets[i] == rel {
		return true
	}
	if i > 0 && (targets[i-1] == "" || strings.HasPrefix(rel, targets[i-1]+"/")) {
		return true
	}
	dir, base := splitRel(rel)
	if isTemp(base) {
		final := strings.TrimSuffix(strings.TrimPrefix(base, "."), tempSuffix)
		if dir != "" {
			final = dir + "/" + final
		}
		j := sort.SearchStrings(targets, final)
		return j < len(targets) && targets[j] == final
	}
	return false
}

// scanLocalTargets stats each target below root and scans the folders
// among them; symlinks are skipped with a warning as in ScanLocal.
func scanLocalTargets(root string, targets []string, ex *Excluder) (*LocalScan, error) {
	s := emptyLocal()
	for _, t := range targets {
		if t == "" {
			return ScanLocal(root, ex)
		}
		full := filepath.Join(root, filepath.FromSlash(t))
		st, err := os.Lstat(full)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			s.unreadable(t, fmt.Errorf("local %s: %w", full, err))
		case st.Mode()&fs.ModeSymlink != 0:
			s.Tree.Unknown[t] = true
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s is a symlink: skipped", full))
		case st.Mode().IsRegular():
			if !ex.Excluded(t, false) {
				s.Tree.Entries[t] = plan.Meta{Kind: plan.File, Size: st.Size(), ModTime: st.ModTime().UTC(), Precision: time.Nanosecond}
			}
		case st.IsDir():
			if ex.Excluded(t, true) {
				continue
			}
			s.Tree.Entries[t] = plan.Meta{Kind: plan.Dir}
			dir, err := os.Open(full)
			if err != nil {
				s.unreadable(t, fmt.Errorf("local %s: %w", full, err))
				continue
			}
			if err := s.scanDir(dir, full, t, ex); err != nil {
				s.unreadable(t, fmt.Errorf("local %s: %w", full, err))
			}
		default:
			s.Tree.Unknown[t] = true
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s is not a regular file: skipped", full))
		}
	}
	return s, nil
}

func emptyLocal() *LocalScan {
	return &LocalScan{Tree: emptyTree(), Temps: map[string]int64{}}
}

func emptyWalk() *Walk {
	return &Walk{Tree: emptyTree(), Temps: map[string]int64{}}
}

func emptyTree() plan.Tree {
	return plan.Tree{Entries: map[string]plan.Meta{}, Unknown: map[string]bool{}, Incomplete: map[string]bool{}}
}
