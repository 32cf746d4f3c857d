package state

import (
	"context"
	"testing"
	"time"
)

func TestAgentJobsRoundTripAndKeep(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	site := AgentJob{Name: "site", Mode: "push", Local: "/srv/site", Remote: "ftp://u@h/www", Watch: "degraded",
		WatchWhy: "out of inotify watches", Schedule: "@every 1m", NextRun: t0.Add(time.Minute), Problem: "", Updated: t0}
	mustOK(t, db.SaveAgentJob(ctx, site))
	mustOK(t, db.SaveAgentJob(ctx, AgentJob{Name: "in", Mode: "pull", Local: "/in", Remote: "ftp://h/", Watch: "off", Updated: t0}))
	site.Problem = "paused: local folder looks missing"
	mustOK(t, db.SaveAgentJob(ctx, site))
	jobs, err := db.AgentJobs(ctx)
	mustOK(t, err)
	if len(jobs) != 2 || jobs[0].Name != "in" || !jobs[0].NextRun.IsZero() {
		t.Fatalf("AgentJobs = %+v", jobs)
	}
	got := jobs[1]
	if !got.NextRun.Equal(site.NextRun) || !got.Updated.Equal(site.Updated) {
		t.Errorf("times: %v %v", got.NextRun, got.Updated)
	}
	got.NextRun, got.Updated, site.NextRun, site.Updated = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != site {
		t.Errorf("site:\n got %+v\nwant %+v", got, site)
	}
	mustOK(t, db.KeepAgentJobs(ctx, []string{"site"}))
	if jobs, _ = db.AgentJobs(ctx); len(jobs) != 1 || jobs[0].Name != "site" {
		t.Errorf("after KeepAgentJobs(site): %+v", jobs)
	}
}
