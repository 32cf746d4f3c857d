package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
)

type lsOptions struct {
	conn      connFlags
	recursive bool
	parallel  int
}

func newLsCmd(stdout, stderr io.Writer) *cobra.Command {
	var o lsOptions
	cmd := &cobra.Command{
		Use:   "ls [-R] REMOTE_URL",
		Short: "List a remote folder (type, size, time, name)",
		Example: `  ferry ls ftp://deploy@ftp.example.com/www
  ferry ls -R --tls explicit ftp://deploy@ftp.example.com/www`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLs(cmd.Context(), o, args[0], stdout, stderr)
		},
	}
	o.conn.register(cmd.Flags())
	cmd.Flags().BoolVarP(&o.recursive, "recursive", "R", false, "list every folder below too")
	cmd.Flags().IntVar(&o.parallel, "parallel", 4, "listings in flight at once (-R)")
	return cmd
}

func runLs(ctx context.Context, o lsOptions, rawURL string, stdout, stderr io.Writer) error {
	r, err := o.conn.remote(rawURL, stderr)
	if err != nil {
		return err
	}
	if o.parallel < 1 {
		return &ferrysync.UsageError{Field: "parallel", Err: fmt.Errorf("must be at least 1, got %d", o.parallel)}
	}
	pool := ftp.NewPool(r.Config, o.parallel)
	defer pool.Close()
	var entries []ferrysync.RemoteEntry
	var problems []error
	if o.recursive {
		w, err := ferrysync.WalkRemote(ctx, pool, r.Dir, o.parallel, nil)
		if err != nil {
			return err
		}
		if w.RootMissing {
			return fmt.Errorf("remote folder %q does not exist", r.Dir)
		}
		// w.Warnings (symlinks skipped by a sync) are left out: ls shows
		// the links themselves.
		entries, problems = w.Entries, w.Problems
	} else {
		c, err := pool.Get(ctx)
		if err != nil {
			return err
		}
		list, err := c.List(ctx, r.Dir)
		pool.Put(c)
		if err != nil && list == nil {
			return err
		}
		if err != nil {
			problems = append(problems, err)
		}
		for _, e := range list {
			entries = append(entries, ferrysync.RemoteEntry{Rel: e.Name, Entry: e})
		}
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Rel < entries[j].Rel })
	for _, e := range entries {
		name := e.Rel
		if e.Type == ftp.TypeDir {
			name += "/"
		}
		if e.Type == ftp.TypeLink && e.Target != "" {
			name += " -> " + e.Target
		}
		fmt.Fprintf(stdout, "%-4s %12d  %s  %s\n", e.Type, e.Size, formatTime(e.Entry), name)
	}
	for _, p := range problems {
		fmt.Fprintln(stderr, "ferry: warning:", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("the listing is incomplete: %d problem(s)", len(problems))
	}
	return nil
}

// formatTime shows a listing time at the precision the server gave it.
func formatTime(e ftp.Entry) string {
	t := e.ModTime.UTC()
	switch {
	case e.Precision == 0 || t.IsZero():
		return "-                  "
	case e.Precision >= 24*time.Hour:
		return t.Format("2006-01-02      ") + "   "
	case e.Precision >= time.Minute:
		return t.Format("2006-01-02 15:04") + "   "
	}
	return t.Format("2006-01-02 15:04:05")
}
