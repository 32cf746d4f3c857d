package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

// TestStalledTransferFailsWithinTimeout: a server that stops responding
// in the middle of a transfer (data connection open and silent, no final
// reply) must cost the run about one timeout: the transfer fails saying it
// stalled, the other files are transferred, and the run ends. It used to
// be retried twice more, each try a whole timeout of silence, and to fail
// as a bare i/o timeout.
func TestStalledTransferFailsWithinTimeout(t *testing.T) {
	const timeout = time.Second
	tests := []struct {
		name string
		mode ferrysync.Mode
		// stuckCmd is the transfer command of stuck.bin the server stalls.
		stuckCmd, stuckArg string
	}{
		{"download: server stops sending", ferrysync.Pull, "RETR", "/site/stuck.bin"},
		{"upload: server stops reading and replying", ferrysync.Push, "STOR", "/site/.stuck.bin.ferry-tmp"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != tc.stuckCmd || arg != tc.stuckArg {
					return false
				}
				s.OpenDataThenStall([]byte(strings.Repeat("x", 1000)))
				return true
			}})
			tg.cfg.Timeout = timeout
			tree := []node{
				{Path: "stuck.bin", Data: []byte(strings.Repeat("s", 64<<10)), MTime: baseTime},
				{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
				{Path: "b/c.txt", Data: []byte("c"), MTime: baseTime},
			}
			j := newJob(t, tg, "/site")
			dst := j.remoteDisk()
			if tc.mode == ferrysync.Pull {
				tg.seed(t, "/site", tree)
				dst = j.local
			} else {
				writeTree(t, j.local, tree)
			}
			start := time.Now()
			res, err := j.run(t.Context(), t, tc.mode, func(o *ferrysync.Options) { o.Parallel = 2 })
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failed) != 1 || res.Failed[0].Action.Path != "stuck.bin" {
				t.Fatalf("failed actions %v, want just stuck.bin", res.Failed)
			}
			ferr := res.Failed[0].Err
			if !errors.Is(ferr, ferrysync.ErrStalled) || !strings.Contains(ferr.Error(), "stalled: no progress for 1s") {
				t.Errorf("stuck.bin failed with %q, want ErrStalled saying \"stalled: no progress for 1s\"", ferr)
			}
			if took > 3*timeout {
				t.Errorf("the run took %v, want about the timeout (%v)", took, timeout)
			}
			for _, p := range []string{"a.txt", "b/c.txt"} {
				if _, err := os.Stat(filepath.Join(dst, p)); err != nil {
					t.Errorf("%s not transferred: %v", p, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dst, "stuck.bin")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stuck.bin published on the destination after a stall: %v", err)
			}
		})
	}
}

// plannedHook is a Reporter that runs a function when the plan is made,
// just before anything is executed.
type plannedHook struct {
	ferrysync.NopReporter
	fn func()
}

func (h plannedHook) Planned(*plan.Plan) { h.fn() }

// TestWorkersStarvedOfConnectionsFailAsStalled: waits that are not on the
// network have no deadline of their own. When every worker waits for a
// pooled connection that never comes back (here the test holds the pool's
// only one), the run must not hang: after a timeout without progress the
// waiting actions fail as stalled and the run ends.
func TestWorkersStarvedOfConnectionsFailAsStalled(t *testing.T) {
	const timeout = time.Second
	tg := startTarget(t, "ftptest", ftptest.Options{})
	tg.cfg.Timeout = timeout
	tg.seed(t, "/site", []node{
		{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
		{Path: "b.txt", Data: []byte("b"), MTime: baseTime},
	})
	j := newJob(t, tg, "/site")
	// A hang fails the test at this deadline instead of never ending.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pool := ftp.NewPool(tg.cfg, 1)
	defer pool.Close()
	var held *ftp.Conn
	defer func() {
		if held != nil {
			pool.Put(held)
		}
	}()
	res, err := j.run(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) {
		o.Parallel = 2
		o.Pool = pool
		o.Reporter = plannedHook{fn: func() {
			c, err := pool.Get(ctx)
			if err != nil {
				t.Errorf("taking the pool's connection: %v", err)
				return
			}
			held = c
		}}
	})
	if held == nil {
		t.Fatal("the test never held the connection")
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 2 {
		t.Fatalf("failed actions %v, want both downloads", res.Failed)
	}
	for _, f := range res.Failed {
		if !errors.Is(f.Err, ferrysync.ErrStalled) {
			t.Errorf("%s failed with %v, want ErrStalled", f.Action.Path, f.Err)
		}
	}
}
