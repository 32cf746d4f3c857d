package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// funcRunner runs each run with fn.
type funcRunner func(ctx context.Context, jc *JobConfig, r Run) (*ferrysync.Result, error)

func (f funcRunner) Run(ctx context.Context, jc *JobConfig, r Run) (*ferrysync.Result, error) {
	return f(ctx, jc, r)
}

// TestRegistryFollowsARun: the registry shows a run's transfers in flight
// with their progress, a "run now" waiting behind it, then the run's
// summary, its errors and its counts.
func TestRegistryFollowsARun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		gate := make(chan struct{})
		up := plan.Action{Op: plan.Upload, Path: "a.txt", Local: plan.Meta{Size: 100}}
		down := plan.Action{Op: plan.Download, Path: "b.txt", Remote: plan.Meta{Size: 7}}
		runs := 0
		r := funcRunner(func(ctx context.Context, jc *JobConfig, run Run) (*ferrysync.Result, error) {
			runs++
			if runs > 1 {
				time.Sleep(2 * time.Second)
				return &ferrysync.Result{FilesDown: 1, BytesDown: 7}, nil
			}
			rep := run.Reporter
			rep.Started(up)
			rep.Progress(up, 40)
			rep.Started(down)
			<-gate
			time.Sleep(3 * time.Second)
			rep.Progress(up, 100)
			rep.Done(up, 100, nil)
			rep.Done(down, 0, errors.New("550 permission denied"))
			rep.Problem(errors.New("folder x: listing failed: it is left unknown"))
			res := &ferrysync.Result{FilesUp: 1, BytesUp: 100, Conflicts: 2,
				Failed:   []ferrysync.ActionError{{Action: down, Err: errors.New("550 permission denied")}},
				Problems: []error{errors.New("folder x: listing failed: it is left unknown")}}
			return res, fmt.Errorf("%w: 1 of 2", job.ErrActionsFailed)
		})
		a, stop := startAgent(testConfig(t, "", "site"), r)
		defer stop()
		synctest.Wait()
		st, _ := a.Registry().Get("site")
		if !st.Running || st.RunTrigger != job.TriggerStartup {
			t.Errorf("running %v by %q, want the start-up run", st.Running, st.RunTrigger)
		}
		want := []Transfer{{Op: "upload", Path: "a.txt", Bytes: 40, Size: 100, Started: st.RunStarted},
			{Op: "download", Path: "b.txt", Bytes: 0, Size: 7, Started: st.RunStarted}}
		if !slices.Equal(st.Transfers, want) {
			t.Errorf("transfers in flight = %+v, want %+v", st.Transfers, want)
		}
		a.RunNow("site")
		if st, _ := a.Registry().Get("site"); !slices.Equal(st.Queued, []string{job.TriggerManual}) {
			t.Errorf("queued during the run = %q, want [manual]", st.Queued)
		}
		close(gate)
		time.Sleep(3 * time.Second)
		synctest.Wait() // the first run ended; the manual one is under way
		st, _ = a.Registry().Get("site")
		if len(st.Queued) != 0 || !st.Running || st.RunTrigger != job.TriggerManual {
			t.Errorf("after the first run: queued %q, running %v by %q; want the manual run running, nothing queued", st.Queued, st.Running, st.RunTrigger)
		}
		lr := st.LastRun
		if lr == nil || lr.Result != state.ResultPartial || lr.Trigger != job.TriggerStartup || lr.Duration != 3*time.Second ||
			lr.FilesUp != 1 || lr.BytesUp != 100 || lr.Conflicts != 2 || lr.Errors != 2 {
			t.Errorf("last run = %+v", lr)
		}
		var texts []string
		for _, e := range st.Errors {
			texts = append(texts, e.Text)
		}
		if want := []string{"download b.txt: 550 permission denied", "folder x: listing failed: it is left unknown"}; !slices.Equal(texts, want) {
			t.Errorf("errors = %q, want %q", texts, want)
		}
		if len(st.Transfers) != 0 {
			t.Errorf("transfers after the run: %+v", st.Transfers)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		st, _ = a.Registry().Get("site")
		tot := st.Totals
		if tot.Runs[state.ResultPartial] != 1 || tot.Runs[state.ResultOK] != 1 || st.Runs != 2 {
			t.Errorf("runs by result = %v (%d runs), want 1 partial, 1 ok", tot.Runs, st.Runs)
		}
		if tot.FilesUp != 1 || tot.FilesDown != 1 || tot.BytesUp != 100 || tot.BytesDown != 7 || tot.Conflicts != 2 || tot.Errors != 2 {
			t.Errorf("totals = %+v", tot)
		}
		if !st.LastSuccess.Equal(st.LastRun.Started) || st.LastRun.Trigger != job.TriggerManual {
			t.Errorf("last success %v, last run %+v: want the manual run", st.LastSuccess, st.LastRun)
		}
		h := tot.Duration
		if h.Count != 2 || h.Sum != 5 {
			t.Errorf("duration histogram: count %d, sum %v; want 2 runs, 5 s", h.Count, h.Sum)
		}
		for i, b := range h.Bounds {
			want := uint64(0)
			if b >= 2 {
				want++
			}
			if b >= 3 {
				want++
			}
			if h.Counts[i] != want {
				t.Errorf("bucket <= %v: %d, want %d", b, h.Counts[i], want)
			}
		}
	})
}

// TestRegistryKeepsTheLatestErrors: the error list is bounded, the
// counter is not.
func TestRegistryKeepsTheLatestErrors(t *testing.T) {
	reg := NewRegistry(nil, discardLog())
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range keepErrors + 5 {
		reg.addError("site", at.Add(time.Duration(i)*time.Second), fmt.Sprintf("error %d", i))
	}
	st, _ := reg.Get("site")
	if len(st.Errors) != keepErrors || st.Errors[0].Text != "error 5" || st.Errors[keepErrors-1].Text != fmt.Sprintf("error %d", keepErrors+4) {
		t.Errorf("kept %d errors, %q .. %q", len(st.Errors), st.Errors[0].Text, st.Errors[len(st.Errors)-1].Text)
	}
	if st.Totals.Errors != keepErrors+5 {
		t.Errorf("error counter %d, want %d", st.Totals.Errors, keepErrors+5)
	}
	// A snapshot is a copy: changing it changes nothing in the registry.
	st.Errors[0].Text = "changed"
	st.Totals.Runs["ok"] = 99
	again, _ := reg.Get("site")
	if again.Errors[0].Text != "error 5" || again.Totals.Runs["ok"] != 0 {
		t.Error("a snapshot shares memory with the registry")
	}
}

// TestFailedRunIsAnError: a run that fails as a whole is one error; the
// retry time is shown until the retry starts.
func TestFailedRunIsAnError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{errFn: func(n int) error {
			if n == 1 {
				return errors.New("dial tcp 127.0.0.1:21: connection refused")
			}
			return nil
		}}
		a, stop := startAgent(testConfig(t, "", "site"), f)
		defer stop()
		synctest.Wait()
		st, _ := a.Registry().Get("site")
		if len(st.Errors) != 1 || !strings.Contains(st.Errors[0].Text, "connection refused") {
			t.Errorf("errors = %+v", st.Errors)
		}
		if want := time.Now().Add(retryMin); !st.RetryAt.Equal(want) {
			t.Errorf("retry at %v, want %v", st.RetryAt, want)
		}
		if st.LastRun == nil || st.LastRun.Result != state.ResultFailed || st.Totals.Runs[state.ResultFailed] != 1 {
			t.Errorf("last run %+v, runs %v", st.LastRun, st.Totals.Runs)
		}
		time.Sleep(retryMin)
		synctest.Wait()
		st, _ = a.Registry().Get("site")
		if !st.RetryAt.IsZero() || st.LastRun.Result != state.ResultOK || len(st.Errors) != 1 {
			t.Errorf("after the retry: retry at %v, last run %+v, %d errors", st.RetryAt, st.LastRun, len(st.Errors))
		}
	})
}

// TestScheduleTickDuringARunIsQueued: a tick that passes during a run is
// shown as waiting (it makes the follow-up run).
func TestScheduleTickDuringARunIsQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{gate: make(chan struct{})}
		a, stop := startAgent(testConfig(t, "@every 10s", "site"), f)
		defer stop()
		synctest.Wait()
		if st, _ := a.Registry().Get("site"); len(st.Queued) != 0 {
			t.Errorf("queued before the tick: %q", st.Queued)
		}
		time.Sleep(11 * time.Second)
		synctest.Wait()
		if st, _ := a.Registry().Get("site"); !slices.Equal(st.Queued, []string{job.TriggerSchedule}) {
			t.Errorf("queued after a tick during the run: %q, want [schedule]", st.Queued)
		}
		f.gate <- struct{}{}
		synctest.Wait()
		if st, _ := a.Registry().Get("site"); len(st.Queued) != 0 || st.RunTrigger != job.TriggerSchedule {
			t.Errorf("queued %q while the scheduled run runs (by %q)", st.Queued, st.RunTrigger)
		}
		close(f.gate)
	})
}
