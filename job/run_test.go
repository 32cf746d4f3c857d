package job

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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

// TestRunWaitsForAnotherProcessOnTheSameFolder: one local folder is never
// synced by two processes at once; a run waits for the holder of the
// folder's lock (here: this test) and tells who it waits for.
func TestRunWaitsForAnotherProcessOnTheSameFolder(t *testing.T) {
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{})
	t.Cleanup(func() { srv.Close() })
	statePath := filepath.Join(t.TempDir(), "state.db")
	j, err := Resolve(Spec{Mode: ferrysync.Push, Local: t.TempDir(), MaxDelete: -1, State: statePath,
		Remote: "ftp://" + ftptest.DefaultUser + ":" + ftptest.DefaultPassword + "@" + srv.Addr + "/w"})
	if err != nil {
		t.Fatal(err)
	}
	held, err := lockRoot(context.Background(), statePath, j.Local, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		_, err := j.Run(context.Background(), Env{Waiting: func(pid string) { waited <- pid }})
		done <- err
	}()
	if pid := <-waited; pid != strconv.Itoa(os.Getpid()) {
		t.Errorf("waiting for pid %s, want %d", pid, os.Getpid())
	}
	select {
	case err := <-done:
		t.Fatalf("run went ahead while the folder was locked: %v", err)
	default:
	}
	held.Unlock()
	if err := <-done; err != nil {
		t.Fatalf("run after the lock was released: %v", err)
	}
	// A cancelled wait ends the run with the context's error.
	held, _ = lockRoot(context.Background(), statePath, j.Local, nil)
	defer held.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = j.Run(ctx, Env{Waiting: func(string) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: err = %v, want context.Canceled", err)
	}
}

func TestLockAgentRefusesASecondAgent(t *testing.T) {
	statePath := filepath.Join(t.TempDir(), "state.db")
	if AgentRunning(statePath) {
		t.Fatal("AgentRunning before any agent")
	}
	unlock, err := LockAgent(statePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockAgent(statePath); !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "another agent runs on it") {
		t.Errorf("second LockAgent = %v, want ErrBusy", err)
	}
	if !AgentRunning(statePath) {
		t.Error("AgentRunning = false while locked")
	}
	unlock()
	if AgentRunning(statePath) {
		t.Error("AgentRunning = true after unlock")
	}
}
