package state

import (
	"context"
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)

func TestRunLifecycleRecordsEveryField(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/srv/site", "ftp://deploy@h/www")
	id, err := db.StartRun(ctx, root, "site", "push", "watch", t0)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := db.Runs(ctx, root, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	if r := runs[0]; r.Result != "" || !r.Ended.IsZero() || !r.Started.Equal(t0) || r.Job != "site" || r.Mode != "push" {
		t.Errorf("unfinished run = %+v", r)
	}
	res := RunResult{Ended: t0.Add(90 * time.Second), Result: ResultPartial, FilesUp: 3, FilesDown: 4,
		FilesDeleted: 5, BytesUp: 6 << 30, BytesDown: 7, Errors: 2, Conflicts: 1, ErrorText: "upload a.txt: 550 denied"}
	mustOK(t, db.FinishRun(ctx, id, res))
	runs, err = db.Runs(ctx, root, 0)
	if err != nil || len(runs) != 1 {
		t.Fatalf("Runs = %v, %v", runs, err)
	}
	want := Run{ID: id, Root: root, Local: "/srv/site", Remote: "ftp://deploy@h/www", Job: "site", Mode: "push",
		Trigger: "watch", Started: t0, RunResult: res}
	got := runs[0]
	if !got.Started.Equal(want.Started) || !got.Ended.Equal(want.Ended) || got.Started.Location() != time.UTC {
		t.Errorf("times: got %v..%v, want %v..%v UTC", got.Started, got.Ended, want.Started, want.Ended)
	}
	got.Started, got.Ended, want.Started, want.Ended = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if got != want {
		t.Errorf("run:\n got %+v\nwant %+v", got, want)
	}
}

func TestFinishRunRejectsUnknownResultAndRun(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	root := mustRoot(t, db, "/l", "ftp://h/")
	id, err := db.StartRun(ctx, root, "", "pull", "cli", t0)
	mustOK(t, err)
	if err := db.FinishRun(ctx, id, RunResult{Ended: t0, Result: "great"}); err == nil {
		t.Errorf("result %q accepted", "great")
	}
	if err := db.FinishRun(ctx, id+100, RunResult{Ended: t0, Result: ResultOK}); !errors.Is(err, ErrNotFound) {
		t.Errorf("FinishRun of unknown id = %v, want ErrNotFound", err)
	}
	if _, err := db.StartRun(ctx, root, "", "pull", "cli", time.Time{}); err == nil {
		t.Errorf("StartRun with zero time accepted")
	}
}

func TestLastRunsIsNewestPerRootAndJob(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	a := mustRoot(t, db, "/a", "ftp://h/a")
	b := mustRoot(t, db, "/b", "ftp://h/b")
	start := func(root RootID, job string, minutes int) RunID {
		id, err := db.StartRun(ctx, root, job, "push", "schedule", t0.Add(time.Duration(minutes)*time.Minute))
		mustOK(t, err)
		return id
	}
	start(a, "site", 1)
	aSite := start(a, "site", 3)
	start(a, "site", 2) // started earlier, inserted later: not the last
	aCLI := start(a, "", 0)
	start(b, "docs", 5)
	bDocs := start(b, "docs", 6)
	mustOK(t, db.FinishRun(ctx, aSite, RunResult{Ended: t0.Add(4 * time.Minute), Result: ResultOK, FilesUp: 9}))

	last, err := db.LastRuns(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []RunID
	for _, r := range last {
		got = append(got, r.ID)
	}
	want := []RunID{aCLI, aSite, bDocs} // by local, remote, job
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("LastRuns ids = %v, want %v", got, want)
	}
	if last[1].Result != ResultOK || last[1].FilesUp != 9 || last[1].Local != "/a" || last[2].Remote != "ftp://h/b" {
		t.Errorf("LastRuns rows = %+v", last)
	}

	recent, err := db.Runs(ctx, a, 2)
	if err != nil || len(recent) != 2 || recent[0].ID != aSite || !recent[1].Started.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("Runs(a, 2) = %+v, %v", recent, err)
	}

	n, err := db.PruneRuns(ctx, 1)
	if err != nil || n != 3 {
		t.Errorf("PruneRuns(1) = %d, %v; want 3", n, err)
	}
	if all, _ := db.Runs(ctx, a, 0); len(all) != 2 {
		t.Errorf("after prune root a has %d runs, want 2 (one per job)", len(all))
	}
}
