package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/job"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
)

type probeOptions struct {
	conn        connFlags
	json        bool
	connections int
	statePath   string
}

func newProbeCmd(stdout, stderr io.Writer) *cobra.Command {
	var o probeOptions
	cmd := &cobra.Command{
		Use:   "probe [flags] REMOTE_URL",
		Short: "Probe an FTP server's quirks afresh and store them as its profile",
		Long: `Probe logs in to the server and finds out afresh what the sync engine needs
to know about it: the FEAT facts, how a file's mtime can be set (set on a
probe file and read back), whether REST works before STOR and before RETR,
whether RNTO replaces an existing name, how many connections it accepts (up
to --connections, one at a time, stopping at the first refusal), how exact
its listed times are and how far its listed, MDTM and set times are from UTC.

The write checks work in a temporary folder .ferry-probe-<random> it creates
under REMOTE_URL's path and removes again; on a read-only account they are
reported as unchecked with the reason. The result is stored in the state
cache as the server's profile, which every later run uses.

Exit status: 0 probed (some checks may be unchecked), 1 the server could not
be probed, 2 bad usage.`,
		Example: `  ferry probe ftp://deploy@ftp.example.com/www
  ferry probe --tls explicit --ca-file ca.pem ftp://deploy@ftp.example.com/www
  ferry probe --json --connections 2 ftp://reports@ftp.example.com/outgoing`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runProbe(cmd.Context(), o, args[0], stdout, stderr)
		},
	}
	fs := cmd.Flags()
	o.conn.register(fs)
	fs.BoolVar(&o.json, "json", false, "print the report and the stored profile as one JSON object")
	fs.IntVar(&o.connections, "connections", ftp.DefaultProbeConnections, "open at most this many connections at once to find the server's limit")
	fs.StringVar(&o.statePath, "state", "", "SQLite state cache to store the profile in (default $XDG_STATE_HOME/ferry/state.db)")
	return cmd
}

func runProbe(ctx context.Context, o probeOptions, rawURL string, stdout, stderr io.Writer) error {
	if o.connections < 1 || o.connections > job.MaxParallel {
		return &ferrysync.UsageError{Field: "connections", Err: fmt.Errorf("must be 1..%d, got %d", job.MaxParallel, o.connections)}
	}
	r, err := o.conn.remote(rawURL, stderr)
	if err != nil {
		return err
	}
	p, err := job.ProbeServer(ctx, r, o.statePath, ftp.ProbeOptions{Connections: o.connections}, time.Now())
	if err != nil && p == nil {
		return fmt.Errorf("probing %s: %w", r.Redacted, err)
	}
	if o.json {
		b, jerr := json.MarshalIndent(struct {
			*ftp.Report
			Profile ftp.Profile `json:"profile"`
			State   string      `json:"state"`
		}{p.Report, p.Profile, p.State}, "", "  ")
		if jerr != nil {
			return jerr
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else if !o.conn.quiet {
		printProbe(stdout, r, p, o.conn.verbose)
	}
	return err
}

// printProbe shows a probe's report as a table, then the profile runs use.
func printProbe(w io.Writer, r *ferrysync.Remote, p *job.Probed, verbose int) {
	rep := p.Report
	row := func(name, result, detail string) {
		line := fmt.Sprintf("%-13s %-9s %s", name, result, detail)
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	check := func(name string, c ftp.Check) { row(name, string(c.Result), c.Detail) }
	yn := func(b bool) string { return map[bool]string{true: "yes", false: "no"}[b] }

	sys := ""
	if rep.System != "" {
		sys = ", " + rep.System
	}
	row("server", rep.Addr, "user "+rep.User+sys)
	row("folder", rep.Dir, "checks made in a .ferry-probe-* folder there, removed after")
	f := rep.Feat
	hash := "none"
	if len(f.Hash) > 0 {
		hash = strings.Join(f.Hash, " ")
	}
	row("FEAT", "", fmt.Sprintf("MLST/MLSD %s, MFMT %s, MDTM %s, SIZE %s, EPSV %s, UTF8 %s, REST STREAM %s, hash: %s",
		yn(f.MLST), yn(f.MFMT), yn(f.MDTM), yn(f.SIZE), yn(f.EPSV), yn(f.UTF8), yn(f.RestStream), hash))
	if verbose > 0 && f.MLSTFacts != "" {
		row("", "", "MLST facts: "+f.MLSTFacts)
	}
	prec := rep.ListPrecision
	if prec == "" {
		prec = "unknown (no file listed)"
	}
	row("listing", rep.ListCommand, "times to "+prec)
	check("EPSV", rep.EPSV)
	mt := rep.MTime
	if rep.MTimeMethod != "" {
		mt.Detail = rep.MTimeMethod + ": " + mt.Detail
	}
	check("set mtime", mt)
	check("REST+STOR", rep.RestStor)
	check("REST+RETR", rep.RestRetr)
	check("RNTO over", rep.RenameReplaces)
	c := rep.Connections
	switch {
	case c.Refusal != "":
		row("connections", fmt.Sprint(c.Accepted), fmt.Sprintf("accepted at once; number %d refused: %s", c.Accepted+1, c.Refusal))
	case c.Error != "":
		row("connections", fmt.Sprint(c.Accepted), "accepted at once; then: "+c.Error)
	default:
		row("connections", fmt.Sprint(c.Accepted), fmt.Sprintf("accepted at once, none refused (the cap, --connections %d)", c.Cap))
	}
	z := rep.Zone
	if z.Result == ftp.Yes {
		v := rep.ZoneValues
		z.Detail = fmt.Sprintf("listed %s, MDTM %s, set %s: %s", ftp.FormatOffset(v.List), ftp.FormatOffset(v.MDTM), ftp.FormatOffset(v.Set), z.Detail)
	}
	check("time zone", z)
	if rep.Leftover != "" {
		row("leftover", "", rep.Leftover)
	}

	pr := p.Profile
	fmt.Fprintf(w, "\nstored in %s for %s; runs use:\n", p.State, r.Redacted)
	zone := "not measured (times taken as UTC)"
	switch {
	case pr.Zone.Measured:
		zone = fmt.Sprintf("listed %s, MDTM %s, set %s", ftp.FormatOffset(pr.Zone.List), ftp.FormatOffset(pr.Zone.MDTM), ftp.FormatOffset(pr.Zone.Set))
	case pr.Zone.Failed:
		zone = "could not be measured (times taken as UTC)"
	}
	maxConns := "none met"
	if pr.MaxConns > 0 {
		maxConns = fmt.Sprint(pr.MaxConns)
	}
	fmt.Fprintf(w, "  set mtime %s; REST before STOR %s, before RETR %s; RNTO replaces %s; connection limit %s; time zone %s\n",
		pr.MTime, yn(!pr.NoRestStor), yn(!pr.NoRestRetr), pr.RenameReplaces, maxConns, zone)
}
