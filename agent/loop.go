package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"time"

	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// Timings of the job loop.
const (
	// degradedEvery is how often a job whose watcher is degraded, and
	// that has no schedule, gets a full run.
	degradedEvery = 5 * time.Minute
	// pausedEvery is how often a paused job (local folder missing or
	// replaced) looks whether its folder is back.
	pausedEvery = 30 * time.Second
	// Failed runs (server down, login refused) are retried after a
	// backoff that doubles from retryMin up to retryMax.
	retryMin = 5 * time.Second
	retryMax = 5 * time.Minute
)

// request is one run to make: a full run, or the changed paths of a
// watch. Requests coalesce: several become one run.
type request struct {
	full     bool
	paths    map[string]bool
	trigger  string          // of the first trigger that asked
	triggers map[string]bool // every trigger that asked
}

func (r *request) any() bool { return r.full || len(r.paths) > 0 }

func (r *request) add(trigger string, full bool, paths []string) {
	if !r.any() {
		r.trigger = trigger
	}
	if full {
		r.full = true
	}
	if r.triggers == nil {
		r.triggers = map[string]bool{}
	}
	if full || len(paths) > 0 {
		r.triggers[trigger] = true
	}
	if r.paths == nil {
		r.paths = map[string]bool{}
	}
	for _, p := range paths {
		r.paths[p] = true
	}
}

// merge adds what other asks for to r.
func (r *request) merge(other request) {
	if !other.any() {
		return
	}
	ps := make([]string, 0, len(other.paths))
	for p := range other.paths {
		ps = append(ps, p)
	}
	r.add(other.trigger, other.full, ps)
	for t := range other.triggers {
		r.triggers[t] = true
	}
}

// jobLoop is one job's goroutine: it owns the job's triggers and runs,
// one at a time. Triggers that arrive during a run wait in their
// channels (a fired timer, a 1-buffered channel, the watcher's set) and
// become one follow-up run.
type jobLoop struct {
	a      *Agent
	jc     *JobConfig
	watch  *watcher         // nil: not watching
	manual chan struct{}    // 1-buffered: "run now"
	stop   chan struct{}    // closed: end after the current run (reload)
	done   chan struct{}    // closed when the loop has ended
	clock  func() time.Time // the loop's clock (tests: synctest's)
	after  func(time.Duration) <-chan time.Time
	failed int  // consecutive failed runs, for the backoff
	paused bool // the local folder looked missing or replaced
}

func newJobLoop(a *Agent, jc *JobConfig) *jobLoop {
	return &jobLoop{
		a: a, jc: jc, manual: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		clock: time.Now, after: time.After,
	}
}

// runNow asks for a full run (coalesced with any pending one).
func (l *jobLoop) runNow() {
	select {
	case l.manual <- struct{}{}:
	default:
	}
	l.a.reg.queue(l.name(), job.TriggerManual)
}

// showQueued tells the registry which triggers wait for the next run:
// those in pending and a "run now" not yet taken from its channel.
func (l *jobLoop) showQueued(pending request) {
	var ts []string
	if pending.any() {
		for t := range pending.triggers {
			ts = append(ts, t)
		}
	}
	if len(l.manual) > 0 && !(pending.any() && pending.triggers[job.TriggerManual]) {
		ts = append(ts, job.TriggerManual)
	}
	l.a.reg.setQueued(l.name(), ts)
}

func (l *jobLoop) name() string { return l.jc.Name() }

// loop runs until ctx ends (the agent stops) or stop is closed (the job is
// replaced or removed), each time after the current run.
func (l *jobLoop) loop(ctx context.Context) {
	defer close(l.done)
	reg := l.a.reg
	j := l.jc.Job
	reg.update(l.name(), func(s *JobStatus) {
		s.Mode, s.Local, s.Remote, s.Schedule = j.Mode.String(), j.Local, j.Remote.Redacted, l.jc.File.Schedule
		s.Watch, s.WatchWhy, s.Problem, s.NextRun, s.RetryAt = WatchOff, "", "", time.Time{}, time.Time{}
	})
	reg.seed(l.name(), j.Local, j.Remote.Redacted)
	var watchReady <-chan struct{}
	if l.jc.Watch {
		if err := l.startWatch(); err != nil {
			l.a.log.Warn("watching failed: full runs on the schedule instead", "job", l.name(), "err", err)
			reg.update(l.name(), func(s *JobStatus) { s.Watch, s.WatchWhy = WatchDegraded, err.Error() })
		} else {
			defer l.watch.close()
			watchReady = l.watch.ready
		}
	}

	pending := request{}
	pending.add(job.TriggerStartup, true, nil)
	var (
		schedC <-chan time.Time // the next scheduled run
		retryC <-chan time.Time // a failed run's retry, or a paused job's look
		retry  request          // what the retry runs
		setupC <-chan struct{}  // the watcher's initial watches are in place
	)
	if l.watch != nil {
		setupC = l.watch.setup
	}
	armSchedule := func() {
		schedC = nil
		next := time.Time{}
		if l.jc.Schedule != nil {
			next = l.jc.Schedule.Next(l.clock())
		} else if l.degraded() {
			next = l.clock().Add(degradedEvery)
		}
		if !next.IsZero() {
			schedC = l.after(next.Sub(l.clock()))
		}
		reg.update(l.name(), func(s *JobStatus) { s.NextRun = next })
	}
	armSchedule()

	// What each trigger does to pending; the same whether it was ready
	// already or waited for.
	onSchedule := func() {
		pending.add(job.TriggerSchedule, true, nil)
		armSchedule()
	}
	onManual := func() { pending.add(job.TriggerManual, true, nil) }
	onWatch := func() {
		if l.takeChanges(&pending) {
			armSchedule()
		}
	}
	onSetup := func() {
		setupC = nil
		l.watchSetupDone(&pending)
		armSchedule()
	}
	onRetry := func() {
		retryC = nil
		pending.merge(retry)
		retry = request{}
		reg.live(l.name(), func(s *JobStatus) { s.RetryAt = time.Time{} })
	}

	for {
		// Gather every trigger that is ready, without waiting.
	gather:
		for {
			select {
			case <-schedC:
				onSchedule()
			case <-l.manual:
				onManual()
			case <-watchReady:
				onWatch()
			case <-setupC:
				onSetup()
			case <-retryC:
				onRetry()
			default:
				break gather
			}
		}
		l.showQueued(pending)
		if pending.any() && ctx.Err() == nil && !l.stopping() {
			req := pending
			pending = request{}
			outcome := l.run(ctx, req)
			switch {
			case outcome.retry:
				retry.merge(req)
				retryC = l.after(outcome.wait)
			case outcome.retryPaths != nil:
				r := request{}
				r.add(job.TriggerWatch, false, outcome.retryPaths)
				retry.merge(r)
				retryC = l.after(outcome.wait)
			}
			if outcome.retry || outcome.retryPaths != nil {
				at := l.clock().Add(outcome.wait)
				reg.live(l.name(), func(s *JobStatus) { s.RetryAt = at })
			}
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-l.stop:
			return
		case <-schedC:
			onSchedule()
		case <-l.manual:
			onManual()
		case <-watchReady:
			onWatch()
		case <-setupC:
			onSetup()
		case <-retryC:
			onRetry()
		}
	}
}

func (l *jobLoop) stopping() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *jobLoop) degraded() bool {
	st, ok := l.a.reg.Get(l.name())
	return ok && st.Watch == WatchDegraded
}

// startWatch starts the job's watcher. Ferry's own files in the tree (the
// state cache, its write-ahead log, the agent's lock) never trigger a run.
func (l *jobLoop) startWatch() error {
	statePath := l.a.state
	own := func(rel string) bool {
		abs := filepath.Join(l.jc.Job.Local, filepath.FromSlash(rel))
		switch abs {
		case statePath, statePath + "-wal", statePath + "-shm", statePath + "-journal", statePath + ".agent.lock":
			return true
		}
		return false
	}
	w, err := newWatcher(l.jc.Job.Local, l.jc.Job.Exclude, own, l.jc.Debounce)
	if err != nil {
		return err
	}
	l.watch = w
	w.notify = func() { l.a.reg.queue(l.name(), job.TriggerWatch) }
	w.start()
	l.a.reg.update(l.name(), func(s *JobStatus) { s.Watch, s.WatchWhy = WatchStarting, "" })
	return nil
}

// watchSetupDone notes that the initial watches are in place. Changes made
// in a folder after the start-up run scanned it and before its watch
// existed would be missed: when the start-up run began before the watches
// were complete, one more full run catches them.
func (l *jobLoop) watchSetupDone(pending *request) {
	state, why := l.watch.state()
	l.a.reg.update(l.name(), func(s *JobStatus) { s.Watch, s.WatchWhy = state, why })
	folders, took := l.watch.watching()
	l.a.log.Info("watching", "job", l.name(), "folders", folders, "took", took.Round(time.Millisecond))
	if state == WatchDegraded {
		l.a.log.Warn("watching degraded: full runs on the schedule instead", "job", l.name(), "why", why)
	}
	if st, ok := l.a.reg.Get(l.name()); ok && (st.Runs > 0 || st.Running) {
		pending.add(job.TriggerStartup, true, nil)
	}
}

// takeChanges moves the watcher's collected paths into pending; lost
// events (or a degraded watcher) make it a full run. It reports whether
// the watcher's state changed (the schedule then changes too: a degraded
// watcher without a schedule gets periodic full runs).
func (l *jobLoop) takeChanges(pending *request) (changed bool) {
	paths, lost := l.watch.take()
	state, why := l.watch.state()
	if st, ok := l.a.reg.Get(l.name()); ok && st.Watch != state {
		if state == WatchDegraded {
			l.a.log.Warn("watching degraded: full runs on the schedule instead", "job", l.name(), "why", why)
		}
		l.a.reg.update(l.name(), func(s *JobStatus) { s.Watch, s.WatchWhy = state, why })
		changed = true
	}
	if lost {
		pending.add(job.TriggerWatch, true, nil)
	} else if len(paths) > 0 {
		pending.add(job.TriggerWatch, false, paths)
	}
	return changed
}

// outcome says what follows a run: a retry of the same request after
// wait, a retry of just some paths, or nothing.
type outcome struct {
	retry      bool
	retryPaths []string
	wait       time.Duration
}

// run makes one run of req and records it.
func (l *jobLoop) run(ctx context.Context, req request) outcome {
	reg := l.a.reg
	if l.paused && !folderBack(l.jc.Job.Local) {
		return outcome{retry: true, wait: pausedEvery}
	}
	var paths []string
	if !req.full {
		paths = make([]string, 0, len(req.paths))
		for p := range req.paths {
			paths = append(paths, p)
		}
	}
	started := l.clock()
	reg.runStarted(l.name(), req.trigger, started)
	if len(l.manual) > 0 {
		// A "run now" since the triggers were gathered: the follow-up.
		reg.queue(l.name(), job.TriggerManual)
	}
	rep := &loopReporter{watch: l.watch, reg: reg, job: l.name(), clock: l.clock}
	res, err := l.a.runner.Run(ctx, l.jc, Run{Trigger: req.trigger, Paths: paths, Drain: l.a.drain, Reporter: rep})
	ended := l.clock()
	l.record(req, started, ended, res, err)
	l.logRun(req, res, err, ended.Sub(started))
	if req.full {
		// A full run of a big tree held the whole state and both scans in
		// memory; an agent then idles for hours. Give the memory back.
		debug.FreeOSMemory()
	}

	switch {
	case err == nil:
		l.recovered()
		return outcome{}
	case errors.Is(err, context.Canceled) || errors.Is(err, ferrysync.ErrDrained):
		return outcome{}
	case errors.Is(err, job.ErrIncomplete) && !errors.Is(err, job.ErrActionsFailed):
		// Something could not be seen (a folder unknown, a name refused):
		// the run did what it could; the problem is recorded with it.
		l.recovered()
		return outcome{}
	case errors.Is(err, job.ErrActionsFailed):
		l.recovered()
		// A watch run's failed paths are tried again (the change would
		// otherwise wait for the next schedule, or forever).
		var again []string
		if res != nil && !req.full {
			for _, f := range res.Failed {
				again = append(again, f.Action.Path)
			}
		}
		if len(again) > 0 {
			return outcome{retryPaths: again, wait: retryMin}
		}
		return outcome{}
	case errors.Is(err, ferrysync.ErrRootVanished):
		l.paused = true
		l.problem("paused: " + err.Error() + "; resumes by itself when the folder is back")
		return outcome{retry: true, wait: pausedEvery}
	default:
		var tm *plan.TooManyDeletesError
		if errors.As(err, &tm) {
			// Refused by a guard: a person must look; the next trigger
			// tries again.
			l.problem("refused: " + err.Error())
			return outcome{}
		}
		l.failed++
		wait := retryMin << min(l.failed-1, 10)
		if wait > retryMax {
			wait = retryMax
		}
		l.problem("failing: " + err.Error())
		return outcome{retry: true, wait: wait}
	}
}

// record puts a finished run into the registry: its summary, its counts
// and, when the run failed as a whole, its error (failed actions and
// problems came through the reporter one by one).
func (l *jobLoop) record(req request, started, ended time.Time, res *ferrysync.Result, err error) {
	rr := runResult(res, err, ended)
	l.a.reg.runEnded(l.name(), RunSummary{
		Started: started, Duration: ended.Sub(started), Trigger: req.trigger, Result: rr.Result,
		FilesUp: rr.FilesUp, FilesDown: rr.FilesDown, FilesDeleted: rr.FilesDeleted, BytesUp: rr.BytesUp, BytesDown: rr.BytesDown,
		Conflicts: rr.Conflicts, Errors: rr.Errors, Error: rr.ErrorText,
	})
	if err != nil && !errors.Is(err, job.ErrActionsFailed) && !errors.Is(err, job.ErrIncomplete) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, ferrysync.ErrDrained) {
		l.a.reg.addError(l.name(), ended, err.Error())
	}
}

// runResult is how a run that returned res and err ended, as the run
// history records it: failed actions and problems make it partial, not
// failed (job.Job.Run wraps them into its error; the history is written
// from the sync error alone).
func runResult(res *ferrysync.Result, err error, ended time.Time) state.RunResult {
	if res != nil && (errors.Is(err, job.ErrActionsFailed) || errors.Is(err, job.ErrIncomplete)) {
		err = nil
	}
	return job.RunResult(res, err, ended)
}

// problem records (and logs, once per change) why the job is not fine.
func (l *jobLoop) problem(why string) {
	st, _ := l.a.reg.Get(l.name())
	if st.Problem == why {
		return
	}
	l.a.log.Warn("job not in step", "job", l.name(), "problem", why)
	l.a.reg.update(l.name(), func(s *JobStatus) { s.Problem = why })
}

// recovered clears a recorded problem (and logs it once).
func (l *jobLoop) recovered() {
	l.failed, l.paused = 0, false
	if st, _ := l.a.reg.Get(l.name()); st.Problem != "" {
		l.a.log.Info("job back in step", "job", l.name(), "was", st.Problem)
		l.a.reg.update(l.name(), func(s *JobStatus) { s.Problem = "" })
	}
}

func (l *jobLoop) logRun(req request, res *ferrysync.Result, err error, d time.Duration) {
	attrs := []any{"job", l.name(), "trigger", req.trigger, "duration", d.Round(time.Millisecond)}
	if !req.full {
		attrs = append(attrs, "paths", len(req.paths))
	}
	if res != nil {
		attrs = append(attrs, "change_only", res.ChangeOnly, "up", res.FilesUp, "down", res.FilesDown, "deleted", res.Deleted,
			"bytes_up", res.BytesUp, "bytes_down", res.BytesDown, "conflicts", res.Conflicts, "errors", len(res.Failed))
	}
	rr := runResult(res, err, time.Now())
	attrs = append(attrs, "result", rr.Result)
	if err != nil {
		attrs = append(attrs, "err", err.Error())
		l.a.log.Warn("run", attrs...)
		return
	}
	l.a.log.Info("run", attrs...)
}

// loopReporter passes a run's events on: it shows the transfers in
// flight and the errors in the registry, and marks what the run itself
// wrote into the watched tree, so those writes do not trigger a run. Its
// methods are called concurrently (one transfer per worker).
type loopReporter struct {
	ferrysync.NopReporter
	watch *watcher // nil: not watching
	reg   *Registry
	job   string
	clock func() time.Time
}

func isTransfer(a plan.Action) bool { return a.Op == plan.Upload || a.Op == plan.Download }

func (r *loopReporter) Started(a plan.Action) {
	if !isTransfer(a) {
		return
	}
	size := a.Local.Size
	if a.Op == plan.Download {
		size = a.Remote.Size
	}
	r.reg.transferStarted(r.job, Transfer{Op: a.Op.String(), Path: a.Path, Size: size, Started: r.clock()})
}

func (r *loopReporter) Progress(a plan.Action, bytes int64) {
	if isTransfer(a) {
		r.reg.transferProgress(r.job, a.Op.String(), a.Path, bytes)
	}
}

func (r *loopReporter) Problem(err error) {
	r.reg.addError(r.job, r.clock(), err.Error())
}

func (r *loopReporter) Done(a plan.Action, _ int64, err error) {
	if isTransfer(a) {
		r.reg.transferDone(r.job, a.Op.String(), a.Path)
	}
	if err != nil {
		r.reg.addError(r.job, r.clock(), ferrysync.ActionError{Action: a, Err: err}.Error())
	}
	if r.watch == nil || err != nil {
		return
	}
	switch a.Op {
	case plan.Download, plan.MkdirLocal, plan.DeleteLocal:
		r.watch.markSelf(a.Path)
	case plan.RenameLocal:
		r.watch.markSelf(a.Path)
		r.watch.markSelf(a.To)
	}
}

// folderBack reports whether a paused job's folder is there and not
// empty, cheaply, before a run is tried.
func folderBack(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) > 0
}
