package sync

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"
	"sync/atomic"
	"time"
)

// ErrStalled marks work the stall watchdog gave up on: nothing moved for a
// whole timeout.
var ErrStalled = errors.New("stalled")

// watchdog fails work that makes no progress. Every network wait of a
// connection has its own deadline, but waits that are not on the network
// (a worker waiting for a pooled connection, for another worker) have
// none: when neither a byte moves nor a piece of work completes for d,
// the watchdog cancels every piece of work under way with a cause wrapping
// ErrStalled, "stalled: no progress for 30s", and the run goes on with the
// rest. The clock runs only while work is under way. A nil *watchdog
// watches nothing.
type watchdog struct {
	d    time.Duration
	base time.Time
	last atomic.Int64 // last progress, as time since base

	mu      gosync.Mutex
	work    map[*watched]struct{}
	timer   *time.Timer // armed while work is under way
	stopped bool
}

// watched is one piece of work under way.
type watched struct{ cancel context.CancelCauseFunc }

func newWatchdog(d time.Duration) *watchdog {
	return &watchdog{d: d, base: time.Now(), work: map[*watched]struct{}{}}
}

func (w *watchdog) now() int64 { return int64(time.Since(w.base)) }

// progress notes that something moved: bytes, a completed action.
func (w *watchdog) progress() {
	if w != nil {
		w.last.Store(w.now())
	}
}

// begin starts a piece of work. Its context is cancelled, with a cause
// wrapping ErrStalled, when the run stalls before end is called; end
// counts as progress.
func (w *watchdog) begin(ctx context.Context) (context.Context, func()) {
	if w == nil {
		return ctx, func() {}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	it := &watched{cancel: cancel}
	w.mu.Lock()
	if len(w.work) == 0 {
		w.progress() // idle time before this work is nobody's stall
	}
	w.work[it] = struct{}{}
	if w.timer == nil && !w.stopped {
		w.timer = time.AfterFunc(w.d, w.check)
	}
	w.mu.Unlock()
	return ctx, func() {
		w.mu.Lock()
		delete(w.work, it)
		w.mu.Unlock()
		w.progress()
		cancel(nil)
	}
}

// check runs when the timer fires: it cancels the work under way when
// nothing moved for d, else waits for the rest of d after the last
// progress.
func (w *watchdog) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.timer = nil
	if w.stopped || len(w.work) == 0 {
		return
	}
	idle := time.Duration(w.now() - w.last.Load())
	if idle < w.d {
		w.timer = time.AfterFunc(w.d-idle, w.check)
		return
	}
	cause := fmt.Errorf("%w: no progress for %v", ErrStalled, w.d)
	for it := range w.work {
		it.cancel(cause)
		delete(w.work, it)
	}
	w.progress() // the work still to start gets a whole d
}

// stop disarms the watchdog; work begun afterwards is not watched.
func (w *watchdog) stop() {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer.Stop()
		w.timer = nil
	}
}

// stallCause returns ctx's stall error when the watchdog cancelled it,
// else nil.
func stallCause(ctx context.Context) error {
	if cause := context.Cause(ctx); errors.Is(cause, ErrStalled) {
		return cause
	}
	return nil
}
