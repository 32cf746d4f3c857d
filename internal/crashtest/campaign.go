//go:build linux

package crashtest

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Totals adds up the rounds of one server and mode.
type Totals struct {
	Server, Mode string
	Rounds       int
	SyncFirst    int
	Runs         int
	FaultedRuns  int
	Strikes      map[string]int
	Landed       map[string]int
	NetFaults    int
	FailedRuns   int
	Failures     int
	Known        int
	Files        int
	Bytes        int64
	PollReads    int
	PollBytes    int64
	Conflicts    int
	DupConflicts int
	Leftovers    int
	Stale        int
	Notes        map[string]int
	Took         time.Duration
}

func (t *Totals) Add(s RoundStats, failures, known int) {
	if t.Strikes == nil {
		t.Strikes, t.Landed, t.Notes = map[string]int{}, map[string]int{}, map[string]int{}
	}
	t.Rounds++
	if s.SyncFirst {
		t.SyncFirst++
	}
	t.Runs += s.Runs
	t.FaultedRuns += s.FaultedRuns
	for k, n := range s.Strikes {
		t.Strikes[k] += n
	}
	for k, n := range s.Landed {
		t.Landed[k] += n
	}
	t.NetFaults += s.NetFaults
	t.FailedRuns += s.FailedRuns
	t.Failures += failures
	t.Known += known
	t.Files += s.Files
	t.Bytes += s.Bytes
	t.PollReads += s.PollReads
	t.PollBytes += s.PollBytes
	t.Conflicts += s.Conflicts
	t.DupConflicts += s.DupConflicts
	t.Leftovers += s.Leftovers
	t.Stale += s.Stale
	for _, n := range s.Notes {
		t.Notes[noteKind(n)]++
	}
	t.Took += s.Duration
}

// noteKind shortens a note to its kind, for counting.
func noteKind(n string) string {
	if i := strings.Index(n, ": "); i >= 0 {
		n = n[:i]
	}
	return strings.TrimRight(strings.TrimRight(n, "0123456789 "), " ")
}

// Report renders totals as a table.
func Report(ts []*Totals) string {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].Server != ts[j].Server {
			return ts[i].Server < ts[j].Server
		}
		return ts[i].Mode < ts[j].Mode
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-10s %-5s %6s %6s %6s %7s %12s %12s %6s %10s %6s %10s %6s %9s %9s %8s\n",
		"server", "mode", "rounds", "synced", "runs", "faulted", "kill(landed)", "restart(l.)", "net", "left(stale)", "rerun!", "confl(dup)", "fail", "MiB", "polledMiB", "time")
	for _, t := range ts {
		fmt.Fprintf(&b, "%-10s %-5s %6d %6d %6d %7d %12s %12s %6d %10s %6d %10s %6s %9.1f %9.1f %8s\n",
			t.Server, t.Mode, t.Rounds, t.SyncFirst, t.Runs, t.FaultedRuns,
			fmt.Sprintf("%d(%d)", t.Strikes[FaultKill], t.Landed[FaultKill]),
			fmt.Sprintf("%d(%d)", t.Strikes[FaultRestart], t.Landed[FaultRestart]),
			t.NetFaults, fmt.Sprintf("%d(%d)", t.Leftovers, t.Stale), t.FailedRuns, fmt.Sprintf("%d(%d)", t.Conflicts, t.DupConflicts), fmt.Sprintf("%d/%d", t.Failures, t.Known),
			float64(t.Bytes)/(1<<20), float64(t.PollBytes)/(1<<20), t.Took.Round(time.Second))
	}
	for _, t := range ts {
		if len(t.Notes) > 0 {
			var ns []string
			for _, k := range sortedKeys(t.Notes) {
				ns = append(ns, fmt.Sprintf("%s ×%d", k, t.Notes[k]))
			}
			fmt.Fprintf(&b, "notes %s/%s: %s\n", t.Server, t.Mode, strings.Join(ns, "; "))
		}
	}
	b.WriteString("columns: synced = rounds that synced before mutating; faulted = runs planned with faults;\n" +
		"kill/restart = timed faults planned (landed: ferry was still running); net = connection faults ftptestd injected;\n" +
		"left(stale) = runs started with a resumable (>= 1 MiB) temporary (stale: its file edited while ferry was down);\n" +
		"rerun! = unfaulted reruns that still failed; confl(dup) = conflict copies in final trees (dup: same bytes as the file they copy); fail = failures/known bugs among them\n")
	return b.String()
}
