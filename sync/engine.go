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
}

// ErrRootVanished stops a run whose local root looks missing or replaced.
var ErrRootVanished = errors.New("local folder looks missing or replaced")

// Run scans both sides, plans and executes one sync. Failed actions do not
// stop the run: they are listed in the Result, and Run returns an error
// only when the run could not be carried out at all (bad root, listing of
// the root failed, guard refused the plan).
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

	// The remote walk (logins and listings: the long pole), the state load
	// and the local scan run side by side.
	var (
		st           plan.State
		newRoot      bool
		local        *LocalScan
		remote       *Walk
		localMissing bool
	)
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
		return nil, err
	}
	if localMissing {
		// A pull may create its local folder, but only on a first run: a
		// folder the state cache knows files of has vanished.
		if len(st) > 0 {
			return nil, fmt.Errorf("%w: %s does not exist", ErrRootVanished, o.Local)
		}
		newRoot = true
		local = &LocalScan{Tree: plan.Tree{Entries: map[string]plan.Meta{}, Unknown: map[string]bool{}}, Temps: map[string]int64{}}
	}
	res.Scan.Records, res.Scan.LocalEntries, res.Scan.RemoteEntries = len(st), len(local.Tree.Entries), len(remote.Tree.Entries)
	res.Scan.Listings, res.Scan.Conns = remote.Listings, remote.Conns
	for _, w := range append(local.Warnings, remote.Problems...) {
		res.Warnings = append(res.Warnings, w)
		o.Reporter.Warn(w)
	}
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

	p := makePlan(o, local, remote, st)
	if o.Mode == TwoWay && exactConflictTimes(ctx, o, p, remote, func(err error) {
		res.Warnings = append(res.Warnings, err)
		o.Reporter.Warn(err)
	}) {
		p = makePlan(o, local, remote, st)
	}
	res.Plan = p
	if err := checkDeletes(o, p, local, remote); err != nil {
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
	ex := &executor{pool: o.Pool, root: root, dirs: dirs, remoteDir: o.Remote, store: o.Store, rep: o.Reporter, parallel: o.Parallel, res: res, bw: newBandwidth(o.BWLimit), verify: o.Verify}
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
	ex.cleanTemps(ctx, p, local.Temps, remote.Temps)
	ex.execute(ctx, p)
	// Flushed even when ctx was cancelled: the records of the actions done
	// before the interruption must survive it.
	if err := o.Store.Flush(context.WithoutCancel(ctx)); err != nil {
		return res, fmt.Errorf("saving state cache: %w", err)
	}
	if local.Device != 0 {
		o.Store.SetMeta(ctx, "device", strconv.FormatUint(local.Device, 10))
	}
	if ctx.Err() != nil {
		return res, ctx.Err()
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
	if dev, ok, err := o.Store.Meta(ctx, "device"); err == nil && ok && local.Device != 0 {
		if dev != strconv.FormatUint(local.Device, 10) && known > 0 {
			return fmt.Errorf("%w: %s is on another device than at the last run (was %s, now %d)", ErrRootVanished, o.Local, dev, local.Device)
		}
	}
	return nil
}

// checkDeletes applies --max-delete (and two-way's half-the-files guard).
func checkDeletes(o Options, p *plan.Plan, local *LocalScan, remote *Walk) error {
	max := o.MaxDelete
	if max < 0 && o.Mode != TwoWay {
		return nil
	}
	return p.CheckDeletes(countFiles(local.Tree), countFiles(remote.Tree), max)
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

// cleanTemps removes leftover temporaries of an interrupted run, except
// those a planned transfer of the same file will try to resume: they are
// kept in e.resumeUp / e.resumeDown.
func (e *executor) cleanTemps(ctx context.Context, p *plan.Plan, local, remote map[string]int64) {
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
