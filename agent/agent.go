// Package agent runs ferry's jobs in the background: each job on its
// triggers (a full run at start-up, a cron schedule, and the changed
// paths a filesystem watcher saw), one run at a time per job, with
// coalescing, backoff, pausing, reload and a clean stop. One run is
// carried out by package job, as for the command line.
package agent

import (
	"context"
	"log/slog"
	"reflect"
	gosync "sync"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// Run describes one run the agent asks its Runner for.
type Run struct {
	Trigger string   // job.TriggerStartup, TriggerWatch, ...
	Paths   []string // changed paths of a watch run; nil: a full run
	// Drain is closed when the agent stops: start no more transfers.
	Drain    <-chan struct{}
	Reporter ferrysync.Reporter
}

// Runner carries out one run of a job. It is called from the job's own
// goroutine, never twice at once for one job, and concurrently for
// different jobs. A result is returned whenever a plan was made; the
// error is what job.Job.Run returns.
type Runner interface {
	Run(ctx context.Context, jc *JobConfig, r Run) (*ferrysync.Result, error)
}

// Agent runs the jobs of a configuration.
type Agent struct {
	cfg    *Config
	runner Runner
	reg    *Registry
	log    *slog.Logger
	drain  chan struct{}    // closed when stopping: runs start no more transfers
	state  string           // the state cache path (fixed until restart)
	wg     gosync.WaitGroup // every job loop, also those being replaced

	mu       gosync.Mutex
	loops    map[string]*jobLoop
	pending  map[string]*JobConfig // jobs waiting for their old loop to end
	ctx      context.Context       // the runs' context, set by Run
	stopping bool
}

// New returns an agent for cfg that runs jobs with runner and keeps their
// status in reg.
func New(cfg *Config, runner Runner, reg *Registry, log *slog.Logger) *Agent {
	return &Agent{cfg: cfg, runner: runner, reg: reg, log: log, drain: make(chan struct{}), state: cfg.State, loops: map[string]*jobLoop{}, pending: map[string]*JobConfig{}}
}

// Registry is where the agent keeps its jobs' status.
func (a *Agent) Registry() *Registry { return a.reg }

// Run starts every job and returns when ctx ends and the jobs have
// stopped: runs in flight start no more transfers, transfers in flight
// get the configuration's grace period to finish, then are cancelled
// (leaving resumable temporaries). Records are saved either way.
func (a *Agent) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	a.mu.Lock()
	a.ctx = runCtx
	names := make([]string, 0, len(a.cfg.Jobs))
	for _, jc := range a.cfg.Jobs {
		a.startLocked(jc)
		names = append(names, jc.Name())
	}
	a.mu.Unlock()
	a.reg.keep(names)
	a.log.Info("agent started", "jobs", len(names), "state", a.cfg.State)

	<-ctx.Done()
	a.mu.Lock()
	a.stopping = true
	grace := a.cfg.Grace
	for _, l := range a.loops {
		close(l.stop)
	}
	a.loops = map[string]*jobLoop{}
	a.mu.Unlock()
	a.log.Info("stopping: no new transfers", "grace", grace)
	close(a.drain)
	all := make(chan struct{})
	go func() {
		a.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(grace):
		a.log.Warn("grace period over: cancelling the transfers still in flight (their temporaries are resumed next time)")
		cancel()
		<-all
	}
	a.log.Info("agent stopped")
	return nil
}

// startLocked starts jc's loop. Called with a.mu held.
func (a *Agent) startLocked(jc *JobConfig) {
	l := newJobLoop(a, jc)
	a.loops[jc.Name()] = l
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		l.loop(a.ctx)
	}()
}

// RunNow asks job name for a full run now; false if there is no such job.
func (a *Agent) RunNow(name string) bool {
	a.mu.Lock()
	l, ok := a.loops[name]
	a.mu.Unlock()
	if ok {
		l.runNow()
	}
	return ok
}

// Reload applies a new configuration: unchanged jobs go on undisturbed,
// changed ones are replaced after their current run, removed ones stop
// after theirs, new ones start. The state cache path and the log settings
// take a restart; Reload keeps the old ones and says so.
func (a *Agent) Reload(cfg *Config) {
	if cfg.State != a.cfg.State {
		a.log.Warn("reload: the state cache path changes only on restart; keeping the old one", "state", a.cfg.State)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ctx == nil || a.stopping {
		return
	}
	want := map[string]*JobConfig{}
	names := make([]string, 0, len(cfg.Jobs))
	for _, jc := range cfg.Jobs {
		want[jc.Name()] = jc
		names = append(names, jc.Name())
	}
	var changed, added, removed []string
	for name, l := range a.loops {
		jc, ok := want[name]
		if ok && reflect.DeepEqual(jc.File, l.jc.File) {
			continue
		}
		// The old loop ends after its current run; the new one starts
		// then, so the job never runs twice at once.
		close(l.stop)
		delete(a.loops, name)
		if !ok {
			removed = append(removed, name)
			go func() {
				<-l.done
				a.reg.remove(name)
			}()
			continue
		}
		changed = append(changed, name)
		a.pending[name] = jc
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			<-l.done
			a.mu.Lock()
			defer a.mu.Unlock()
			next := a.pending[name]
			delete(a.pending, name)
			if next != nil && !a.stopping {
				a.startLocked(next)
			}
		}()
	}
	for name := range a.pending {
		if jc, ok := want[name]; ok {
			a.pending[name] = jc // the latest version starts
		} else {
			a.pending[name] = nil
			removed = append(removed, name)
		}
	}
	for _, jc := range cfg.Jobs {
		_, running := a.loops[jc.Name()]
		_, waiting := a.pending[jc.Name()]
		if running || waiting {
			continue
		}
		added = append(added, jc.Name())
		a.startLocked(jc)
	}
	a.cfg = &Config{Path: cfg.Path, State: a.cfg.State, Log: a.cfg.Log, HTTP: cfg.HTTP, Grace: cfg.Grace, Jobs: cfg.Jobs}
	a.reg.keep(names)
	a.log.Info("configuration reloaded", "changed", changed, "added", added, "removed", removed)
}
