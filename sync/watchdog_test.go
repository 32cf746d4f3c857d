package sync

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"
)

// TestWatchdog pins when the stall watchdog gives up on work: d after the
// last progress while work is under way, never because of idle time before
// the work began, and not while something keeps moving.
func TestWatchdog(t *testing.T) {
	const d = 30 * time.Second
	tests := []struct {
		name string
		// run drives the watchdog and returns when it expects ctx (the
		// watched work's) to end.
		run       func(w *watchdog) (ctx context.Context, end func(), stallAt time.Duration)
		wantStall bool
	}{
		{"nothing moves: fails after d", func(w *watchdog) (context.Context, func(), time.Duration) {
			ctx, end := w.begin(context.Background())
			return ctx, end, d
		}, true},
		{"idle before the work began is not a stall", func(w *watchdog) (context.Context, func(), time.Duration) {
			<-time.After(2 * d)
			ctx, end := w.begin(context.Background())
			return ctx, end, 3 * d
		}, true},
		{"progress postpones the stall", func(w *watchdog) (context.Context, func(), time.Duration) {
			ctx, end := w.begin(context.Background())
			for range 5 {
				<-time.After(d / 2)
				w.progress()
			}
			return ctx, end, d/2*5 + d
		}, true},
		{"another piece of work completing is progress", func(w *watchdog) (context.Context, func(), time.Duration) {
			ctx, end := w.begin(context.Background())
			_, end2 := w.begin(context.Background())
			<-time.After(d - time.Second)
			end2()
			return ctx, end, 2*d - time.Second
		}, true},
		{"work that ends in time is not cancelled", func(w *watchdog) (context.Context, func(), time.Duration) {
			ctx, end := w.begin(context.Background())
			<-time.After(d - time.Second)
			end()
			return ctx, func() {}, 0
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				start := time.Now()
				w := newWatchdog(d)
				defer w.stop()
				ctx, end, at := tc.run(w)
				defer end()
				if !tc.wantStall {
					synctest.Wait()
					<-time.After(2 * d)
					if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
						t.Fatalf("work that ended in time was failed: %v", cause)
					}
					return
				}
				<-ctx.Done()
				if got := time.Since(start); got != at {
					t.Errorf("stalled after %v, want %v", got, at)
				}
				cause := context.Cause(ctx)
				if !errors.Is(cause, ErrStalled) || cause.Error() != "stalled: no progress for 30s" {
					t.Errorf("cause %q, want ErrStalled saying \"stalled: no progress for 30s\"", cause)
				}
			})
		})
	}
}

// TestWatchdogAfterStallGivesNewWorkTime: once a stall has failed the work
// under way, the work that starts next gets a whole d.
func TestWatchdogAfterStallGivesNewWorkTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const d = time.Second
		w := newWatchdog(d)
		defer w.stop()
		first, end := w.begin(context.Background())
		<-first.Done()
		end()
		start := time.Now()
		second, end2 := w.begin(context.Background())
		defer end2()
		<-second.Done()
		if got := time.Since(start); got != d {
			t.Errorf("second piece of work stalled after %v, want %v", got, d)
		}
	})
}

// TestBandwidthWaitIsProgress: a slow --bwlimit is not a stall: a long
// wait for the limiter reports progress at least once a second.
func TestBandwidthWaitIsProgress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		last := time.Now()
		var longest time.Duration
		bw := newBandwidth(1<<10).with(context.Background(), func() {
			longest = max(longest, time.Since(last))
			last = time.Now()
		})
		if err := bw.wait(256 << 10); err != nil { // one read of a 256 KiB buffer
			t.Fatal(err)
		}
		if longest > time.Second {
			t.Errorf("%v between two progress reports, want at most 1s", longest)
		}
	})
}
