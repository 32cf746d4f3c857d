package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ferrysync/ferry/job"
	ferrysync "github.com/ferrysync/ferry/sync"
)

// fakeRunner records the runs the agent asks for. Each run waits on gate
// (when set) so a test can hold it open, and returns errFn's error.
type fakeRunner struct {
	mu      gosync.Mutex
	runs    []Run
	jobs    []string
	active  map[string]int
	overlap bool // a job ran twice at once
	gate    chan struct{}
	errFn   func(n int) error
	drained bool // a run saw Drain closed
}

func (f *fakeRunner) Run(ctx context.Context, jc *JobConfig, r Run) (*ferrysync.Result, error) {
	f.mu.Lock()
	f.runs = append(f.runs, r)
	f.jobs = append(f.jobs, jc.Name())
	n := len(f.runs)
	if f.active == nil {
		f.active = map[string]int{}
	}
	f.active[jc.Name()]++
	if f.active[jc.Name()] > 1 {
		f.overlap = true
	}
	gate := f.gate
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.active[jc.Name()]--
		f.mu.Unlock()
	}()
	if gate != nil {
		select {
		case <-gate:
		case <-r.Drain:
			f.mu.Lock()
			f.drained = true
			f.mu.Unlock()
			return &ferrysync.Result{}, ferrysync.ErrDrained
		}
	}
	if f.errFn != nil {
		if err := f.errFn(n); err != nil {
			return nil, err
		}
	}
	return &ferrysync.Result{}, nil
}

func (f *fakeRunner) triggers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.runs {
		out = append(out, r.Trigger)
	}
	return out
}

// testConfig makes a configuration of jobs named names, each with
// schedule (may be ""), over temporary folders; nothing connects.
func testConfig(t *testing.T, schedule string, names ...string) *Config {
	t.Helper()
	c := &Config{Path: "test.json", Grace: 2 * time.Second}
	for _, n := range names {
		j, err := job.Resolve(job.Spec{Name: n, Mode: ferrysync.Push, Local: t.TempDir(), Remote: "ftp://u@127.0.0.1/" + n, MaxDelete: -1, State: "/nonexistent/state.db"})
		if err != nil {
			t.Fatal(err)
		}
		jc := &JobConfig{File: JobFile{Name: n, Schedule: schedule}, Job: j, Debounce: DefaultDebounce}
		if schedule != "" {
			if jc.Schedule, err = cron.ParseStandard(schedule); err != nil {
				t.Fatal(err)
			}
		}
		c.Jobs = append(c.Jobs, jc)
	}
	return c
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startAgent runs an agent on cfg and runner inside the current synctest
// bubble; stop cancels it and waits for Run to return.
func startAgent(cfg *Config, r Runner) (a *Agent, stop func()) {
	a = New(cfg, r, NewRegistry(nil, discardLog()), discardLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		a.Run(ctx)
		close(done)
	}()
	return a, func() {
		cancel()
		<-done
	}
}

func TestStartupRunThenSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{}
		a, stop := startAgent(testConfig(t, "@every 10s", "site"), f)
		time.Sleep(35 * time.Second)
		synctest.Wait()
		got := strings.Join(f.triggers(), ",")
		if got != "startup,schedule,schedule,schedule" {
			t.Errorf("runs after 35s = %s, want the start-up run and one every 10s", got)
		}
		st, _ := a.Registry().Get("site")
		if want := time.Now().Add(5 * time.Second); !st.NextRun.Equal(want) {
			t.Errorf("next run %v, want %v", st.NextRun, want)
		}
		stop()
	})
}

// TestTriggersDuringARunCoalesce pins "a job never runs twice at once;
// triggers during a run coalesce into one follow-up run".
func TestTriggersDuringARunCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{gate: make(chan struct{})}
		a, stop := startAgent(testConfig(t, "@every 1s", "site"), f)
		synctest.Wait() // the start-up run is waiting on the gate
		for range 5 {
			a.RunNow("site")
		}
		time.Sleep(10 * time.Second) // ten schedule ticks pass meanwhile
		synctest.Wait()
		if got := len(f.triggers()); got != 1 {
			t.Fatalf("%d runs while the first was running, want 1", got)
		}
		f.gate <- struct{}{} // the start-up run ends
		synctest.Wait()
		if got := f.triggers(); len(got) != 2 {
			t.Fatalf("runs after the first ended: %q, want one follow-up", got)
		}
		f.gate <- struct{}{}
		synctest.Wait()
		close(f.gate)
		if f.overlap {
			t.Error("the job ran twice at once")
		}
		stop()
	})
}

// TestFailingRunBacksOff: a server that is down is retried with a capped,
// doubling backoff, and the problem is logged once, not per attempt.
func TestFailingRunBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("dial tcp 127.0.0.1:21: connection refused")
		f := &fakeRunner{errFn: func(n int) error {
			if n <= 4 {
				return down
			}
			return nil
		}}
		var logs strings.Builder
		var logMu gosync.Mutex
		a := New(testConfig(t, "", "site"), f, NewRegistry(nil, discardLog()), slog.New(slog.NewTextHandler(lockedWriter{&logs, &logMu}, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		go a.Run(ctx)
		// Runs at 0, 5, 15, 35 (backoff 5, 10, 20 s) fail; the one at 75 s
		// works.
		time.Sleep(34 * time.Second)
		synctest.Wait()
		if n := len(f.triggers()); n != 3 {
			t.Errorf("%d runs in 34 s, want 3 (at 0, 5 and 15 s)", n)
		}
		st, _ := a.Registry().Get("site")
		if !strings.Contains(st.Problem, "connection refused") {
			t.Errorf("problem = %q", st.Problem)
		}
		time.Sleep(60 * time.Second)
		synctest.Wait()
		if n := len(f.triggers()); n != 5 {
			t.Errorf("%d runs in 94 s, want 5", n)
		}
		if st, _ := a.Registry().Get("site"); st.Problem != "" {
			t.Errorf("problem after a good run = %q", st.Problem)
		}
		cancel()
		synctest.Wait()
		logMu.Lock()
		defer logMu.Unlock()
		if n := strings.Count(logs.String(), "job not in step"); n != 1 {
			t.Errorf("the failure was logged %d times, want once:\n%s", n, logs.String())
		}
		if n := strings.Count(logs.String(), "job back in step"); n != 1 {
			t.Errorf("the recovery was logged %d times, want once", n)
		}
	})
}

type lockedWriter struct {
	b  *strings.Builder
	mu *gosync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// TestStopDrainsRunsInFlight: on stop, runs in flight are told to start no
// more transfers, and Run returns once they end.
func TestStopDrainsRunsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{gate: make(chan struct{})}
		_, stop := startAgent(testConfig(t, "", "a", "b"), f)
		synctest.Wait()
		stop()
		if !f.drained {
			t.Error("the runs in flight did not see Drain")
		}
		if got := len(f.triggers()); got != 2 {
			t.Errorf("%d runs, want the two start-up runs", got)
		}
	})
}

// TestReloadReplacesChangedJobsBetweenRuns: an unchanged job is not
// restarted; a changed one starts anew after its current run ends (never
// two runs of one job at once); a removed one stops; a new one starts.
func TestReloadReplacesChangedJobsBetweenRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &fakeRunner{}
		cfg := testConfig(t, "", "same", "changed", "removed")
		a, stop := startAgent(cfg, f)
		synctest.Wait()
		if got := len(f.triggers()); got != 3 {
			t.Fatalf("%d start-up runs, want 3", got)
		}
		next := testConfig(t, "", "changed", "added")
		next.Jobs[0].File.Delete = true // a changed field
		next.Jobs = append(next.Jobs, cfg.Jobs[0])
		a.Reload(next)
		synctest.Wait()
		f.mu.Lock()
		after := f.jobs[3:]
		f.mu.Unlock()
		if strings.Join(slices.Sorted(slices.Values(after)), ",") != "added,changed" {
			t.Errorf("runs after reload: %q, want start-up runs of the changed and the added job only", after)
		}
		names := []string{}
		for _, s := range a.Registry().Snapshot() {
			names = append(names, s.Name)
		}
		if strings.Join(names, ",") != "added,changed,same" {
			t.Errorf("jobs after reload: %q", names)
		}
		stop()
	})
}

// TestVanishedFolderPausesTheJob: a run that finds its local folder gone
// (or replaced) pauses the job; the agent looks every 30 s without running
// it, and resumes by itself once the folder is back.
func TestVanishedFolderPausesTheJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(t, "", "site")
		local := cfg.Jobs[0].Job.Local
		write(t, filepath.Join(local, "a.txt"), "a")
		f := &fakeRunner{}
		f.errFn = func(int) error {
			if !folderBack(local) {
				return fmt.Errorf("%w: %s is missing or not a folder", ferrysync.ErrRootVanished, local)
			}
			return nil
		}
		a, stop := startAgent(cfg, f)
		synctest.Wait()
		if err := os.RemoveAll(local); err != nil {
			t.Fatal(err)
		}
		a.RunNow("site")
		synctest.Wait()
		st, _ := a.Registry().Get("site")
		if !strings.HasPrefix(st.Problem, "paused: ") {
			t.Fatalf("problem = %q, want paused", st.Problem)
		}
		before := len(f.triggers())
		time.Sleep(5 * time.Minute)
		synctest.Wait()
		if n := len(f.triggers()); n != before {
			t.Errorf("%d runs while the folder was gone, want none", n-before)
		}
		write(t, filepath.Join(local, "a.txt"), "back")
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if n := len(f.triggers()); n != before+1 {
			t.Errorf("%d runs after the folder came back, want 1", n-before)
		}
		if st, _ := a.Registry().Get("site"); st.Problem != "" {
			t.Errorf("problem after the folder came back = %q", st.Problem)
		}
		stop()
	})
}
