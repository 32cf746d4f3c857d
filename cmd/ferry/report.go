package main

import (
	"encoding/json"
	"fmt"
	"io"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/internal/units"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// lineReporter prints one line per finished action (plain text or JSON) and
// a final summary. It is the output without a terminal, and with --json.
type lineReporter struct {
	mu      gosync.Mutex
	out     io.Writer
	errOut  io.Writer
	json    bool
	quiet   bool
	verbose int
	dryRun  bool
}

var _ ferrysync.Reporter = (*lineReporter)(nil)

func (r *lineReporter) emit(v map[string]any, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		b, _ := json.Marshal(v)
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	fmt.Fprintln(r.out, text)
}

func (r *lineReporter) Planned(p *plan.Plan) {
	if !r.dryRun {
		return
	}
	for _, a := range p.Actions {
		if a.Op == plan.Adopt || a.Op == plan.Forget {
			if r.verbose == 0 {
				continue
			}
		}
		r.emit(map[string]any{"event": "plan", "action": a.Op.String(), "path": a.Path, "to": a.To, "reason": a.Reason},
			fmt.Sprintf("would %-13s %s%s  (%s)", a.Op, a.Path, arrow(a.To), a.Reason))
	}
	for _, pr := range p.Problems {
		r.Warn(fmt.Errorf("%s", pr))
	}
}

func arrow(to string) string {
	if to == "" {
		return ""
	}
	return " -> " + to
}

func (r *lineReporter) Started(plan.Action)         {}
func (r *lineReporter) Progress(plan.Action, int64) {}

func (r *lineReporter) Done(a plan.Action, n int64, err error) {
	if err != nil {
		r.mu.Lock()
		if r.json {
			b, _ := json.Marshal(map[string]any{"event": "error", "action": a.Op.String(), "path": a.Path, "error": err.Error()})
			fmt.Fprintf(r.out, "%s\n", b)
		} else {
			fmt.Fprintln(r.errOut, "ferry: error:", err)
		}
		r.mu.Unlock()
		return
	}
	if r.quiet && !r.json {
		return
	}
	r.emit(map[string]any{"event": "done", "action": a.Op.String(), "path": a.Path, "to": a.To, "bytes": n},
		fmt.Sprintf("%-13s %s%s", a.Op, a.Path, arrow(a.To)))
}

func (r *lineReporter) Warn(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		b, _ := json.Marshal(map[string]any{"event": "warning", "message": err.Error()})
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	fmt.Fprintln(r.errOut, "ferry: warning:", err)
}

// Problem reports what made the run incomplete; it is counted in the
// summary and makes the exit status 1.
func (r *lineReporter) Problem(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		b, _ := json.Marshal(map[string]any{"event": "problem", "message": err.Error()})
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	fmt.Fprintln(r.errOut, "ferry: problem:", err)
}

func (r *lineReporter) Finished(res *ferrysync.Result) {
	secs := res.Duration.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.BytesUp+res.BytesDown) / secs
	}
	summary := map[string]any{
		"event": "summary", "dry_run": res.DryRun,
		"files_up": res.FilesUp, "files_down": res.FilesDown, "deleted": res.Deleted,
		"bytes_up": res.BytesUp, "bytes_down": res.BytesDown, "in_step": res.Adopted,
		"errors": len(res.Failed), "problems": len(res.Problems), "warnings": len(res.Warnings),
		"seconds": secs, "bytes_per_second": rate,
	}
	if res.DryRun && res.Plan != nil {
		summary["planned_actions"] = len(res.Plan.Actions)
	}
	sc := res.Scan
	summary["scan"] = map[string]any{
		"state_seconds": sc.State.Seconds(), "state_records": sc.Records,
		"local_seconds": sc.Local.Seconds(), "local_entries": sc.LocalEntries,
		"remote_seconds": sc.Remote.Seconds(), "remote_entries": sc.RemoteEntries,
		"remote_listings": sc.Listings, "remote_connections": sc.Conns,
	}
	if r.quiet && !r.json && len(res.Failed) == 0 && len(res.Problems) == 0 {
		return
	}
	if r.verbose > 0 && !r.json {
		r.emit(nil, fmt.Sprintf("scan: state %d records in %s, local %d entries in %s, remote %d entries in %s (%d listings on %d connections)",
			sc.Records, ms(sc.State), sc.LocalEntries, ms(sc.Local), sc.RemoteEntries, ms(sc.Remote), sc.Listings, sc.Conns))
	}
	text := fmt.Sprintf("%s: %d up (%s), %d down (%s), %d deleted, %d errors, %d problems in %s (%s/s)",
		map[bool]string{true: "dry run", false: "done"}[res.DryRun],
		res.FilesUp, units.Bytes(res.BytesUp), res.FilesDown, units.Bytes(res.BytesDown), res.Deleted,
		len(res.Failed), len(res.Problems), res.Duration.Round(time.Millisecond), units.Bytes(int64(rate)))
	r.emit(summary, text)
}

// ms rounds d for display: to the millisecond, or to 0.1 ms below 10 ms.
func ms(d time.Duration) string {
	if d < 10*time.Millisecond {
		return d.Round(100 * time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}
