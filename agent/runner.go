package agent

import (
	"context"
	"crypto/sha256"
	"fmt"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
)

// poolLinger is how long a server's idle connections are kept after its
// last run: a watch run soon after reuses them (no login on the path from
// a write to its upload); a quiet job does not hold a server's connection
// slots for hours.
const poolLinger = time.Minute

// JobRunner is the agent's Runner: it runs jobs through job.Job.Run on one
// open state cache, with one connection pool per server, user and
// connection settings shared by the jobs that match (servers cap
// connections per user, so those jobs share one budget: the largest
// parallel among them).
type JobRunner struct {
	db *state.DB

	mu    gosync.Mutex
	pools map[string]*sharedPool
	runs  int // since start, for pruning the run history now and then
}

// keepRuns is how many runs of each job the run history keeps.
const keepRuns = 1000

type sharedPool struct {
	pool   *ftp.Pool
	max    int
	active int
	linger *time.Timer
}

// NewJobRunner returns a runner on the open state cache db.
func NewJobRunner(db *state.DB) *JobRunner {
	return &JobRunner{db: db, pools: map[string]*sharedPool{}}
}

var _ Runner = (*JobRunner)(nil)

// poolKey groups the jobs that may share connections: same server, user
// and password, and the same TLS and data connection settings.
func poolKey(j *job.Job) string {
	c := j.Remote.Config
	pw := sha256.Sum256([]byte(c.Password))
	return fmt.Sprintf("%s|%s|%x|%d|%v|%s|%v|%v", c.Addr, c.User, pw[:8], c.TLS, j.Insecure, j.CAFile, j.Active, j.Timeout)
}

// Size sets each pool's budget from the configuration's jobs: the largest
// parallel among the jobs that share it.
func (r *JobRunner) Size(cfg *Config) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, jc := range cfg.Jobs {
		k := poolKey(jc.Job)
		sp := r.pools[k]
		if sp == nil {
			sp = &sharedPool{}
			r.pools[k] = sp
		}
		sp.max = max(sp.max, jc.Job.Parallel)
	}
}

func (r *JobRunner) acquire(j *job.Job) (*ftp.Pool, func()) {
	k := poolKey(j)
	r.mu.Lock()
	defer r.mu.Unlock()
	sp := r.pools[k]
	if sp == nil {
		sp = &sharedPool{max: j.Parallel}
		r.pools[k] = sp
	}
	if sp.linger != nil {
		sp.linger.Stop()
		sp.linger = nil
	}
	if sp.pool == nil {
		sp.pool = ftp.NewPool(j.Remote.Config, max(sp.max, j.Parallel))
	}
	sp.active++
	pool := sp.pool
	return pool, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		sp.active--
		if sp.active == 0 && sp.pool == pool {
			sp.linger = time.AfterFunc(poolLinger, func() {
				r.mu.Lock()
				defer r.mu.Unlock()
				if sp.active == 0 && sp.pool == pool {
					pool.Close()
					sp.pool, sp.linger = nil, nil
				}
			})
		}
	}
}

// Run runs jc once.
func (r *JobRunner) Run(ctx context.Context, jc *JobConfig, run Run) (*ferrysync.Result, error) {
	pool, release := r.acquire(jc.Job)
	defer release()
	res, err := jc.Job.Run(ctx, job.Env{
		DB: r.db, Pool: pool, Reporter: run.Reporter, Trigger: run.Trigger, Paths: run.Paths, Drain: run.Drain,
	})
	r.mu.Lock()
	r.runs++
	prune := r.runs%100 == 1
	r.mu.Unlock()
	if prune {
		// A watching agent makes many runs: keep the history bounded.
		r.db.PruneRuns(context.WithoutCancel(ctx), keepRuns)
	}
	return res, err
}

// Close closes every pool.
func (r *JobRunner) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sp := range r.pools {
		if sp.linger != nil {
			sp.linger.Stop()
		}
		if sp.pool != nil {
			sp.pool.Close()
			sp.pool = nil
		}
	}
}
