//go:build linux

package crashtest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Modes.
const (
	Push = "push"
	Pull = "pull"
	Sync = "sync" // two-way
)

// Config is what every round of a campaign shares.
type Config struct {
	Ferry    string        // the ferry binary
	Work     string        // scratch folder for the rounds
	Long     bool          // the long campaign's trees (bigger files, some of 16 MiB)
	Faults   []string      // fault kinds to inject (those the server supports)
	Deadline time.Duration // for each run of ferry
	Keep     bool          // keep the folders of failed rounds (and of rounds with notes)
	KeepAll  bool          // keep the folders of every round
	RaceEnv  bool          // ferry was built with -race: set GORACE
	Env      []string      // more environment for ferry
	Logf     func(format string, args ...any)
	// Replay returns the command line that replays one round.
	Replay func(seed uint64, mode, server string) string
}

// Failure is one broken promise found by a round.
type Failure struct {
	Seed   uint64
	Mode   string
	Server string
	Kind   string // what broke: partial, mirror, lost, leftover, integrity, panic, hang, converge, settle, harness
	Detail string
	Replay string
	Dir    string // the round's folder, when kept
	// Suspect names the known bug the failure looks like, if any.
	Suspect string
}

func (f Failure) String() string {
	s := fmt.Sprintf("seed=%d mode=%s server=%s: %s: %s\n    replay: %s", f.Seed, f.Mode, f.Server, f.Kind, f.Detail, f.Replay)
	if f.Suspect != "" {
		s += "\n    suspect: " + f.Suspect
	}
	if f.Dir != "" {
		s += "\n    kept: " + f.Dir
	}
	return s
}

// RoundStats counts what one round did.
type RoundStats struct {
	SyncFirst   bool
	Runs        int            // runs of ferry, all told
	FaultedRuns int            // runs planned with faults
	Strikes     map[string]int // timed faults planned, by kind
	Landed      map[string]int // of those, the ones that hit a running ferry
	NetFaults   int            // faults ftptestd's script injected
	FailedRuns  int            // unfaulted reruns that still exited non-zero
	Files       int            // versions made
	Bytes       int64          // bytes in the trees at the faulted run's start
	PollReads   int
	PollBytes   int64
	Conflicts   int // conflict copies in the final trees
	// DupConflicts counts conflict copies holding the same bytes as the
	// file they copy: spurious conflicts, e.g. after a crash between an
	// upload's rename and the setting of its mtime.
	DupConflicts int
	Leftovers    int // temporaries of at least 1 MiB (resumable) a run started with
	Stale        int // of those, ones whose file was edited while ferry was down
	Notes        []string
	Duration     time.Duration
}

// Round runs one seeded round of mode against srv and returns its
// failures (none: the round passed).
func Round(ctx context.Context, cfg *Config, srv Server, mode string, seed uint64) ([]Failure, RoundStats) {
	h := fnv.New64a()
	h.Write([]byte(mode))
	r := &round{
		cfg: cfg, srv: srv, mode: mode, seed: seed,
		rng:   rand.New(rand.NewPCG(seed, h.Sum64())),
		stats: RoundStats{Strikes: map[string]int{}, Landed: map[string]int{}},
	}
	start := time.Now()
	r.run(ctx)
	r.stats.Duration = time.Since(start)
	return r.failures, r.stats
}

type round struct {
	cfg  *Config
	srv  Server
	mode string
	seed uint64
	rng  *rand.Rand

	dir, remoteDir, state string
	local, remote         *side
	reg                   *registry
	nm                    *namer
	prof                  profile
	hugeLeft              int
	poll                  *poller
	faultLines            int // ftptestd fault lines before the round
	log                   *os.File

	failures []Failure
	stats    RoundStats
	runs     int
	lastRun  string // summary of the last run of ferry
	// superseded holds, by path, the versions editWhileDown replaced.
	superseded map[string][]*version
	editedDown map[string]bool // paths editWhileDown changed since the last run
	staleLeft  map[string]bool // paths a run started with a stale resumable leftover of
	srvMu      gosync.Mutex    // one server kill and restart at a time
}

func (r *round) fail(kind, format string, args ...any) {
	r.failures = append(r.failures, Failure{
		Seed: r.seed, Mode: r.mode, Server: r.srv.Name(), Kind: kind,
		Detail: fmt.Sprintf(format, args...), Replay: r.cfg.Replay(r.seed, r.mode, r.srv.Name()),
	})
	r.logf("FAIL %s: %s", kind, fmt.Sprintf(format, args...))
}

func (r *round) logf(format string, args ...any) {
	if r.log != nil {
		fmt.Fprintf(r.log, time.Now().Format("15:04:05.000 ")+format+"\n", args...)
	}
}

func (r *round) run(ctx context.Context) {
	r.dir = filepath.Join(r.cfg.Work, fmt.Sprintf("%s-%s-%d", r.srv.Name(), r.mode, r.seed))
	r.remoteDir = fmt.Sprintf("r-%s-%d", r.mode, r.seed)
	os.RemoveAll(r.dir)
	if err := os.MkdirAll(filepath.Join(r.dir, "logs"), 0o755); err != nil {
		r.fail("harness", "%v", err)
		return
	}
	r.log, _ = os.Create(filepath.Join(r.dir, "round.log"))
	defer func() {
		if r.log != nil {
			r.log.Close()
		}
	}()
	uid, gid := r.srv.Owner()
	r.local = &side{name: "local", root: filepath.Join(r.dir, "local"), uid: -1, gid: -1}
	r.remote = &side{name: "remote", root: filepath.Join(r.srv.Root(), r.remoteDir), uid: uid, gid: gid}
	os.RemoveAll(r.remote.root)
	r.state = filepath.Join(r.dir, "state", "state.db")
	r.reg = newRegistry(time.Now())
	r.nm = &namer{rng: r.rng, used: map[string]bool{}}
	r.superseded = map[string][]*version{}
	r.editedDown = map[string]bool{}
	r.staleLeft = map[string]bool{}
	r.prof = shortProfile
	if r.cfg.Long {
		r.prof = longProfile
	}
	r.hugeLeft = r.prof.maxHuge
	r.poll = newPoller(r.reg, r.local, r.remote)
	r.faultLines = len(r.srv.FaultLog())
	defer r.cleanup()

	var base, L, R *tree
	r.stats.SyncFirst = r.rng.IntN(2) == 0
	if r.stats.SyncFirst {
		var ok bool
		if base, ok = r.prepareSynced(ctx); !ok {
			return
		}
		L, R = r.mutate(base)
	} else {
		L, R = r.prepareFresh()
		base = newTree() // nothing synced; editWhileDown may learn bases
	}
	if len(r.failures) > 0 {
		return
	}
	r.stats.Files = r.reg.count()
	r.stats.Bytes = L.bytes() + R.bytes()
	r.logf("trees ready: local %d files, remote %d files, base %v", len(L.files), len(R.files), base != nil)

	if !r.faultedPhase(ctx, L, R, base) {
		return
	}
	r.checkFinal(L, R, base)
	if len(r.failures) == 0 {
		r.settle(ctx)
	}
	r.stats.NetFaults = len(r.srv.FaultLog()) - r.faultLines
	r.stats.PollReads, r.stats.PollBytes = r.pollStats()
}

func (r *round) pollStats() (int, int64) {
	_, reads, b := r.poll.stats()
	return reads, b
}

func (r *round) cleanup() {
	r.poll.pause()
	if (len(r.failures)+len(r.stats.Notes) > 0 && r.cfg.Keep) || r.cfg.KeepAll {
		for i := range r.failures {
			r.failures[i].Dir = r.dir
		}
		// The remote side lives in the server's folder, which goes away
		// with the server: keep a copy next to the rest.
		exec.Command("cp", "-a", r.remote.root, filepath.Join(r.dir, "remote")).Run()
		return
	}
	os.RemoveAll(r.dir)
	os.RemoveAll(r.remote.root)
}

// prepareSynced makes a tree, puts it on the side(s) the mode reads, and
// syncs it without faults; it returns the synced tree (both sides).
func (r *round) prepareSynced(ctx context.Context) (*tree, bool) {
	t := gen(r.rng, r.reg, r.nm, r.prof, &r.hugeLeft)
	L, R := newTree(), newTree()
	switch r.mode {
	case Push:
		L = t
	case Pull:
		R = t
	default:
		for _, p := range t.sortedFiles() {
			switch x := r.rng.IntN(10); {
			case x < 6:
				L.files[p], R.files[p] = t.files[p], t.files[p]
			case x < 8:
				L.files[p] = t.files[p]
			default:
				R.files[p] = t.files[p]
			}
		}
		for _, d := range t.sortedDirs() {
			switch r.rng.IntN(3) {
			case 0:
				L.dirs[d] = true
			case 1:
				R.dirs[d] = true
			default:
				L.dirs[d], R.dirs[d] = true, true
			}
		}
		for p := range L.files {
			L.addParents(p)
		}
		for p := range R.files {
			R.addParents(p)
		}
		if len(L.files) == 0 && len(t.files) > 0 {
			p := t.sortedFiles()[0]
			L.files[p] = t.files[p]
			L.addParents(p)
		}
	}
	if !r.write(L, R) {
		return nil, false
	}
	r.poll.start()
	ok := false
	for try := 1; try <= 3 && !ok; try++ {
		res := r.ferry(ctx, fmt.Sprintf("initial-%d", try), runFaults{})
		ok = res.ok()
		if !ok && !res.hung {
			r.logf("initial sync try %d: %s", try, res.summary())
		}
		if res.hung || res.panicked != "" {
			return nil, false
		}
	}
	r.poll.pause()
	r.poll.pass()
	if v := r.poll.takeViolations(); len(v) > 0 {
		r.fail("partial", "during the initial, unfaulted sync: %s", strings.Join(v, "; "))
		return nil, false
	}
	if !ok {
		r.fail("converge", "the initial, unfaulted sync did not succeed in 3 runs (see %s)", filepath.Join(r.dir, "logs"))
		return nil, false
	}
	ls, rs, ok := r.snapshots()
	if !ok {
		return nil, false
	}
	if d, _ := diff("local", ls, "remote", rs, 10, r.reg); len(d) > 0 {
		r.fail("mirror", "after the initial, unfaulted sync the sides differ: %s", strings.Join(d, "; "))
		return nil, false
	}
	base, bad := ls.model(r.reg)
	if len(bad) > 0 {
		r.fail("partial", "after the initial sync: %s", strings.Join(bad, "; "))
		return nil, false
	}
	return base, true
}

// write puts the trees on disk: local (created only sometimes for a
// pull, whose first run may make it) and remote.
func (r *round) write(L, R *tree) bool {
	if r.mode != Pull || len(L.files) > 0 || len(L.dirs) > 0 || r.rng.IntN(2) == 0 {
		if err := r.local.materialize(L); err != nil {
			r.fail("harness", "writing the local tree: %v", err)
			return false
		}
	}
	if err := r.remote.materialize(R); err != nil {
		r.fail("harness", "writing the remote tree: %v", err)
		return false
	}
	return true
}

// snapshots scans both sides.
func (r *round) snapshots() (*snapshot, *snapshot, bool) {
	ls, err := r.local.scan()
	if err != nil {
		r.fail("harness", "scanning local: %v", err)
		return nil, nil, false
	}
	rs, err := r.remote.scan()
	if err != nil {
		r.fail("harness", "scanning remote: %v", err)
		return nil, nil, false
	}
	return ls, rs, true
}

// faultedPhase runs ferry with faults (one to three runs), then without
// until it succeeds; false when the round cannot go on.
func (r *round) faultedPhase(ctx context.Context, L, R, base *tree) bool {
	kinds := r.faultKinds()
	n := 1
	if r.rng.Float64() < 0.3 {
		n++
	}
	if r.rng.Float64() < 0.1 {
		n++
	}
	changes, work, maxSize := workOf(r.mode, L, R)
	r.poll.start()
	defer r.poll.pause()
	done := false
	for i := 0; i < n && !done && len(kinds) > 0; i++ {
		f := planFaults(r.rng, kinds, estimate(r.srv.Name(), r.mode, changes, work), changes, maxSize)
		r.stats.FaultedRuns++
		for _, s := range f.strikes {
			r.stats.Strikes[s.kind]++
		}
		res := r.ferry(ctx, fmt.Sprintf("fault-%d", i+1), f)
		if res.hung || res.panicked != "" {
			return false
		}
		done = res.ok()
		if !done && r.rng.Float64() < 0.5+0.3*float64(min(1, r.resumable())) {
			r.editWhileDown(L, R, base)
		}
		if done && i == 0 && res.landed == 0 && f.drop == "" {
			learn(r.srv.Name(), r.mode, changes, work, res.took) // every fault missed
		}
	}
	if err := r.srv.SetFaults(ctx, ""); err != nil {
		r.fail("harness", "clearing the server's faults: %v", err)
		return false
	}
	for i := 0; i < 5 && !done; i++ {
		res := r.ferry(ctx, fmt.Sprintf("rerun-%d", i+1), runFaults{})
		if res.hung || res.panicked != "" {
			return false
		}
		done = res.ok()
		if !done {
			r.stats.FailedRuns++
			r.stats.Notes = append(r.stats.Notes, fmt.Sprintf("unfaulted rerun %d exited %s: %s", i+1, res.status(), res.errLines(3)))
		}
	}
	if !done {
		r.fail("converge", "ferry did not exit 0 in 5 unfaulted reruns; last: %s", r.lastRun)
		return false
	}
	return true
}

// resumable counts ferry's temporaries of at least resumeMin bytes.
func (r *round) resumable() int {
	n := 0
	for p, sg := range sizes([]*side{r.local, r.remote}) {
		if isFerryTemp(filepath.Base(p)) && sg.size >= resumeMin {
			n++
		}
	}
	return n
}

// faultKinds returns the configured fault kinds the server supports.
func (r *round) faultKinds() []string {
	var out []string
	for _, k := range r.cfg.Faults {
		if (k == FaultDrop || k == FaultLie) && !r.srv.CanDrop() {
			continue
		}
		out = append(out, k)
	}
	return out
}

// settle runs ferry once more: it must succeed and change nothing.
func (r *round) settle(ctx context.Context) {
	before1, before2, ok := r.snapshots()
	if !ok {
		return
	}
	r.poll.start()
	res := r.ferry(ctx, "settle", runFaults{})
	r.poll.pause()
	r.poll.pass()
	if v, paths := r.poll.takeViolationPaths(); len(v) > 0 {
		r.fail("partial", "during the settling run: %s", strings.Join(v, "; "))
		r.suspect(paths)
	}
	if res.hung || res.panicked != "" {
		return
	}
	if !res.ok() {
		r.fail("settle", "a run after the successful one exited %s: %s", res.status(), res.errLines(5))
		return
	}
	after1, after2, ok := r.snapshots()
	if !ok {
		return
	}
	// A server's own temporary (pure-ftpd's .pureftpd-upload.*, left by a
	// server crash) is a file like any other to ferry: note when a run
	// copied one.
	for _, pair := range [][2]*snapshot{{before1, after1}, {before2, after2}} {
		was := map[string]bool{}
		for _, f := range pair[0].foreign {
			was[f] = true
		}
		for _, f := range pair[1].foreign {
			if !was[f] {
				r.stats.Notes = append(r.stats.Notes, "a server's temporary was copied by the settling run: "+f)
			}
		}
	}
	d1, _ := diff("local before", before1, "local after", after1, 5, r.reg)
	d2, _ := diff("remote before", before2, "remote after", after2, 5, r.reg)
	d := append(d1, d2...)
	if len(d) > 0 {
		r.fail("settle", "a run after the successful one changed the trees: %s", strings.Join(d, "; "))
	}
	if err := checkIntegrity(r.state, filepath.Join(r.dir, "ic")); err != nil {
		r.fail("integrity", "at the end: %v", err)
	}
}

// workOf estimates how many paths and bytes a run has to move, and the
// size of the biggest file.
func workOf(mode string, L, R *tree) (changes int, bytes, biggest int64) {
	count := func(src, dst *tree) {
		for p, v := range src.files {
			if dst.files[p] != v {
				changes++
				bytes += v.size
				biggest = max(biggest, v.size)
			}
		}
	}
	switch mode {
	case Push:
		count(L, R)
	case Pull:
		count(R, L)
	default:
		count(L, R)
		count(R, L)
	}
	return max(changes, 1), bytes, max(biggest, 1)
}

// Run-time estimates, per server and mode, learned from unfaulted runs:
// seconds per unit of work, a unit being one changed path or one MiB.
var (
	estMu   gosync.Mutex
	perUnit = map[string]time.Duration{}
)

func estimate(server, mode string, changes int, bytes int64) time.Duration {
	estMu.Lock()
	defer estMu.Unlock()
	u, ok := perUnit[server+" "+mode]
	if !ok {
		u = 5 * time.Millisecond
	}
	return 10*time.Millisecond + time.Duration(float64(u)*(float64(changes)+float64(bytes)/(1<<20)))
}

func learn(server, mode string, changes int, bytes int64, took time.Duration) {
	units := float64(changes) + float64(bytes)/(1<<20)
	if units < 1 {
		return
	}
	estMu.Lock()
	defer estMu.Unlock()
	k := server + " " + mode
	x := time.Duration(float64(took) / units)
	if u, ok := perUnit[k]; ok {
		x = (7*u + 3*x) / 10
	}
	perUnit[k] = x
}

// runResult is how one run of ferry ended.
type runResult struct {
	label    string
	code     int  // exit status; -1 when killed by a signal
	signaled bool // killed by a signal (ours)
	hung     bool
	panicked string
	landed   int // timed faults that hit ferry while it ran
	took     time.Duration
	stderr   string
	faults   runFaults
}

func (res runResult) ok() bool {
	return !res.hung && !res.signaled && res.code == 0 && res.panicked == ""
}

func (res runResult) status() string {
	switch {
	case res.hung:
		return "hung"
	case res.signaled:
		return "killed"
	}
	return fmt.Sprintf("%d", res.code)
}

func (res runResult) errLines(n int) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(res.stderr), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (res runResult) summary() string {
	return fmt.Sprintf("%s: exit %s after %v (faults: %v) %s", res.label, res.status(), res.took.Round(time.Millisecond), res.faults, res.errLines(2))
}

// ferry runs ferry once in the round's mode, with the faults f, and
// checks the state cache after it.
func (r *round) ferry(ctx context.Context, label string, f runFaults) runResult {
	r.runs++
	r.stats.Runs++
	res := runResult{label: label, faults: f}
	if err := r.srv.SetFaults(ctx, f.drop); err != nil {
		r.fail("harness", "server fault script: %v", err)
		res.hung = true // stop the round
		return res
	}
	args := []string{r.mode}
	if r.mode != Sync {
		args = append(args, "--delete")
	}
	args = append(args, "--state", r.state, "--max-delete", "1000000", "--parallel", fmt.Sprint(1+r.rng.IntN(4)))
	if f.bwlimit != "" {
		args = append(args, "--bwlimit", f.bwlimit)
	}
	if r.mode == Pull {
		args = append(args, r.srv.URL(r.remoteDir), r.local.root)
	} else {
		args = append(args, r.local.root, r.srv.URL(r.remoteDir))
	}
	base := filepath.Join(r.dir, "logs", fmt.Sprintf("%02d-%s", r.runs, label))
	stdout, err1 := os.Create(base + ".out")
	stderr, err2 := os.Create(base + ".err")
	if err := errors.Join(err1, err2); err != nil {
		r.fail("harness", "%v", err)
		res.hung = true
		return res
	}
	defer stdout.Close()
	defer stderr.Close()
	home := filepath.Join(r.dir, "home")
	cmd := exec.Command(r.cfg.Ferry, args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_STATE_HOME=" + filepath.Join(home, "state"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"), "XDG_CACHE_HOME=" + filepath.Join(home, "cache"),
		"NETRC=" + filepath.Join(home, "netrc"), "GOTRACEBACK=all", "TZ=UTC",
	}
	if r.cfg.RaceEnv {
		cmd.Env = append(cmd.Env, "GORACE=halt_on_error=1")
	}
	cmd.Env = append(cmd.Env, r.cfg.Env...)
	before := sizes([]*side{r.local, r.remote})
	for p, n := range before {
		if isFerryTemp(filepath.Base(p)) && n.size >= resumeMin {
			r.stats.Leftovers++
			if real := realName(strings.SplitN(p, "/", 2)[1]); r.editedDown[real] {
				r.stats.Stale++
				r.staleLeft[real] = true
			}
		}
	}
	r.poll.setPhase(fmt.Sprintf("run %d %s", r.runs, label))
	r.logf("run %d %s: ferry %s (faults: %v)", r.runs, label, strings.Join(args, " "), f)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		r.fail("harness", "start ferry: %v", err)
		res.hung = true
		return res
	}
	var exited atomic.Bool
	waited := make(chan error, 1)
	go func() {
		err := cmd.Wait()
		exited.Store(true)
		waited <- err
	}()
	fctx, cancel := context.WithCancel(ctx)
	var wg gosync.WaitGroup
	var killedByUs atomic.Bool
	var landed atomic.Int32
	for _, s := range f.strikes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !s.watch(fctx, start, []*side{r.local, r.remote}, before) || exited.Load() {
				return
			}
			switch s.kind {
			case FaultKill:
				killedByUs.Store(true)
				if cmd.Process.Signal(syscall.SIGKILL) == nil && !exited.Load() {
					r.countLanded(s.kind, &landed)
				}
			case FaultRestart:
				r.srvMu.Lock()
				defer r.srvMu.Unlock()
				if err := r.srv.Kill(); err != nil {
					r.logf("kill server: %v", err)
				}
				if !exited.Load() {
					r.countLanded(s.kind, &landed)
				}
				time.Sleep(s.pause)
				r.restartServer(ctx)
			}
			r.logf("  strike at %v: %v", time.Since(start).Round(time.Millisecond), s)
		}()
	}
	var werr error
	select {
	case werr = <-waited:
	case <-time.After(r.cfg.Deadline):
		res.hung = true
		cmd.Process.Signal(syscall.SIGQUIT) // a goroutine dump on stderr
		select {
		case werr = <-waited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			werr = <-waited
		}
	}
	res.took = time.Since(start)
	cancel()
	wg.Wait()
	res.landed = int(landed.Load())
	if res.hung {
		r.restartServer(ctx)
	}
	var ee *exec.ExitError
	switch {
	case werr == nil:
		res.code = 0
	case errors.As(werr, &ee):
		res.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.signaled = true
			if !killedByUs.Load() && !res.hung {
				res.panicked = fmt.Sprintf("died of signal %v", ws.Signal())
			}
		}
	default:
		res.code = -1
	}
	stderr.Sync()
	if b, err := os.ReadFile(stderr.Name()); err == nil {
		res.stderr = string(b)
	}
	if !res.hung {
		for _, marker := range []string{"panic: ", "fatal error: ", "WARNING: DATA RACE", "SIGSEGV"} {
			if strings.Contains(res.stderr, marker) {
				res.panicked = marker + firstLineWith(res.stderr, marker)
			}
		}
	}
	r.logf("  -> %s", res.summary())
	if res.hung {
		r.fail("hang", "%s did not end within %v (goroutine dump in %s.err); faults: %v", label, r.cfg.Deadline, base, f)
	}
	if res.panicked != "" {
		r.fail("panic", "%s: %s (see %s.err); faults: %v", label, res.panicked, base, f)
	}
	if err := checkIntegrity(r.state, filepath.Join(r.dir, "ic")); err != nil {
		r.fail("integrity", "after %s (exit %s, faults: %v): %v", label, res.status(), f, err)
	}
	r.lastRun = res.summary()
	clear(r.editedDown)
	return res
}

// restartServer starts the server again, trying a few times; a server
// that stays down fails the round (a harness failure, not ferry's).
func (r *round) restartServer(ctx context.Context) {
	var err error
	for try := 0; try < 5; try++ {
		if err = r.srv.Restart(context.WithoutCancel(ctx)); err == nil {
			return
		}
		r.logf("restart server: %v", err)
		time.Sleep(200 * time.Millisecond)
	}
	// Called from a strike's goroutine under srvMu (the run's other
	// strikes wait), or after them.
	r.fail("harness", "the server did not come back: %v", err)
}

func firstLineWith(s, marker string) string {
	i := strings.Index(s, marker)
	rest := s[i+len(marker):]
	if j := strings.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

var landedMu gosync.Mutex

func (r *round) countLanded(kind string, n *atomic.Int32) {
	landedMu.Lock()
	r.stats.Landed[kind]++
	landedMu.Unlock()
	n.Add(1)
}

// checkFinal checks the trees after ferry's first success against the
// trees it started from (L, R) and the synced base (nil: none).
func (r *round) checkFinal(L, R, base *tree) {
	r.poll.pass()
	if v, paths := r.poll.takeViolationPaths(); len(v) > 0 {
		r.fail("partial", "a real name showed what is not a whole version: %s", strings.Join(v, "; "))
		r.suspect(paths)
	}
	ls, rs, ok := r.snapshots()
	if !ok {
		return
	}
	if len(ls.temps)+len(rs.temps) > 0 {
		r.fail("leftover", "temporaries left after success: local %v, remote %v", ls.temps, rs.temps)
	}
	if len(ls.foreign)+len(rs.foreign) > 0 {
		r.stats.Notes = append(r.stats.Notes, fmt.Sprintf("foreign files left: local %v, remote %v", ls.foreign, rs.foreign))
	}
	lm, lbad := ls.model(r.reg)
	rm, rbad := rs.model(r.reg)
	if bad := append(lbad, rbad...); len(bad) > 0 {
		r.fail("partial", "at the end: %s", strings.Join(bad, "; "))
		var paths []string
		for p := range ls.files {
			if lm.files[p] == nil {
				paths = append(paths, p)
			}
		}
		for p := range rs.files {
			if rm.files[p] == nil {
				paths = append(paths, p)
			}
		}
		r.suspect(paths)
	}
	want := func(t *tree) *snapshot {
		s := &snapshot{files: map[string][32]byte{}, sizes: map[string]int64{}, dirs: map[string]bool{}}
		for p, v := range t.files {
			s.files[p], s.sizes[p] = v.sum, v.size
		}
		for d := range t.dirs {
			s.dirs[d] = true
		}
		return s
	}
	mirror := func(what, aName string, a *snapshot, bName string, b *snapshot) {
		if d, paths := diff(aName, a, bName, b, 10, r.reg); len(d) > 0 {
			r.fail("mirror", "%s: %s", what, strings.Join(d, "; "))
			r.suspect(paths)
		}
	}
	switch r.mode {
	case Push:
		mirror("the remote side is not the local one", "local", want(L), "remote", rs)
		mirror("push changed its source", "expected", want(L), "local", ls)
	case Pull:
		mirror("the local side is not the remote one", "remote", want(R), "local", ls)
		mirror("pull changed its source", "expected", want(R), "remote", rs)
	default:
		mirror("the two sides differ after a two-way sync", "local", ls, "remote", rs)
		if lost, paths := twoWayLosses(L, R, base, lm, r.superseded); len(lost) > 0 {
			r.fail("lost", "%s", strings.Join(lost, "; "))
			r.suspect(paths)
		}
	}
	for p, v := range lm.files {
		if o := origin(p); o != p {
			r.stats.Conflicts++
			if w := lm.files[o]; w != nil && w.sum == v.sum {
				r.stats.DupConflicts++ // the same bytes under both names
			}
		}
	}
}

// twoWayLosses checks a two-way result F against the sides it started
// from (L, R) and their last synced state (base; nil for none): every
// version changed or added on either side survives, at its path or as a
// conflict copy of it; a change on one side only wins the name; a delete
// against an unchanged file wins; an untouched file stays. A path edited
// while ferry was down may also hold one of the versions the edits
// replaced (superseded): a crash between an upload's rename and its mtime
// leaves it newer than the edit, and two-way keeps the newer.
func twoWayLosses(L, R, base, F *tree, superseded map[string][]*version) (out, lostPaths []string) {
	if base == nil {
		base = newTree()
	}
	paths := map[string]bool{}
	for _, t := range []*tree{L, R, base} {
		for p := range t.files {
			paths[p] = true
		}
	}
	// Versions kept under a conflict name, by the path they copy.
	copies := map[string][]*version{}
	for q, v := range F.files {
		if o := origin(q); o != q {
			copies[o] = append(copies[o], v)
		}
	}
	same := func(a, b *version) bool { return a != nil && b != nil && a.sum == b.sum }
	winner := func(p string, f, want *version) bool {
		if same(f, want) {
			return true
		}
		for _, v := range superseded[p] {
			if same(f, v) {
				return true
			}
		}
		return false
	}
	kept := func(p string, v *version) bool {
		if same(F.files[p], v) {
			return true
		}
		for _, c := range copies[p] {
			if same(c, v) {
				return true
			}
		}
		return false
	}
	for _, p := range sortedKeys(paths) {
		n := len(out)
		l, rv, b := L.files[p], R.files[p], base.files[p]
		lChanged, rChanged := l != nil && l != b, rv != nil && rv != b
		lDeleted, rDeleted := l == nil && b != nil, rv == nil && b != nil
		if lChanged && !kept(p, l) {
			out = append(out, fmt.Sprintf("local %s of %s lost", l, p))
		}
		if rChanged && !kept(p, rv) {
			out = append(out, fmt.Sprintf("remote %s of %s lost", rv, p))
		}
		isDir := F.dirs[p]
		f := F.files[p]
		switch {
		case isDir:
			// A file against a folder: the file went to a conflict name
			// (checked above) or gave way.
		case lChanged && !rChanged && !winner(p, f, l):
			out = append(out, fmt.Sprintf("%s: changed only locally (%s) but holds %v", p, l, f))
		case rChanged && !lChanged && !winner(p, f, rv):
			out = append(out, fmt.Sprintf("%s: changed only remotely (%s) but holds %v", p, rv, f))
		case lChanged && rChanged && !winner(p, f, l) && !winner(p, f, rv):
			out = append(out, fmt.Sprintf("%s: changed on both sides (%s, %s) but holds %v", p, l, rv, f))
		case !lChanged && !rChanged && (lDeleted || rDeleted) && f != nil:
			out = append(out, fmt.Sprintf("%s: deleted on one side, unchanged on the other, but holds %v", p, f))
		case !lChanged && !rChanged && !lDeleted && !rDeleted && b != nil && !same(f, b):
			out = append(out, fmt.Sprintf("%s: unchanged on both sides (%s) but holds %v", p, b, f))
		}
		if len(out) > n {
			lostPaths = append(lostPaths, p)
		}
	}
	return out, lostPaths
}

// suspect names the known cause of the last failure when every path it
// is about had a resumable leftover of an older version when ferry
// started again (see staleLeft), or was sent short behind a lying 226 by
// ftptestd's lie fault.
func (r *round) suspect(paths []string) {
	if len(paths) == 0 {
		return
	}
	lied := r.liedPaths()
	stale, lie := true, true
	for _, p := range paths {
		stale = stale && r.staleLeft[origin(p)]
		lie = lie && lied[origin(p)]
	}
	f := &r.failures[len(r.failures)-1]
	switch {
	case stale:
		f.Suspect = SuspectStaleResume
	case lie:
		f.Suspect = SuspectShortRetr
	default:
		return
	}
	r.logf("  suspect: %s", f.Suspect)
}

// lieLine is how ftptestd logs a lie fault.
var lieLine = regexp.MustCompile(`^lie session [0-9]+ (.*): [0-9]+ of [0-9]+ bytes`)

// liedPaths returns the round's paths whose RETR ftptestd cut short with
// a lying 226.
func (r *round) liedPaths() map[string]bool {
	m := map[string]bool{}
	prefix := "/" + r.remoteDir + "/"
	for _, l := range r.srv.FaultLog() {
		if sm := lieLine.FindStringSubmatch(l); sm != nil && strings.HasPrefix(sm[1], prefix) {
			m[strings.TrimPrefix(sm[1], prefix)] = true
		}
	}
	return m
}

// SuspectShortRetr is a known ferry weakness (issue 10 report): a
// download the server ends early with a clean close and 226 is taken as
// the whole file (its size is not compared with the listing's).
const SuspectShortRetr = "short-retr: a download cut short behind a 226 was renamed into place (sync/transfer.go takes the bytes received as the file's size)"

// SuspectStaleResume is a known ferry bug (issue 10 report): a leftover
// temporary of at least 1 MiB is resumed when its last 64 KiB match the
// new source, even if the file was edited before that point since the
// leftover was written; the result is renamed into place and recorded.
const SuspectStaleResume = "stale-resume: a resumable leftover of an older version was resumed (sync/resume.go compares only its last 64 KiB)"
