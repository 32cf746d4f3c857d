package sync_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// journal returns the job's pending journal entries.
func (j *job) journal(ctx context.Context, t *testing.T) []state.JournalEntry {
	t.Helper()
	var es []state.JournalEntry
	j.withStore(ctx, t, func(s *state.RootStore) {
		var err error
		if es, err = s.Journal(ctx); err != nil {
			t.Fatal(err)
		}
	})
	return es
}

// TestReplaceKilledBetweenDeleAndRnto is issue 10 item 7: on a server whose
// RNTO does not replace an existing name, an upload over an existing file
// is DELE then RNFR/RNTO, and a run killed between the two left the file
// only under its temporary name, with nothing to say so. The step must be
// journalled in the state cache before the DELE, and the next run (here a
// two-way one, which would take a missing file for a deletion on the
// server) must finish the rename from the note rather than upload again;
// when the temporary is gone too, the path is planned afresh and the local
// version uploaded.
func TestReplaceKilledBetweenDeleAndRnto(t *testing.T) {
	for _, tmpGone := range []bool{false, true} {
		name := map[bool]string{false: "temporary left: renamed into place", true: "temporary gone: uploaded again"}[tmpGone]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var kill atomic.Pointer[context.CancelFunc]
			var deles atomic.Int32
			tg := startTarget(t, "ftptest", ftptest.Options{NoRenameOver: true, Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != "DELE" || !strings.HasSuffix(arg, "/b.txt") {
					return false
				}
				deles.Add(1)
				cancel := kill.Load()
				if cancel == nil {
					return false
				}
				// The crash: the DELE is done, the RNTO never arrives.
				s.Do(cmd, arg)
				(*cancel)()
				s.Close()
				return true
			}})
			j := newJob(t, tg, "/site")
			local := filepath.Join(j.local, "b.txt")
			writeFile(t, local, []byte("version 1"), baseTime)
			j.mustRun(t.Context(), t, ferrysync.Push, nil)

			v2 := []byte("version 2, longer")
			writeFile(t, local, v2, baseTime.Add(time.Hour))
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			kill.Store(&cancel)
			_, err := j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Parallel = 1 })
			kill.Store(nil)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("killed run: %v, want context.Canceled", err)
			}
			if deles.Load() != 1 {
				t.Fatalf("the server saw %d DELEs of b.txt, want 1", deles.Load())
			}
			remote := filepath.Join(j.remoteDisk(), "b.txt")
			if _, err := os.Stat(remote); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("remote b.txt after the kill: %v, want it deleted", err)
			}
			tmp := filepath.Join(j.remoteDisk(), ".b.txt.ferry-tmp")
			if got, err := os.ReadFile(tmp); err != nil || string(got) != string(v2) {
				t.Fatalf("temporary after the kill: %q, %v; want version 2", got, err)
			}
			es := j.journal(t.Context(), t)
			if len(es) != 1 || es[0].Kind != "replace" || es[0].Path != "b.txt" {
				t.Fatalf("journal after the kill: %+v, want one replace of b.txt", es)
			}
			if tmpGone {
				if err := os.Remove(tmp); err != nil {
					t.Fatal(err)
				}
			}

			res := j.mustRun(t.Context(), t, ferrysync.TwoWay, nil)
			wantUp := map[bool]int{false: 0, true: 1}[tmpGone]
			if res.FilesUp != wantUp || res.FilesDown != 0 || res.Deleted != 0 {
				t.Errorf("repairing run: up %d, down %d, deleted %d; want up %d and nothing else (plan %v)", res.FilesUp, res.FilesDown, res.Deleted, wantUp, actions(res))
			}
			assertSameTree(t, "after the repairing run", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
			if got, _ := os.ReadFile(local); string(got) != string(v2) {
				t.Errorf("local b.txt = %q, want version 2", got)
			}
			if es := j.journal(t.Context(), t); len(es) != 0 {
				t.Errorf("journal after the repair: %+v, want empty", es)
			}
			res = j.mustRun(t.Context(), t, ferrysync.TwoWay, nil)
			if a := actions(res); len(a) != 0 {
				t.Errorf("run after the repair planned %v, want nothing", a)
			}
		})
	}
}

// TestReplaceOnServerThatRefusesRenameOver: without a crash, the journalled
// DELE then rename publishes the new version and leaves no note.
func TestReplaceOnServerThatRefusesRenameOver(t *testing.T) {
	tg := startTarget(t, "ftptest", ftptest.Options{NoRenameOver: true})
	tg.seed(t, "/site", []node{{Path: "a.txt", Data: []byte("old a"), MTime: baseTime}, {Path: "b.txt", Data: []byte("old b"), MTime: baseTime}})
	j := newJob(t, tg, "/site")
	writeTree(t, j.local, []node{
		{Path: "a.txt", Data: []byte("new a"), MTime: baseTime.Add(time.Hour)},
		{Path: "b.txt", Data: []byte("new b!"), MTime: baseTime.Add(time.Hour)},
		{Path: "c.txt", Data: []byte("new c"), MTime: baseTime.Add(time.Hour)},
	})
	res := j.mustRun(t.Context(), t, ferrysync.Push, nil)
	if res.FilesUp != 3 {
		t.Errorf("FilesUp = %d, want 3", res.FilesUp)
	}
	assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
	if es := j.journal(t.Context(), t); len(es) != 0 {
		t.Errorf("journal: %+v, want empty", es)
	}
}
