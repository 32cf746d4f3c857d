package sync

import (
	"context"
	"fmt"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// lane is what one transfer worker (parallelDo) keeps between its actions:
// the uploads whose temporaries are on the server and size-checked but not
// yet renamed into place, and the connection they wait on.
//
// Their commits (commitLines: time, RNFR, RNTO) go out in the write the
// worker's next upload sends anyway, after its 226: with that upload's
// SIZE and the next EPSV, so a commit costs no round trip of its own and a
// small file's push costs two waits instead of three (see upload). Each
// such write takes every commit waiting, so at most one upload waits per
// lane: a file appears one upload after its own, and never later than
// that upload's STOR once it has waited commitDelay. Before any other use
// of the connection (conn) and before a big upload, the waiting commits go
// out first in a write of their own (one wait), and a worker that runs
// out of work sends its last ones (closeLane).
//
// A run killed while commits wait leaves their temporaries and has
// recorded nothing for them: the next run's listing finds the temporaries
// and resumes or removes them (cleanTemps), as for any interrupted upload.
type lane struct {
	c       *ftp.Conn // kept between actions while commits wait; nil: none
	pending []*upCommit
	since   time.Time // when the oldest of pending was queued
	buf     []byte    // small uploads are read into it
}

// commitDelay is how long a commit may wait for the next upload's write
// before it goes out on its own.
const commitDelay = 200 * time.Millisecond

type laneKey struct{}

func withLane(ctx context.Context, l *lane) context.Context {
	return context.WithValue(ctx, laneKey{}, l)
}

// laneOf returns the lane of ctx's worker, or nil (serial phases).
func laneOf(ctx context.Context) *lane {
	l, _ := ctx.Value(laneKey{}).(*lane)
	return l
}

// waiting reports whether commits wait in l (false for a nil lane).
func (l *lane) waiting() bool { return l != nil && len(l.pending) > 0 }

// waitedLong reports whether l's oldest commit waited commitDelay.
func (l *lane) waitedLong() bool { return time.Since(l.since) >= commitDelay }

func (l *lane) add(u *upCommit) {
	if len(l.pending) == 0 {
		l.since = time.Now()
	}
	l.pending = append(l.pending, u)
}

// buffer returns n bytes (at most ftp.SmallUpload) to read a small upload
// into: the lane's own, or fresh ones without a lane.
func (l *lane) buffer(n int) []byte {
	if l == nil {
		return make([]byte, n)
	}
	if l.buf == nil {
		l.buf = make([]byte, ftp.SmallUpload)
	}
	return l.buf[:n]
}

// takeConn returns the lane's connection (taking it from the lane) or one
// from the pool. Commits waiting in l stay waiting: the caller sends them.
func (e *executor) takeConn(ctx context.Context, l *lane) (*ftp.Conn, error) {
	if l != nil && l.c != nil {
		c := l.c
		l.c = nil
		return c, nil
	}
	return e.pool.Get(ctx)
}

// conn returns a connection for one action that is not an upload: the
// lane's, once the commits waiting in it went out (one wait), or one from
// the pool.
func (e *executor) conn(ctx context.Context) (*ftp.Conn, error) {
	l := laneOf(ctx)
	c, err := e.takeConn(ctx, l)
	if err != nil {
		return nil, err
	}
	if l.waiting() {
		if _, err := e.commitLane(ctx, c, l, ""); err != nil && c.Broken() {
			e.pool.Put(c)
			return e.pool.Get(ctx)
		}
	}
	return c, nil
}

// release gives back a connection taken with conn or takeConn: the lane
// keeps it while commits wait, else it goes back to the pool.
func (e *executor) release(ctx context.Context, c *ftp.Conn) {
	if l := laneOf(ctx); l.waiting() && !c.Broken() {
		l.c = c
		return
	}
	e.pool.Put(c)
}

// commitLane sends in one write: first (when not empty: the SIZE of the
// upload just sent), the commitLines of every upload waiting in l, and
// (with prefetch) the next EPSV. It finishes those uploads, reporting and
// recording each (settleCommit does step by step what the write did not),
// and returns the reply to first. The error is the connection's; uploads
// whose replies it cut off failed with it.
func (e *executor) commitLane(ctx context.Context, c *ftp.Conn, l *lane, first string) (*ftp.Reply, error) {
	var items []*upCommit
	if l != nil {
		items, l.pending = l.pending, nil
	}
	var lines []string
	if first != "" {
		lines = append(lines, first)
	}
	groups := make([][]string, len(items))
	for i, u := range items {
		// nil when the way of setting times was forgotten since u was
		// queued (a refused one, probed again): settled step by step.
		groups[i] = e.commitLines(u)
		lines = append(lines, groups[i]...)
	}
	if len(lines) == 0 {
		return nil, nil
	}
	// The uploads are on the server: their commits are finished even if
	// ctx is cancelled now, as in upload.
	wctx := context.WithoutCancel(ctx)
	reps, err := c.Batch(wctx, lines...)
	var firstRep *ftp.Reply
	if first != "" && len(reps) > 0 {
		firstRep, reps = reps[0], reps[1:]
	}
	for i, u := range items {
		n := len(groups[i])
		if len(reps) < n {
			// Cut off with the connection: whether the rename happened
			// is unknown. Nothing is recorded; the next run finds the
			// temporary or the file in place.
			e.commitDone(u, plan.Meta{}, fmt.Errorf("renaming %s into place: %w", u.tmp, err))
			reps = nil
			continue
		}
		remote, serr := e.settleCommit(wctx, c, u, groups[i], reps[:n])
		reps = reps[n:]
		e.commitDone(u, remote, serr)
	}
	if firstRep == nil && first != "" {
		return nil, err
	}
	return firstRep, nil
}

// commitDone reports and records the outcome of u's deferred commit.
func (e *executor) commitDone(u *upCommit, remote plan.Meta, err error) {
	if err != nil {
		e.finish(u.a, plan.Record{}, u.n, fmt.Errorf("%s %s: %w", u.a.Op, u.a.Path, err))
		return
	}
	e.finish(u.a, plan.Record{Kind: plan.File, Local: u.local, Remote: remote}, u.n, nil)
}

// closeLane sends the commits still waiting in l when its worker has no
// more work (also when ctx was cancelled, on the connection the lane
// kept), then gives the connection back. Commits that cannot go out (no
// connection left to a cancelled run) fail: their temporaries stay for the
// next run.
func (e *executor) closeLane(ctx context.Context, l *lane) {
	if l.waiting() {
		c := l.c
		l.c = nil
		err := ctx.Err()
		if c == nil && err == nil {
			c, err = e.pool.Get(ctx)
		}
		if c == nil {
			for _, u := range l.pending {
				e.commitDone(u, plan.Meta{}, fmt.Errorf("not renamed into place (its temporary is left for the next run): %w", err))
			}
			l.pending = nil
		} else {
			c.SetPrefetch(false) // no transfer follows on this worker
			e.commitLane(ctx, c, l, "")
			l.c = c
		}
	}
	if l.c != nil {
		e.pool.Put(l.c)
		l.c = nil
	}
}
