package sync_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestUploadCutShortNotPublished is issue 10's "partial file published
// under its real name, reported as success": a server dropped an upload's
// data connection part way and still answered 226, and ferry renamed the
// 290,789-byte temporary over big.bin (2,097,169 bytes). The size on the
// server must be checked before the rename: the real name keeps its old
// version, the action fails after one retry (ErrUploadSize), nothing is
// recorded and no temporary is left. When only the first try is cut
// short, the retry publishes the whole file.
func TestUploadCutShortNotPublished(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		keep  int64
		drain bool // the server reads the rest and drops it; else it resets the connection
		cuts  int  // tries the server cuts short
	}{
		{"issue 10: 2 MiB, server keeps 290,789 bytes", 2_097_169, 290_789, true, 2},
		{"small file, server keeps 10 KiB", 40 << 10, 10 << 10, true, 2},
		{"small file, cut once: the retry publishes", 40 << 10, 10 << 10, true, 1},
		// A reset the client may or may not notice (a write error is a
		// transient failure, retried up to three times): however often
		// it is tried, the partial file is never published.
		{"connection reset after 10 KiB", 40 << 10, 10 << 10, false, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stors, cut atomic.Int32
			tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != "STOR" || !strings.HasSuffix(arg, "/.big.bin.ferry-tmp") {
					return false
				}
				stors.Add(1)
				if cut.Add(1) > int32(tc.cuts) {
					return false
				}
				s.StorPartial(arg, tc.keep, tc.drain, "226 Transfer complete.")
				return true
			}})
			old := []byte("version 1, complete\n")
			tg.seed(t, "/site", []node{{Path: "big.bin", Data: old, MTime: baseTime}})
			j := newJob(t, tg, "/site")
			v2 := version('2', tc.size)
			writeFile(t, filepath.Join(j.local, "big.bin"), v2, baseTime.Add(time.Hour))

			res, err := j.run(t.Context(), t, ferrysync.Push, nil)
			if err != nil {
				t.Fatal(err)
			}
			if n := stors.Load(); n != 2 && tc.drain {
				t.Errorf("%d STORs of the temporary, want 2 (one retry)", n)
			}
			got, err := os.ReadFile(filepath.Join(j.remoteDisk(), "big.bin"))
			if err != nil {
				t.Fatal(err)
			}
			rec, recorded := j.records(t.Context(), t)["big.bin"]
			if tc.cuts == 1 {
				if len(res.Failed) > 0 || res.FilesUp != 1 || string(got) != string(v2) {
					t.Errorf("cut once: failed %v, FilesUp %d, remote %d bytes; want the retry to publish %d", res.Failed, res.FilesUp, len(got), len(v2))
				}
				if !recorded || rec.Remote.Size != int64(len(v2)) {
					t.Errorf("cut once: record %+v (%v), want the whole file recorded", rec, recorded)
				}
				if left := temps(snapshot(t, j.remoteDisk())); len(left) > 0 {
					t.Errorf("temporaries left on the server: %v", left)
				}
				return
			}
			if string(got) != string(old) {
				t.Errorf("remote big.bin holds %d bytes, want the old version (%d bytes) kept", len(got), len(old))
			}
			if len(res.Failed) != 1 || res.Failed[0].Action.Path != "big.bin" {
				t.Fatalf("failed actions %v, want the upload of big.bin", res.Failed)
			}
			if res.FilesUp != 0 {
				t.Errorf("FilesUp = %d, want 0", res.FilesUp)
			}
			if recorded {
				t.Errorf("big.bin recorded as synced: %+v", rec)
			}
			if !tc.drain {
				return // the last try may have failed on the reset: its temporary stays for a resume
			}
			if left := temps(snapshot(t, j.remoteDisk())); len(left) > 0 {
				t.Errorf("temporaries left on the server: %v", left)
			}
			if !errors.Is(res.Failed[0].Err, ferrysync.ErrUploadSize) {
				t.Errorf("error %v, want ErrUploadSize", res.Failed[0].Err)
			}
			if msg := res.Failed[0].Error(); !strings.Contains(msg, "big.bin") || !strings.Contains(msg, "were sent") {
				t.Errorf("error %q does not name the file and the byte counts", msg)
			}
		})
	}
}
