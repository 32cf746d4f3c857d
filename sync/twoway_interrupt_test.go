package sync_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// twCanceller is a Reporter that cancels the run once `after` actions are
// done (successful or not).
type twCanceller struct {
	ferrysync.NopReporter
	after  int
	cancel context.CancelFunc

	mu   gosync.Mutex
	done int
}

func (c *twCanceller) Done(plan.Action, int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.done++
	if c.done == c.after {
		c.cancel()
	}
}

// TestTwoWayInterruptedSyncConverges cancels a two-way sync after k
// actions (k = 1, 2, 3, 5, 8, 13: inside conflict groups, between
// transfers, with transfers of 256 KiB files in flight) and runs it again:
// both sides end identical and equal to what one uninterrupted run gives,
// every changed version survives, the one real conflict leaves exactly one
// conflict copy (files moved before the interruption do not become
// conflicts), no temporaries are left, and a further run is a no-op.
func TestTwoWayInterruptedSyncConverges(t *testing.T) {
	for _, name := range []string{"ftptest-mlsd", "ftptest-list", "vsftpd"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := twStart(t, name)
			tt := twNewTimes()
			big := func(c byte) string { return strings.Repeat(string(c), 256<<10) }
			var synced []twFile
			for i := range 10 {
				synced = append(synced, twFile{fmt.Sprintf("d%d/f%d.bin", i%3, i), big(byte('a' + i)), 0})
			}
			synced = append(synced, twFile{"conflict.txt", "v1", 0}, twFile{"gone-local", "x", 0}, twFile{"gone-remote", "y", 0})
			local := []twFile{
				{"d0/f0.bin", big('A'), 5}, {"d1/f1.bin", big('B') + "+", 5}, {"d2/f2.bin", "small now", 5},
				{"new-local/n1.bin", big('L'), 6}, {"new-local/n2", "n2", 6},
				{"conflict.txt", "local, older", 7},
			}
			remote := []twFile{
				{"d0/f3.bin", big('C'), 5}, {"d1/f4.bin", big('D') + "++", 5}, {"d2/f5.bin", "", 5},
				{"new-remote/m1.bin", big('R'), 6}, {"new-remote/m2", "m2", 6},
				{"conflict.txt", "remote, newer", 9},
			}
			want := map[string]string{}
			for _, f := range synced {
				want[f.path] = f.data
			}
			for _, f := range append(local, remote...) {
				want[f.path] = f.data
			}
			delete(want, "gone-local")
			delete(want, "gone-remote")
			want[tt.copyName("conflict.txt", 7)] = "local, older"

			for _, k := range []int{1, 2, 3, 5, 8, 13} {
				t.Run(fmt.Sprintf("cancel after %d", k), func(t *testing.T) {
					ctx := t.Context()
					j := twNewJob(t, srv, fmt.Sprintf("interrupt-%d", k))
					twPutFiles(t, j, 0, tt, synced)
					j.mustRun(ctx, t, nil)
					twRemoveAll(t, filepath.Join(j.local, "gone-local"))
					twRemoveAll(t, filepath.Join(j.remoteDisk(), "gone-remote"))
					twPutFiles(t, j, 0, tt, local)
					twPutFiles(t, j, 1, tt, remote)

					cctx, cancel := context.WithCancel(ctx)
					defer cancel()
					res, err := j.run(cctx, t, func(o *ferrysync.Options) {
						o.Reporter = &twCanceller{after: k, cancel: cancel}
					})
					if err != nil && !errors.Is(err, context.Canceled) {
						t.Fatalf("interrupted run: %v", err)
					}
					t.Logf("interrupted run: err %v, up %d, down %d, deleted %d, failed %d", err, res.FilesUp, res.FilesDown, res.Deleted, len(res.Failed))
					for _, f := range res.Failed {
						t.Logf("interrupted run: failed: %v", f)
					}
					j.chown(t)

					res = j.mustRun(ctx, t, nil)
					t.Logf("second run plan:\n%s", strings.Join(twAllActions(res), "\n"))
					got := twAssertInStep(t, j, "after the second run")
					for p, data := range want {
						if e, ok := got[p]; !ok || e.dir || e.sha != twSum([]byte(data)) {
							t.Errorf("%q: want %d bytes (sha %.12s), got %+v", p, len(data), twSum([]byte(data)), e)
						}
					}
					for p, e := range got {
						if _, ok := want[p]; !ok && !e.dir {
							t.Errorf("unexpected file %q (%d bytes)", p, e.size)
						}
					}
					twAssertNoOp(ctx, t, j, "after the second run")
				})
			}
		})
	}
}
