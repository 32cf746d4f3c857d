package web

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/state"
)

// collector turns the registry's view into Prometheus metrics at each
// scrape: counters since the agent started, and gauges of now.
type collector struct {
	agent Agent

	runs, files, bytes, deleted, errors, conflicts *prometheus.Desc
	duration                                       *prometheus.Desc
	inFlight, queued, running, problem             *prometheus.Desc
	lastSuccess, watch                             *prometheus.Desc
}

func newCollector(a Agent) *collector {
	job := []string{"job"}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, append(job, labels...), nil)
	}
	return &collector{
		agent:       a,
		runs:        d("ferry_runs_total", "Finished runs since the agent started, by result (ok, partial, failed, interrupted).", "result"),
		files:       d("ferry_files_transferred_total", "Files uploaded (direction up) or downloaded (down).", "direction"),
		bytes:       d("ferry_bytes_transferred_total", "Bytes uploaded (direction up) or downloaded (down).", "direction"),
		deleted:     d("ferry_files_deleted_total", "Files and folders deleted on either side."),
		errors:      d("ferry_errors_total", "Errors: failed actions, problems (folders left unknown, unsafe names) and failed runs."),
		conflicts:   d("ferry_conflicts_kept_total", "Two-way conflicts whose versions were both kept (the loser under a .conflict- name)."),
		duration:    d("ferry_run_duration_seconds", "How long runs took."),
		inFlight:    d("ferry_transfers_in_flight", "Uploads and downloads under way."),
		queued:      d("ferry_queued_triggers", "Triggers (startup, schedule, watch, manual) waiting for the job's next run; they coalesce into one run."),
		running:     d("ferry_job_running", "1 while a run of the job is under way."),
		problem:     d("ferry_job_problem", "1 while the job is paused (local folder missing), failing (retrying with backoff) or refused by a delete guard."),
		lastSuccess: d("ferry_last_success_timestamp_seconds", "When the latest run that ended ok started (Unix time); absent when none is known."),
		watch:       d("ferry_watch_state", "The job's watcher: 1 for its state (off, starting, ok, degraded), 0 for the others.", "state"),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.runs, c.files, c.bytes, c.deleted, c.errors, c.conflicts, c.duration,
		c.inFlight, c.queued, c.running, c.problem, c.lastSuccess, c.watch} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range c.agent.Registry().Snapshot() {
		t, n := s.Totals, s.Name
		for _, r := range []string{state.ResultOK, state.ResultPartial, state.ResultFailed, state.ResultInterrupted} {
			counter(c.runs, t.Runs[r], n, r)
		}
		counter(c.files, t.FilesUp, n, "up")
		counter(c.files, t.FilesDown, n, "down")
		counter(c.bytes, t.BytesUp, n, "up")
		counter(c.bytes, t.BytesDown, n, "down")
		counter(c.deleted, t.FilesDeleted, n)
		counter(c.errors, t.Errors, n)
		counter(c.conflicts, t.Conflicts, n)
		buckets := make(map[float64]uint64, len(t.Duration.Bounds))
		for i, b := range t.Duration.Bounds {
			buckets[b] = t.Duration.Counts[i]
		}
		ch <- prometheus.MustNewConstHistogram(c.duration, t.Duration.Count, t.Duration.Sum, buckets, n)
		gauge(c.inFlight, float64(len(s.Transfers)), n)
		gauge(c.queued, float64(len(s.Queued)), n)
		gauge(c.running, bool01(s.Running), n)
		gauge(c.problem, bool01(s.Problem != ""), n)
		if !s.LastSuccess.IsZero() {
			gauge(c.lastSuccess, float64(s.LastSuccess.UnixNano())/1e9, n)
		}
		for _, st := range agent.WatchStates() {
			gauge(c.watch, bool01(s.Watch == st), n, st)
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
