//go:build linux

package crashtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
)

// Flags of the campaign (go test ./internal/crashtest -args -seed=…).
// Without flags TestCampaign is the short campaign of make test: fixed
// seeds, a few small rounds per mode and server.
var (
	flagSeed     = flag.Uint64("seed", 0, "seed of the first round (round i uses seed+i); 0: 1 for the short campaign, random for -long")
	flagRounds   = flag.Int("rounds", 0, "rounds per mode and server (0: the short campaign's defaults)")
	flagModes    = flag.String("modes", "push,pull,sync", "modes, comma-separated: push, pull, sync")
	flagServers  = flag.String("servers", "ftptest,vsftpd,pure-ftpd,proftpd", "servers, comma-separated")
	flagFaults   = flag.String("faults", "", "fault kinds, comma-separated: kill, restart, drop, lie (default kill,restart,drop)")
	flagLong     = flag.Bool("long", false, "the long campaign's trees: files up to several MiB, some of 16 MiB")
	flagKeep     = flag.Bool("keep", false, "keep the folders of failed rounds (under -work)")
	flagKeepAll  = flag.Bool("keep-all", false, "keep the folders of every round (debugging the harness)")
	flagWork     = flag.String("work", "", "scratch folder (default: a temporary one)")
	flagDeadline = flag.Duration("deadline", 0, "deadline of each run of ferry (default 60s, 5m with -long)")
	flagDuration = flag.Duration("duration", 0, "stop starting rounds on a server after this long (0: no limit)")
	flagRace     = flag.Bool("ferry-race", false, "build ferry with -race")
	flagReport   = flag.String("report", "", "also write the summary to this file")
)

// knownBugs are failures the short campaign reports but does not fail on,
// each naming the ferry bug it is (see the report of issue 10). match
// returns true for a failure of that bug.
var knownBugs = []struct {
	name  string
	match func(Failure) bool
}{
	// Empty: the two bugs the campaign found (a stale leftover resumed, a
	// download cut short behind a 226 accepted) are fixed; the
	// SuspectStaleResume and SuspectShortRetr tags stay to tell such a
	// failure apart should either come back.
}

func knownBug(f Failure) string {
	for _, k := range knownBugs {
		if k.match(f) {
			return k.name
		}
	}
	return ""
}

var (
	buildOnce       gosync.Once
	binDir          string // holds ferryBin and tdBin; removed by TestMain
	ferryBin, tdBin string
	buildErr        error
)

// build compiles ferry and ftptestd once per test process.
func build(t *testing.T) {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ferry-crashtest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binDir = dir
		goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goBin); err != nil {
			goBin = "go"
		}
		ferryBin, tdBin = filepath.Join(dir, "ferry"), filepath.Join(dir, "ftptestd")
		args := []string{"build", "-o", ferryBin}
		if *flagRace {
			args = append(args, "-race")
		}
		for _, b := range [][]string{
			append(args, "github.com/ferrysync/ferry/cmd/ferry"),
			{"build", "-o", tdBin, "github.com/ferrysync/ferry/internal/cmd/ftptestd"},
		} {
			out, err := exec.Command(goBin, b...).CombinedOutput()
			if err != nil {
				buildErr = fmt.Errorf("go %s: %v\n%s", strings.Join(b, " "), err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
}

// shortRounds is the short campaign: rounds per mode on each server.
var shortRounds = map[string]int{"ftptest": 6, "vsftpd": 2, "pure-ftpd": 2, "proftpd": 2}

func TestCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash campaign builds and runs ferry; not in -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the crash campaign needs Linux")
	}
	build(t)
	seed := *flagSeed
	if seed == 0 {
		seed = 1
		if *flagLong {
			seed = uint64(time.Now().UnixNano()%1e9) * 1000
		}
	}
	faults := *flagFaults
	if faults == "" {
		faults = "kill,restart,drop"
	}
	deadline := *flagDeadline
	if deadline == 0 {
		deadline = time.Minute
		if *flagLong {
			deadline = 5 * time.Minute
		}
	}
	work := *flagWork
	if work == "" {
		work = t.TempDir()
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		t.Fatal(err)
	}
	modes := split(*flagModes)
	for _, m := range modes {
		if m != Push && m != Pull && m != Sync {
			t.Fatalf("-modes: unknown mode %q", m)
		}
	}
	cfg := &Config{
		Ferry: ferryBin, Work: work, Long: *flagLong, Faults: split(faults), Deadline: deadline,
		Keep: *flagKeep, KeepAll: *flagKeepAll, RaceEnv: *flagRace, Logf: t.Logf,
		Replay: func(s uint64, mode, server string) string {
			if *flagLong {
				return fmt.Sprintf("make crashtest SEED=%d ROUNDS=1 MODES=%s SERVERS=%s FAULTS=%s", s, mode, server, faults)
			}
			return fmt.Sprintf("go test ./internal/crashtest -run 'TestCampaign$' -count=1 -v -args -seed=%d -rounds=1 -modes=%s -servers=%s -faults=%s -keep",
				s, mode, server, faults)
		},
	}
	t.Logf("campaign: seed %d, modes %v, servers %s, faults %s, long %v, ferry %s", seed, modes, *flagServers, faults, *flagLong, ferryBin)
	var (
		mu     gosync.Mutex
		totals []*Totals
	)
	for _, server := range split(*flagServers) {
		t.Run(server, func(t *testing.T) {
			srv := startServer(t, server, filepath.Join(work, "srv-"+server))
			rounds := *flagRounds
			if rounds == 0 {
				rounds = shortRounds[server]
			}
			byMode := map[string]*Totals{}
			for _, m := range modes {
				byMode[m] = &Totals{Server: server, Mode: m}
			}
			var known []string
			started := time.Now()
		rounds:
			for i := range rounds {
				for _, m := range modes {
					if *flagDuration > 0 && time.Since(started) > *flagDuration {
						t.Logf("%s: -duration %v reached after %d rounds per mode", server, *flagDuration, i)
						break rounds
					}
					s := seed + uint64(i)
					fails, stats := Round(t.Context(), cfg, srv, m, s)
					nKnown := 0
					for _, f := range fails {
						if k := knownBug(f); k != "" {
							nKnown++
							known = append(known, fmt.Sprintf("%s\n    known bug: %s", f, k))
							t.Logf("KNOWN BUG %s\n%v", k, f)
							continue
						}
						t.Errorf("FAIL %v", f)
					}
					for _, n := range stats.Notes {
						t.Logf("NOTE seed=%d mode=%s server=%s: %s", s, m, server, n)
					}
					byMode[m].Add(stats, len(fails), nKnown)
					if *flagRounds > 20 && (i+1)%10 == 0 && m == modes[len(modes)-1] {
						t.Logf("%s: %d rounds per mode done in %v", server, i+1, time.Since(started).Round(time.Second))
					}
				}
			}
			mu.Lock()
			for _, m := range modes {
				totals = append(totals, byMode[m])
			}
			mu.Unlock()
			if !t.Failed() && len(known) > 0 {
				t.Skipf("only known bugs failed:\n%s", strings.Join(known, "\n"))
			}
		})
	}
	rep := Report(totals)
	t.Logf("summary:\n%s", rep)
	if *flagReport != "" {
		if err := os.WriteFile(*flagReport, []byte(rep), 0o644); err != nil {
			t.Error(err)
		}
	}
}

func split(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// startServer starts one server for the rest of the test t.
func startServer(t *testing.T, name, dir string) Server {
	t.Helper()
	if name == "ftptest" {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		s, err := StartFTPTestd(ctx, tdBin, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	known := false
	for _, k := range ftpd.Kinds() {
		known = known || k == name
	}
	if !known {
		t.Fatalf("-servers: unknown server %q", name)
	}
	return RealServer{S: ftpd.Start(t, name, ftpd.Options{})}
}
