package main

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/job"
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
	bwlimit   string
	verify    bool
	backupDir string
	reprobe   bool
}

func newSyncCmd(mode ferrysync.Mode, stdout, stderr io.Writer) *cobra.Command {
	var o syncOptions
	var use, short, example string
	switch mode {
	case ferrysync.Push:
		use, short = "push [flags] LOCAL_DIR REMOTE_URL", "Make the remote folder a mirror of the local one"
		example = `  ferry push ./site ftp://deploy@ftp.example.com/www
  ferry push --delete --exclude .git/ --exclude '**/*.tmp' ./site ftp://deploy@ftp.example.com/www
  ferry push -n --delete ./site ftps://deploy@ftp.example.com/www     # show the plan only
  FERRY_PASSWORD=... ferry push --tls explicit --bwlimit 2M ./site ftp://deploy@ftp.example.com/www`
	case ferrysync.Pull:
		use, short = "pull [flags] REMOTE_URL LOCAL_DIR", "Make the local folder a mirror of the remote one"
		example = `  ferry pull ftp://reports@ftp.example.com/outgoing ./reports
  ferry pull --delete --backup-dir ../reports-old ftp://reports@ftp.example.com/outgoing ./reports
  ferry pull --json ftp://reports@ftp.example.com/outgoing ./reports | jq .`
	default:
		use, short = "sync [flags] LOCAL_DIR REMOTE_URL", "Two-way sync: changes on either side reach the other"
		example = `  ferry sync ~/Shared ftp://me@ftp.example.com/shared
  ferry sync --max-delete 10 ~/Shared ftp://me@ftp.example.com/shared   # refuse more than 10 deletes
  ferry sync -n ~/Shared ftp://me@ftp.example.com/shared                # what would happen`
	}
	cmd := &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    exactArgs(2),
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

func runSync(ctx context.Context, mode ferrysync.Mode, o syncOptions, localDir, rawURL string, stdout, stderr io.Writer) error {
	spec := job.Spec{
		Mode: mode, Local: localDir, Remote: rawURL, PasswordEnv: "FERRY_PASSWORD",
		Delete: o.delete, DryRun: o.dryRun, Exclude: o.excludes, Parallel: o.parallel,
		MaxDelete: o.maxDelete, BWLimit: o.bwlimit, Verify: o.verify, BackupDir: o.backupDir,
		Reprobe: o.reprobe, State: o.statePath,
	}
	if o.parallel < 1 {
		// 0 would mean the default to job.Resolve; on the command line it
		// is a mistake.
		return &ferrysync.UsageError{Field: "parallel", Err: fmt.Errorf("must be 1..%d, got %d", job.MaxParallel, o.parallel)}
	}
	if err := o.conn.apply(&spec, stderr); err != nil {
		return err
	}
	j, err := job.Resolve(spec)
	if err != nil {
		return err
	}
	lines := &lineReporter{out: stdout, errOut: stderr, json: o.json, quiet: o.conn.quiet, verbose: o.conn.verbose, dryRun: o.dryRun}
	var rep ferrysync.Reporter = lines
	if !o.json && !o.conn.quiet && !o.dryRun && isTerminal(stdout) {
		tty := newTTYReporter(stdout, lines)
		defer tty.stop()
		rep = tty
	}
	_, err = j.Run(ctx, job.Env{Reporter: rep, Trigger: job.TriggerCLI, Waiting: func() {
		fmt.Fprintf(stderr, "ferry: %s is being synced by another ferry process (the agent?); waiting for its run to end\n", j.Local)
	}})
	return err
}
