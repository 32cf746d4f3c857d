package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// syncOptions are the flags of push, pull and sync.
type syncOptions struct {
	conn      connFlags
	delete    bool
	dryRun    bool
	excludes  []string
	parallel  int
	statePath string
	maxDelete int
	json      bool
	bwlimit   string
	verify    bool
	backupDir string
	reprobe   bool
}

func newSyncCmd(mode ferrysync.Mode, stdout, stderr io.Writer) *cobra.Command {
	var o syncOptions
	var use, short string
	switch mode {
	case ferrysync.Push:
		use, short = "push [flags] LOCAL_DIR REMOTE_URL", "Make the remote folder a mirror of the local one"
	case ferrysync.Pull:
		use, short = "pull [flags] REMOTE_URL LOCAL_DIR", "Make the local folder a mirror of the remote one"
	default:
		use, short = "sync [flags] LOCAL_DIR REMOTE_URL", "Two-way sync: changes on either side reach the other"
	}
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			local, remote := args[0], args[1]
			if mode == ferrysync.Pull {
				local, remote = args[1], args[0]
			}
			return runSync(cmd.Context(), mode, o, local, remote, stdout, stderr)
		},
	}
	fs := cmd.Flags()
	o.conn.register(fs)
	if mode != ferrysync.TwoWay {
		fs.BoolVar(&o.delete, "delete", false, "delete destination files and folders that the source lacks")
	}
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "print the plan, change nothing")
	fs.StringArrayVar(&o.excludes, "exclude", nil, "skip paths matching this glob (repeatable; ** crosses folders; trailing / = folders only)")
	fs.IntVar(&o.parallel, "parallel", 4, "transfers in flight at once, each on its own FTP connection")
	fs.StringVar(&o.statePath, "state", "", "SQLite state cache (default $XDG_STATE_HOME/ferry/state.db)")
	fs.IntVar(&o.maxDelete, "max-delete", -1, "refuse a plan that deletes more than N entries on one side")
	fs.BoolVar(&o.json, "json", false, "one JSON object per line for every action and a final summary")
	if mode != ferrysync.TwoWay {
		fs.StringVar(&o.backupDir, "backup-dir", "", "move destination files that would be overwritten or deleted into DIR (relative: to the destination folder), keeping their paths")
	}
	fs.BoolVar(&o.verify, "verify", false, "after each transfer, check the file on the far side (server hash when offered, else size)")
	fs.StringVar(&o.bwlimit, "bwlimit", "", "cap the total transfer rate, bytes per second with K/M/G suffixes (e.g. 2M)")
	fs.BoolVar(&o.reprobe, "reprobe", false, "forget what earlier runs learned about the server (how it sets mtimes, REST, connection limit) and probe again")
	return cmd
}

// errActionsFailed is returned when the run finished but some actions failed.
var errActionsFailed = errors.New("some actions failed")

func runSync(ctx context.Context, mode ferrysync.Mode, o syncOptions, localDir, rawURL string, stdout, stderr io.Writer) error {
	if o.parallel < 1 || o.parallel > 64 {
		return &ferrysync.UsageError{What: "--parallel", Err: fmt.Errorf("must be 1..64, got %d", o.parallel)}
	}
	if o.maxDelete < -1 {
		return &ferrysync.UsageError{What: "--max-delete", Err: fmt.Errorf("must be 0 or more, got %d", o.maxDelete)}
	}
	var bw int64
	if o.bwlimit != "" {
		var err error
		if bw, err = ferrysync.ParseRate(o.bwlimit); err != nil {
			return err
		}
	}
	if _, err := ferrysync.NewExcluder(o.excludes); err != nil {
		return err
	}
	r, err := o.conn.remote(rawURL, stderr)
	if err != nil {
		return err
	}
	local, err := filepath.Abs(localDir)
	if err != nil {
		return &ferrysync.UsageError{What: "LOCAL_DIR", Err: err}
	}
	backupDir, inside, err := ferrysync.BackupDir(mode, o.backupDir, local, r.Dir)
	if err != nil {
		return err
	}
	excludes := o.excludes
	if inside != "" {
		// The backup folder inside the synced folder is never synced
		// (nor deleted as an extra).
		excludes = append(excludes[:len(excludes):len(excludes)], "/"+inside+"/")
	}
	ex, err := ferrysync.NewExcluder(excludes)
	if err != nil {
		return err
	}
	// A pull may create its destination folder; every mode needs a folder
	// where a path already exists.
	if st, err := os.Stat(local); err != nil {
		if mode != ferrysync.Pull || !errors.Is(err, os.ErrNotExist) {
			return &ferrysync.UsageError{What: "LOCAL_DIR", Err: fmt.Errorf("%s: %w", localDir, errors.Unwrap(err))}
		}
	} else if !st.IsDir() {
		return &ferrysync.UsageError{What: "LOCAL_DIR", Err: fmt.Errorf("%s is not a folder", localDir)}
	}
	statePath := o.statePath
	if statePath == "" {
		if statePath, err = state.DefaultPath(); err != nil {
			return &ferrysync.UsageError{What: "--state", Err: err}
		}
	}
	// The first login, the slowest step of a small run, goes on while the
	// state cache opens.
	pool := newPool(r, o.parallel)
	defer pool.Close()
	pool.Warm(ctx)
	db, store, rootID, err := openStore(ctx, statePath, local, r.Redacted, o.dryRun)
	if err != nil {
		return err
	}
	if db != nil {
		defer db.Close()
	}
	var known ftp.Profile
	if !o.reprobe {
		known = loadProfile(ctx, db, r, pool)
	}
	lines := &lineReporter{out: stdout, errOut: stderr, json: o.json, quiet: o.conn.quiet, verbose: o.conn.verbose, dryRun: o.dryRun}
	var rep ferrysync.Reporter = lines
	if !o.json && !o.conn.quiet && !o.dryRun && isTerminal(stdout) {
		tty := newTTYReporter(stdout, lines)
		defer tty.stop()
		rep = tty
	}

	started := time.Now()
	var runID state.RunID
	if !o.dryRun {
		if runID, err = db.StartRun(ctx, rootID, "", mode.String(), started); err != nil {
			return err
		}
	}
	res, runErr := ferrysync.Run(ctx, ferrysync.Options{
		Mode: mode, Local: local, Pool: pool, Remote: r.Dir, Store: store, Exclude: ex,
		Delete: o.delete, DryRun: o.dryRun, Parallel: o.parallel, MaxDelete: o.maxDelete, BWLimit: bw, Verify: o.verify, BackupDir: backupDir,
		Reporter: rep,
	})
	closeErr := store.Close(context.WithoutCancel(ctx))
	if !o.dryRun {
		saveProfile(context.WithoutCancel(ctx), db, r, pool, known)
	}
	if res != nil {
		rep.Finished(res)
	}
	if !o.dryRun {
		finishRun(ctx, db, runID, res, runErr)
	}
	if runErr != nil {
		return runErr
	}
	if closeErr != nil {
		return fmt.Errorf("saving state cache: %w", closeErr)
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("%w: %d of %d", errActionsFailed, len(res.Failed), len(res.Plan.Actions))
	}
	return nil
}

// runStore is the state cache of one root as a run uses it.
type runStore interface {
	ferrysync.Store
	Close(ctx context.Context) error
}

// openStore opens the state cache at path and returns the root's store.
// A dry run writes nothing (SPEC: no state write): without a cache file it
// plans from empty state and creates no file (db is then nil); with one it
// reads the root's records without registering the root. A file that is
// not a state cache is a *ferrysync.UsageError naming --state.
func openStore(ctx context.Context, path, local, remote string, dryRun bool) (*state.DB, runStore, state.RootID, error) {
	if dryRun {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, dryStore{}, 0, nil
		}
	}
	db, err := state.Open(ctx, path)
	if err != nil {
		return nil, nil, 0, &ferrysync.UsageError{What: "--state", Err: err}
	}
	if !dryRun {
		store, err := db.Bind(ctx, local, remote)
		if err != nil {
			db.Close()
			return nil, nil, 0, err
		}
		return db, store, store.ID(), nil
	}
	roots, err := db.Roots(ctx)
	if err != nil {
		db.Close()
		return nil, nil, 0, err
	}
	for _, rt := range roots {
		if rt.Local == filepath.Clean(local) && rt.Remote == remote {
			return db, dryStore{db: db, id: rt.ID}, rt.ID, nil
		}
	}
	return db, dryStore{}, 0, nil
}

// dryStore is a dry run's view of the state cache: it reads the root's
// records (none when db is nil) and discards every write.
type dryStore struct {
	db *state.DB
	id state.RootID
}

var _ runStore = dryStore{}

func (s dryStore) Load(ctx context.Context) (plan.State, error) {
	if s.db == nil {
		return plan.State{}, nil
	}
	return s.db.Load(ctx, s.id)
}

func (s dryStore) Meta(ctx context.Context, key string) (string, bool, error) {
	if s.db == nil {
		return "", false, nil
	}
	return s.db.RootMeta(ctx, s.id, key)
}

func (dryStore) Put(string, plan.Record) error                 { return nil }
func (dryStore) Delete(string) error                           { return nil }
func (dryStore) Flush(context.Context) error                   { return nil }
func (dryStore) SetMeta(context.Context, string, string) error { return nil }
func (dryStore) Close(context.Context) error                   { return nil }

func finishRun(ctx context.Context, db *state.DB, id state.RunID, res *ferrysync.Result, runErr error) {
	rr := state.RunResult{Ended: time.Now(), Result: "ok"}
	if res != nil {
		rr.FilesUp, rr.FilesDown, rr.FilesDeleted = res.FilesUp, res.FilesDown, res.Deleted
		rr.BytesUp, rr.BytesDown = res.BytesUp, res.BytesDown
		rr.Errors = len(res.Failed)
		if len(res.Failed) > 0 {
			rr.Result = "partial"
			rr.ErrorText = res.Failed[0].Error()
		}
	}
	if runErr != nil {
		rr.Result = "failed"
		rr.ErrorText = runErr.Error()
		if errors.Is(runErr, context.Canceled) {
			rr.Result = "interrupted"
		}
	}
	db.FinishRun(context.WithoutCancel(ctx), id, rr)
}

// profileKey names a server in the state cache's profiles: its address and
// user (never the password).
func profileKey(r *ferrysync.Remote) string { return r.Config.Addr + " " + r.Config.User }

// loadProfile seeds the pool with what earlier runs learned about the
// server (how it sets mtimes, whether it refuses REST before STOR), so
// that is not probed again on every run. It returns what it loaded.
func loadProfile(ctx context.Context, db *state.DB, r *ferrysync.Remote, pool *ftp.Pool) ftp.Profile {
	var p ftp.Profile
	if db == nil {
		return p
	}
	data, _, ok, err := db.ServerProfile(ctx, profileKey(r))
	if err != nil || !ok || json.Unmarshal(data, &p) != nil {
		return ftp.Profile{}
	}
	pool.SetProfile(p)
	return p
}

// saveProfile records what this run learned, when it differs.
func saveProfile(ctx context.Context, db *state.DB, r *ferrysync.Remote, pool *ftp.Pool, known ftp.Profile) {
	p := pool.Profile()
	if db == nil || p == known {
		return
	}
	if data, err := json.Marshal(p); err == nil {
		db.SaveServerProfile(ctx, profileKey(r), data, time.Now())
	}
}
