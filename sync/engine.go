package sync

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// Mode is the direction of a run.
type Mode uint8

const (
	Push   Mode = iota + 1 // make the remote folder a mirror of the local one
	Pull                   // make the local folder a mirror of the remote one
	TwoWay                 // changes on either side reach the other
)

func (m Mode) String() string {
	switch m {
	case Push:
		return "push"
	case Pull:
		return "pull"
	case TwoWay:
		return "two-way"
	}
	return "unknown"
}

// Options describe one run.
type Options struct {
	Mode     Mode
	Local    string // local root folder
	Pool     *ftp.Pool
	Remote   string // remote root folder (absolute)
	Store    Store
	Exclude  *Excluder
	Delete   bool // one-way: delete destination extras
	DryRun   bool
	Parallel int
	// MaxDelete refuses plans deleting more entries on one side; -1 means
	// the mode's default (unlimited one-way; half the files two-way).
	MaxDelete int
	Reporter  Reporter
	Now       func() time.Time
	// BWLimit caps the run's total transfer rate in bytes per second;
	// 0 means no limit.
	BWLimit int64
	// Verify checks every transfer on the far side: a server hash when
	// the server offers one, else the size.
	Verify bool
	// BackupDir (one-way runs) is where the destination's overwritten and
	// deleted files go, resolved by BackupDir (absolute; remote for push,
	// local for pull). The caller excludes it from the run when it lies
	// inside the synced folder.
	BackupDir string
	// Drain, when closed, makes the run start no more actions: those in
	// flight finish (or end with ctx), the state is saved, and Run returns
	// ErrDrained if some were left. The agent closes it on SIGTERM.
	Drain <-chan struct{}
	// Paths, when not nil, makes this a change-only run (the agent's
	// watch): only these local paths (relative, slash-separated) and what
	// lies below them are compared and synced, without a full scan of
	// either side. A run whose change-only view would be unsafe (a parent
	// folder unknown to the state, a listing that failed) or whose Store
	// is not a PartialStore is a full run instead.
	Paths []string
	// ProbeZone (ignored in a dry run) measures the server's time zone on
	// first contact with a server that lists with LIST, and again when a
	// full run finds every listed time moved by the same amount (see
	// ensureZone and rezone in zone.go). job.Run sets it.
	ProbeZone bool
}

// ErrDrained is returned by a run stopped through Options.Drain before
// every action ran. It wraps context.Canceled: the run was interrupted.
var ErrDrained = fmt.Errorf("stopped before every action ran: %w", context.Canceled)

// ErrRootVanished stops a run whose local root looks missing or replaced.
var ErrRootVanished = errors.New("local folder looks missing or replaced")

// Run scans both sides, plans and executes one sync. Failed actions and
// problems (folders left unknown, unsafe names) do not stop the run: they
// are listed in the Result, and Run returns an error only when the run
// could not be carried out at all (bad root, listing of the root failed,
// guard refused the plan).
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Reporter == nil {
		o.Reporter = NopReporter{}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Parallel < 1 {
		o.Parallel = 1
	}
	res := &Result{Started: o.Now(), DryRun: o.DryRun}
	defer func() { res.Duration = o.Now().Sub(res.Started) }()
	warn := func(err error) {
		res.Warnings = append(res.Warnings, err)
		o.Reporter.Warn(err)
	}
	zones := o.ProbeZone && !o.DryRun
	if zones {
		if err := ensureZone(ctx, o, warn); err != nil {
			return nil, err
		}
	}

	if err := repairJournal(ctx, o, res); err != nil {
		return nil, err
	}
	var (
		st            plan.State
		local         *LocalScan
		remote        *Walk
		newRoot       bool
		changeOnlyRan bool
		// fileCounts are the files on each side, for the delete guards.
		fileCounts func() (local, remote int, err error)
	)
	if ps, ok := o.Store.(PartialStore); ok && o.Paths != nil {
		start := time.Now()
		c, err := scanChanges(ctx, o, ps, o.Paths)
		switch {
		case err == nil:
			st, local, remote, changeOnlyRan = c.st, c.local, c.remote, true
			// The trees hold only the changed paths: the whole tree's
			// counts come from the state cache, asked only when needed.
			fileCounts = func() (int, int, error) { return ps.FileCounts(ctx) }
			res.ChangeOnly = true
			res.Scan.Targets = len(c.targets)
			res.Scan.Remote = time.Since(start)
		case errors.Is(err, errNeedFullRun):
			// Fall through to a full run.
		default:
			return nil, err
		}
	}
	if !changeOnlyRan {
		var err error
		if st, local, remote, newRoot, err = scanFull(ctx, o, res); err != nil {
			return nil, err
		}
		if zones {
			rezone(ctx, o, st, remote, warn)
		}
		fileCounts = func() (int, int, error) { return countFiles(local.Tree), countFiles(remote.Tree), nil }
	}
	res.Scan.Records, res.Scan.LocalEntries, res.Scan.RemoteEntries = len(st), len(local.Tree.Entries), len(remote.Tree.Entries)
	res.Scan.Listings, res.Scan.Conns = remote.Listings, remote.Conns
	for _, w := range append(local.Warnings, remote.Warnings...) {
		res.Warnings = append(res.Warnings, w)
		o.Reporter.Warn(w)
	}
	for _, p := range append(local.Problems, remote.Problems...) {
		res.Problems = append(res.Problems, p)
		o.Reporter.Problem(p)
	}
	if !changeOnlyRan {
		if err := checkRootIdentity(ctx, o, st, local); err != nil {
			return nil, err
		}
		if remote.RootMissing {
			if o.Mode == Pull {
				return nil, fmt.Errorf("remote folder %q does not exist", o.Remote)
			}
			if filesIn(st) > 0 {
				return nil, fmt.Errorf("remote folder %q does not exist, but the state cache knows %d files there: refusing to sync (was it moved?)", o.Remote, filesIn(st))
			}
		}
	}

	p := makePlan(o, local, remote, st)
	if o.Mode == TwoWay && exactConflictTimes(ctx, o, p, remote, func(err error) {
		res.Warnings = append(res.Warnings, err)
		o.Reporter.Warn(err)
	}) {
		p = makePlan(o, local, remote, st)
	}
	res.Plan = p
	if err := checkDeletes(o, p, fileCounts); err != nil {
		return nil, err
	}
	o.Reporter.Planned(p)
	if o.DryRun {
		return res, nil
	}

	if newRoot {
		// Created only now that the remote side is known to exist, so a
		// failed first pull leaves nothing behind.
		if err := os.MkdirAll(o.Local, 0o755); err != nil {
			return nil, fmt.Errorf("creating local folder: %w", err)
		}
	}
	root, err := os.OpenRoot(o.Local)
	if err != nil {
		return nil, fmt.Errorf("opening local folder: %w", err)
	}
	defer root.Close()
	dirs := newLocalDirs(root)
	defer dirs.close()
	ex := &executor{pool: o.Pool, root: root, dirs: dirs, remoteDir: o.Remote, store: o.Store, rep: o.Reporter, parallel: o.Parallel, res: res, bw: newBandwidth(o.BWLimit), verify: o.Verify, drain: o.Drain}
	if o.BackupDir != "" {
		ex.backup = &backups{made: map[string]bool{}}
		if o.Mode == Push {
			ex.backup.remote = o.BackupDir
		} else {
			ex.backup.local = o.BackupDir
		}
	}
	if remote.RootMissing && !o.DryRun {
		if err := ex.mkdirAll(ctx, o.Remote); err != nil {
			return nil, err
		}
	}
	ex.watch = newWatchdog(o.Pool.Timeout())
	defer ex.watch.stop()
	ex.batch = newSyncBatch(ex, o.Local)
	defer ex.batch.close()
	ex.cleanTemps(ctx, p, local.Temps, remote.Temps, !changeOnlyRan)
	ex.removeProbeDirs(ctx, remote.ProbeDirs)
	ex.execute(ctx, p)
	// Flushed even when ctx was cancelled: the records of the actions done
	// before the interruption must survive it.
	if err := o.Store.Flush(context.WithoutCancel(ctx)); err != nil {
		return res, fmt.Errorf("saving state cache: %w", err)
	}
	if local.Device != 0 {
		o.Store.SetMeta(ctx, "device", strconv.FormatUint(local.Device, 10))
		o.Store.SetMeta(ctx, "identity", local.Identity)
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if ex.stopped.Load() {
		return res, ErrDrained
	}
	return res, nil
}

func makePlan(o Options, local *LocalScan, remote *Walk, st plan.State) *plan.Plan {
	var p plan.Plan
	switch o.Mode {
	case Push:
		p = plan.OneWay(plan.Push, local.Tree, remote.Tree, st, plan.Options{Delete: o.Delete})
	case Pull:
		p = plan.OneWay(plan.Pull, local.Tree, remote.Tree, st, plan.Options{Delete: o.Delete})
	default:
		p = plan.TwoWay(local.Tree, remote.Tree, st, plan.Options{})
	}
	return &p
}

func filesIn(st plan.State) int {
	n := 0
	for _, r := range st {
		if r.Kind == plan.File {
			n++
		}
	}
	return n
}

func countFiles(t plan.Tree) int {
	n := 0
	for _, m := range t.Entries {
		if m.Kind == plan.File {
			n++
		}
	}
	return n
}

// checkRootIdentity stops a run whose local root is empty while the state
// cache remembers files there, or that sits on another device than last
// time (an unmounted disk, a replaced folder).
func checkRootIdentity(ctx context.Context, o Options, st plan.State, local *LocalScan) error {
	known := 0
	for _, r := range st {
		if r.Kind == plan.File && r.Local.Kind == plan.File {
			known++
		}
	}
	if known > 0 && countFiles(local.Tree) == 0 && o.Mode != Pull {
		return fmt.Errorf("%w: %s is empty but the state cache remembers %d files there", ErrRootVanished, o.Local, known)
	}
	if known > 0 {
		return checkRootMeta(ctx, o, o.Store, local.Device, local.Identity)
	}
	return nil
}

// checkRootMeta compares the root's device and identity (inode, birth
// time) with those of the last run: another device is an unmounted disk
// (the mount point is showing), another identity a folder deleted and
// re-created.
func checkRootMeta(ctx context.Context, o Options, s Store, dev uint64, id string) error {
	if dev == 0 {
		return nil
	}
	if was, ok, err := s.Meta(ctx, "device"); err == nil && ok && was != strconv.FormatUint(dev, 10) {
		return fmt.Errorf("%w: %s is on another device than at the last run (was %s, now %d)", ErrRootVanished, o.Local, was, dev)
	}
	if was, ok, err := s.Meta(ctx, "identity"); err == nil && ok && id != "" && was != id {
		return fmt.Errorf("%w: %s is another folder than at the last run (inode and birth time were %s, now %s): deleted and re-created?", ErrRootVanished, o.Local, was, id)
	}
	return nil
}

// checkDeletes applies --max-delete (and two-way's half-the-files guard).
// counts returns the files on each side; it is called only for a plan
// that deletes something.
func checkDeletes(o Options, p *plan.Plan, counts func() (local, remote int, err error)) error {
	max := o.MaxDelete
	if max < 0 && o.Mode != TwoWay {
		return nil
	}
	if p.LocalDeletes+p.RemoteDeletes == 0 {
		return nil
	}
	localFiles, remoteFiles, err := counts()
	if err != nil {
		return err
	}
	return p.CheckDeletes(localFiles, remoteFiles, max)
}

// mkdirAll creates the remote root and its parents.
func (e *executor) mkdirAll(ctx context.Context, dir string) error {
	c, err := e.pool.Get(ctx)
	if err != nil {
		return err
	}
	defer e.pool.Put(c)
	cur := ""
	for _, seg := range strings.Split(strings.Trim(dir, "/"), "/") {
		if seg == "" {
			continue
		}
		cur = path.Join("/", cur, seg)
		if err := ensureRemoteDir(ctx, c, cur); err != nil {
			return err
		}
	}
	return nil
}

// ensureRemoteDir creates remote folder dir; a MKD refused because the
// folder already exists (a folder the server lets us CWD into) is success.
func ensureRemoteDir(ctx context.Context, c *ftp.Conn, dir string) error {
	err := c.Mkdir(ctx, dir)
	var fe *ftp.Error
	if err == nil || !errors.As(err, &fe) || fe.Code < 500 || c.Broken() {
		if err != nil {
			return fmt.Errorf("creating remote folder %s: %w", dir, err)
		}
		return nil
	}
	if cerr := c.Cwd(ctx, dir); cerr != nil {
		return fmt.Errorf("creating remote folder %s: %w", dir, err)
	}
	return nil
}

// removeProbeDirs removes the scratch folders that killed probes left
// (relative paths), warning about those it cannot.
func (e *executor) removeProbeDirs(ctx context.Context, dirs []string) {
	if len(dirs) == 0 {
		return
	}
	c, err := e.pool.Get(ctx)
	if err != nil {
		e.warn(fmt.Errorf("removing a killed probe's folder: %w", err))
		return
	}
	defer e.pool.Put(c)
	for _, d := range dirs {
		if err := c.RemoveProbeDir(ctx, e.remotePath(d)); err != nil {
			e.warn(fmt.Errorf("removing a killed probe's folder %s: %w", d, err))
		}
	}
}

// cleanTemps removes leftover temporaries of an interrupted run, except
// those a planned transfer of the same file will try to resume: they are
// kept in e.resumeUp / e.resumeDown. With removeRest false (a change-only
// run, which saw only the changed paths' own temporaries) nothing is
// removed.
func (e *executor) cleanTemps(ctx context.Context, p *plan.Plan, local, remote map[string]int64, removeRest bool) {
	e.loadTempNotes(ctx)
	if removeRest {
		e.dropStaleTempNotes(ctx, local, remote)
	}
	e.resumeUp, e.resumeDown = map[string]int64{}, map[string]int64{}
	for _, a := range p.Actions {
		switch a.Op {
		case plan.Upload:
			if n, ok := remote[tempName(a.Path)]; ok {
				e.resumeUp[a.Path] = n
				delete(remote, tempName(a.Path))
			}
		case plan.Download:
			if n, ok := local[tempName(a.Path)]; ok {
				e.resumeDown[a.Path] = n
				delete(local, tempName(a.Path))
			}
		}
	}
	if !removeRest {
		return
	}
	for rel := range local {
		if err := e.root.Remove(rel); err != nil {
			e.warn(fmt.Errorf("removing leftover %s: %w", rel, err))
		}
	}
	if len(remote) == 0 {
		return
	}
	c, err := e.pool.Get(ctx)
	if err != nil {
		e.warn(fmt.Errorf("removing remote leftovers: %w", err))
		return
	}
	defer e.pool.Put(c)
	for rel := range remote {
		if err := c.Delete(ctx, e.remotePath(rel)); err != nil {
			e.warn(fmt.Errorf("removing remote leftover %s: %w", rel, err))
		}
	}
}

// scanFull runs the remote walk (logins and listings: the long pole), the
// state load and the local scan side by side. newRoot is a pull's first
// run into a folder that does not exist yet.
func scanFull(ctx context.Context, o Options, res *Result) (st plan.State, local *LocalScan, remote *Walk, newRoot bool, err error) {
	localMissing := false
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		start := time.Now()
		defer func() { res.Scan.State = time.Since(start) }()
		var err error
		if st, err = o.Store.Load(gctx); err != nil {
			return fmt.Errorf("loading state cache: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		start := time.Now()
		defer func() { res.Scan.Local = time.Since(start) }()
		if _, err := os.Stat(o.Local); errors.Is(err, os.ErrNotExist) {
			if o.Mode != Pull {
				return fmt.Errorf("%w: %s does not exist", ErrRootVanished, o.Local)
			}
			localMissing = true
			return nil
		}
		var err error
		local, err = ScanLocal(o.Local, o.Exclude)
		return err
	})
	g.Go(func() error {
		start := time.Now()
		defer func() { res.Scan.Remote = time.Since(start) }()
		var err error
		remote, err = WalkRemote(gctx, o.Pool, o.Remote, o.Parallel, o.Exclude)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, nil, false, err
	}
	if localMissing {
		// A pull may create its local folder, but only on a first run: a
		// folder the state cache knows files of has vanished.
		if len(st) > 0 {
			return nil, nil, nil, false, fmt.Errorf("%w: %s does not exist", ErrRootVanished, o.Local)
		}
		return st, emptyLocal(), remote, true, nil
	}
	return st, local, remote, false, nil
}
