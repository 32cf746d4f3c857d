package job

import (
	"context"
	"errors"
	"os"
	"path"
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
	held, err := lockRoot(context.Background(), j.Local, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		// Another state cache: the lock is on the folder, not the cache.
		other := *j
		other.State = filepath.Join(t.TempDir(), "other.db")
		_, err := other.Run(context.Background(), Env{Waiting: func() { waited <- struct{}{} }})
		done <- err
	}()
	<-waited
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
	held, _ = lockRoot(context.Background(), j.Local, nil)
	defer held.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	_, err = j.Run(ctx, Env{Waiting: func() { cancel() }})
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

// TestRunIncompleteIsPartial pins "what a run could not see fails it":
// a folder left unknown or a name refused as unsafe used to be a warning
// of a run that exited 0 and was recorded "ok". Now Run returns an error
// wrapping ErrIncomplete and the run is recorded "partial"; the root's
// own listing failing is a failed run. A skipped symlink stays a warning.
func TestRunIncompleteIsPartial(t *testing.T) {
	const mod = "modify=20230506070809"
	tests := []struct {
		name     string
		dir      string   // the remote folder whose MLSD the hook answers
		lines    []string // nil: the hook stalls until the client gives up
		final    string
		wantErr  error // nil: the run succeeds
		result   string
		problems int
		warnings int
	}{
		{name: "unsafe name in a folder listing", dir: "/site/sub",
			lines:   []string{"type=file;size=4;" + mod + "; good.txt", "type=file;size=4;" + mod + "; ../evil"},
			wantErr: ErrIncomplete, result: state.ResultPartial, problems: 1},
		{name: "folder listing with a line that does not parse", dir: "/site/sub",
			lines:   []string{"type=file;size=4;" + mod + "; good.txt", "garbage without facts"},
			wantErr: ErrIncomplete, result: state.ResultPartial, problems: 1},
		{name: "folder listing cut short by the server", dir: "/site/sub",
			lines: []string{"type=file;size=4;" + mod + "; good.txt"}, final: "226 Output truncated to 1 matches",
			wantErr: ErrIncomplete, result: state.ResultPartial, problems: 1},
		{name: "folder listing refused", dir: "/site/sub",
			final:   "550 Permission denied",
			wantErr: ErrIncomplete, result: state.ResultPartial, problems: 1},
		{name: "root listing stalls", dir: "/site", result: state.ResultFailed},
		{name: "remote symlink is only a warning", dir: "/site/sub",
			lines:  []string{"type=file;size=4;" + mod + "; good.txt", "type=OS.unix=symlink;" + mod + "; link"},
			result: state.ResultOK, warnings: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			srvRoot := t.TempDir()
			good := filepath.Join(srvRoot, "site", "sub", "good.txt")
			os.MkdirAll(filepath.Dir(good), 0o755)
			if err := os.WriteFile(good, []byte("good"), 0o644); err != nil {
				t.Fatal(err)
			}
			srv := ftptest.NewServer(srvRoot, ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != "MLSD" || path.Clean(arg) != tt.dir {
					return false
				}
				switch {
				case tt.lines == nil && tt.final == "":
					s.Stall()
				case tt.lines == nil:
					code, msg, _ := strings.Cut(tt.final, " ")
					n, _ := strconv.Atoi(code)
					s.Reply(n, msg)
				default:
					s.ServeList(tt.lines, tt.final)
				}
				return true
			}})
			t.Cleanup(srv.Close)
			db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			j, err := Resolve(Spec{Mode: ferrysync.Pull, Local: t.TempDir(), MaxDelete: -1, Timeout: 300 * time.Millisecond,
				Remote: "ftp://" + ftptest.DefaultUser + ":" + ftptest.DefaultPassword + "@" + srv.Addr + "/site"})
			if err != nil {
				t.Fatal(err)
			}
			res, err := j.Run(ctx, Env{DB: db})
			switch {
			case tt.result == state.ResultOK && err != nil:
				t.Errorf("Run: %v, want success", err)
			case tt.result != state.ResultOK && err == nil:
				t.Errorf("Run succeeded, want a %s run", tt.result)
			case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
				t.Errorf("Run: %v, want an error wrapping %v", err, tt.wantErr)
			}
			if res != nil && (len(res.Problems) != tt.problems || len(res.Warnings) != tt.warnings) {
				t.Errorf("problems %q, warnings %q: want %d and %d", res.Problems, res.Warnings, tt.problems, tt.warnings)
			}
			runs, err := db.LastRuns(ctx)
			if err != nil || len(runs) != 1 {
				t.Fatalf("LastRuns = %v, %v", runs, err)
			}
			if r := runs[0]; r.Result != tt.result || (tt.result != state.ResultOK) != (r.ErrorText != "") {
				t.Errorf("recorded run: result %q, error %q; want %q", r.Result, r.ErrorText, tt.result)
			}
		})
	}
}
