package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestRunRecordsTheRun runs a push through Job.Run against the project's
// test server, on a state cache the caller keeps open (as the agent does),
// and checks the run history: job name, trigger, counts, result.
func TestRunRecordsTheRun(t *testing.T) {
	ctx := context.Background()
	srvRoot := t.TempDir()
	srv := ftptest.NewServer(srvRoot, ftptest.Options{})
	t.Cleanup(func() { srv.Close() })
	local := t.TempDir()
	for name, body := range map[string]string{"a.txt": "alpha", "sub/b.txt": "bravo!"} {
		p := filepath.Join(local, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	j, err := Resolve(Spec{Name: "site", Mode: ferrysync.Push, Local: local, MaxDelete: -1,
		Remote: "ftp://" + ftptest.DefaultUser + ":" + ftptest.DefaultPassword + "@" + srv.Addr + "/www"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := j.Run(ctx, Env{DB: db, Trigger: TriggerWatch})
	if err != nil {
		t.Fatal(err)
	}
	if res.FilesUp != 2 || res.BytesUp != 11 {
		t.Errorf("result: %d files, %d bytes up; want 2, 11", res.FilesUp, res.BytesUp)
	}
	if got, err := os.ReadFile(filepath.Join(srvRoot, "www", "sub", "b.txt")); err != nil || string(got) != "bravo!" {
		t.Errorf("server's sub/b.txt = %q, %v", got, err)
	}
	runs, err := db.LastRuns(ctx)
	if err != nil || len(runs) != 1 {
		t.Fatalf("LastRuns = %v, %v", runs, err)
	}
	r := runs[0]
	if r.Job != "site" || r.Trigger != TriggerWatch || r.Mode != "push" || r.Result != state.ResultOK || r.FilesUp != 2 || r.BytesUp != 11 || r.Ended.IsZero() {
		t.Errorf("recorded run = %+v", r)
	}
	// The second run moves nothing and is recorded too.
	if res, err = j.Run(ctx, Env{DB: db, Trigger: TriggerSchedule}); err != nil || res.FilesUp != 0 {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if runs, _ = db.LastRuns(ctx); len(runs) != 1 || runs[0].Trigger != TriggerSchedule {
		t.Errorf("last run after the second = %+v", runs)
	}
}

// TestRunResultClassifies pins how a run's outcome is recorded.
func TestRunResultClassifies(t *testing.T) {
	end := time.Unix(100, 0)
	failed := &ferrysync.Result{FilesUp: 1, Failed: []ferrysync.ActionError{{Err: errors.New("550 denied")}}, Conflicts: 2}
	tests := []struct {
		name string
		res  *ferrysync.Result
		err  error
		want string
	}{
		{"ok", &ferrysync.Result{FilesUp: 3}, nil, state.ResultOK},
		{"some actions failed", failed, nil, state.ResultPartial},
		{"run failed", nil, errors.New("login refused"), state.ResultFailed},
		{"interrupted", failed, context.Canceled, state.ResultInterrupted},
	}
	for _, tt := range tests {
		rr := RunResult(tt.res, tt.err, end)
		if rr.Result != tt.want || !rr.Ended.Equal(end) {
			t.Errorf("%s: result %q, want %q", tt.name, rr.Result, tt.want)
		}
	}
	if rr := RunResult(failed, nil, end); rr.Errors != 1 || rr.Conflicts != 2 || rr.FilesUp != 1 || rr.ErrorText == "" {
		t.Errorf("partial run record = %+v", rr)
	}
}
