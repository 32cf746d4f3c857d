package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
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
	ex, err := ferrysync.NewExcluder(o.excludes)
	if err != nil {
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
	if mode != ferrysync.Pull {
		if st, err := os.Stat(local); err != nil {
			return &ferrysync.UsageError{What: "LOCAL_DIR", Err: fmt.Errorf("%s: %w", localDir, errors.Unwrap(err))}
		} else if !st.IsDir() {
			return &ferrysync.UsageError{What: "LOCAL_DIR", Err: fmt.Errorf("%s is not a folder", localDir)}
		}
	}
	statePath := o.statePath
	if statePath == "" {
		if statePath, err = state.DefaultPath(); err != nil {
			return &ferrysync.UsageError{What: "--state", Err: err}
		}
	}
	db, err := state.Open(ctx, statePath)
	if err != nil {
		return &ferrysync.UsageError{What: "--state", Err: err}
	}
	defer db.Close()
	store, err := db.Bind(ctx, local, r.Redacted)
	if err != nil {
		return err
	}
	pool := newPool(r, o.parallel)
	defer pool.Close()
	rep := &lineReporter{out: stdout, errOut: stderr, json: o.json, quiet: o.conn.quiet, verbose: o.conn.verbose, dryRun: o.dryRun}

	started := time.Now()
	var runID state.RunID
	if !o.dryRun {
		if runID, err = db.StartRun(ctx, store.ID(), "", mode.String(), started); err != nil {
			return err
		}
	}
	res, runErr := ferrysync.Run(ctx, ferrysync.Options{
		Mode: mode, Local: local, Pool: pool, Remote: r.Dir, Store: store, Exclude: ex,
		Delete: o.delete, DryRun: o.dryRun, Parallel: o.parallel, MaxDelete: o.maxDelete,
		Reporter: rep,
	})
	closeErr := store.Close(context.WithoutCancel(ctx))
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
