package sync_test

import (
	"os"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestUploadTimeRefusedOnceKeepsFile pins the step-by-step fallback of an
// upload's pipelined "MFMT time tmp, RNFR tmp, RNTO name": when only the
// MFMT is refused, the file is already in place, so the fallback must set
// the time again rather than rename again (which finds no temporary and
// used to DELE the freshly uploaded file).
func TestUploadTimeRefusedOnceKeepsFile(t *testing.T) {
	var once gosync.Once
	refused := false
	tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd != "MFMT" || !strings.HasSuffix(arg, "/.b.txt.ferry-tmp") {
			return false
		}
		hit := false
		once.Do(func() { hit, refused = true, true })
		if hit {
			s.Reply(550, "Could not set the time, this once.")
		}
		return hit
	}})
	j := newJob(t, tg, "/site")
	writeTree(t, j.local, []node{
		{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
		{Path: "b.txt", Data: []byte("bee"), MTime: baseTime},
		{Path: "c.txt", Data: []byte("c"), MTime: baseTime},
	})
	res := j.mustRun(t.Context(), t, ferrysync.Push, func(o *ferrysync.Options) {
		o.Pool.SetProfile(ftp.Profile{MTime: ftp.MTimeMFMT}) // as remembered from an earlier run
	})
	if !refused {
		t.Fatal("the hook never saw MFMT for b.txt")
	}
	if res.FilesUp != 3 {
		t.Errorf("FilesUp = %d, want 3", res.FilesUp)
	}
	assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
}

// TestUploadRenameRefusedKeepsOldVersion pins renameOver's fallback (DELE
// the destination, then rename again) to servers that refuse RNTO over an
// existing name: when it is the RNFR of the temporary that fails, the
// remote file's old version must stay, and the upload is reported failed.
func TestUploadRenameRefusedKeepsOldVersion(t *testing.T) {
	tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "RNFR" && strings.HasSuffix(arg, "/.b.txt.ferry-tmp") {
			s.Reply(550, "No such file or directory.")
			return true
		}
		return false
	}})
	tg.seed(t, "/site", []node{{Path: "b.txt", Data: []byte("old version"), MTime: baseTime}})
	j := newJob(t, tg, "/site")
	writeTree(t, j.local, []node{
		{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
		{Path: "b.txt", Data: []byte("new version"), MTime: baseTime.Add(time.Hour)},
	})
	res, err := j.run(t.Context(), t, ferrysync.Push, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Action.Path != "b.txt" {
		t.Errorf("failed actions %v, want just b.txt", res.Failed)
	}
	got, err := os.ReadFile(filepath.Join(j.remoteDisk(), "b.txt"))
	if err != nil || string(got) != "old version" {
		t.Errorf("remote b.txt after a refused rename: %q, %v; want the old version kept", got, err)
	}
}
