package sync_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestPullOverwriteWithBackup pulls new versions over old local ones with
// --backup-dir: a big file (fsynced on its own) and small ones (synced by
// the batch, one by one below 16 files, with one syncfs above). Every old
// version must land in the backup folder and every new one under its name,
// with no temporary left.
func TestPullOverwriteWithBackup(t *testing.T) {
	for _, small := range []int{3, 20} {
		t.Run(fmt.Sprintf("%d-small", small), func(t *testing.T) {
			ctx := t.Context()
			tg := startTarget(t, "ftptest", ftptest.Options{})
			j := newJob(t, tg, "/site")
			old, newer := map[string][]byte{}, map[string][]byte{}
			old["big.bin"] = bytes.Repeat([]byte("old big "), 300_000) // 2.4 MB
			newer["big.bin"] = bytes.Repeat([]byte("NEW BIG!"), 310_000)
			for i := range small {
				p := fmt.Sprintf("d/f%02d.txt", i)
				old[p] = fmt.Appendf(nil, "old %d", i)
				newer[p] = fmt.Appendf(nil, "new version %d", i)
			}
			var local, remote []node
			for p := range old {
				local = append(local, node{Path: p, Data: old[p], MTime: baseTime})
				remote = append(remote, node{Path: p, Data: newer[p], MTime: baseTime.Add(time.Hour)})
			}
			writeTree(t, j.local, local)
			tg.seed(t, j.remote, remote)
			bak := filepath.Join(t.TempDir(), "bak")

			res := j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.BackupDir = bak })

			if res.FilesDown != len(old) {
				t.Errorf("%d files down, want %d", res.FilesDown, len(old))
			}
			for p := range old {
				if got, err := os.ReadFile(filepath.Join(j.local, p)); err != nil || !bytes.Equal(got, newer[p]) {
					t.Errorf("local %s: %d bytes (err %v), want the new %d", p, len(got), err, len(newer[p]))
				}
				if got, err := os.ReadFile(filepath.Join(bak, p)); err != nil || !bytes.Equal(got, old[p]) {
					t.Errorf("backup %s: %d bytes (err %v), want the old %d", p, len(got), err, len(old[p]))
				}
			}
			if left := temps(snapshot(t, j.local)); len(left) > 0 {
				t.Errorf("temporaries left: %v", left)
			}
		})
	}
}
