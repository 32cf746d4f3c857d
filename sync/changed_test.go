package sync_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

// version returns size bytes that tell version v apart from any other.
func version(v byte, size int) []byte {
	b := bytes.Repeat([]byte{v}, size)
	for i := 0; i < size; i += 4096 {
		b[i] = byte(i / 4096)
	}
	return b
}

// ctime returns p's inode change time.
func ctime(t *testing.T, p string) time.Time {
	t.Helper()
	info, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(info.Sys().(*syscall.Stat_t).Ctim.Unix())
}

// TestUploadOfFileChangedDuringUploadNotPublished: a local file rewritten
// by another program while ferry uploaded it was renamed into place torn
// (its first chunk of one version, the rest of another) and reported as
// synced. The upload must fail, the server keep its old complete version,
// no temporary stay behind (a resume would trust its end), nothing be
// recorded, and the next run send the new version.
func TestUploadOfFileChangedDuringUploadNotPublished(t *testing.T) {
	const size = 2 << 20 // eight reads of ferry's 256 KiB buffer
	v2 := version('2', size)
	v3 := version('3', size)
	tests := []struct {
		name  string
		linux bool // needs ctime
		// change edits the local file p, whose version v2 has mtime
		// mtime, into v3 or some other version.
		change func(t *testing.T, p string, mtime time.Time)
		// during: while the first chunk is on its way; else between the
		// scan and the upload.
		during bool
	}{
		{"rewritten in place", false, func(t *testing.T, p string, _ time.Time) {
			rewrite(t, p, v3)
		}, true},
		{"rewritten in place, mtime put back", true, func(t *testing.T, p string, mtime time.Time) {
			// Only the ctime tells: wait (spinning, not sleeping) for a
			// ctime tick where timestamps are coarse.
			before := ctime(t, p)
			for ctime(t, p).Equal(before) {
				rewrite(t, p, v3)
				if err := os.Chtimes(p, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}
		}, true},
		{"appended to", false, func(t *testing.T, p string, _ time.Time) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.Write([]byte("more")); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"truncated", false, func(t *testing.T, p string, _ time.Time) {
			if err := os.Truncate(p, size/2); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"rewritten between the scan and the upload", false, func(t *testing.T, p string, _ time.Time) {
			rewrite(t, p, v3)
		}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.linux && runtime.GOOS != "linux" {
				t.Skip("ctime is only checked on Linux")
			}
			t.Parallel()
			tg := startTarget(t, "ftptest", ftptest.Options{})
			v1 := []byte("version 1, complete\n")
			tg.seed(t, "/site", []node{{Path: "big.bin", Data: v1, MTime: baseTime}})
			j := newJob(t, tg, "/site")
			mtime := baseTime.Add(time.Hour)
			local := filepath.Join(j.local, "big.bin")
			writeFile(t, local, v2, mtime)

			changed := false
			res, err := j.run(t.Context(), t, ferrysync.Push, func(o *ferrysync.Options) {
				rep := o.Reporter.(*recorder)
				if tc.during {
					rep.progress = func(a plan.Action, n int64) {
						if a.Path == "big.bin" && !changed {
							changed = true
							tc.change(t, local, mtime)
						}
					}
					return
				}
				o.Reporter = plannedHook{fn: func() {
					changed = true
					tc.change(t, local, mtime)
				}}
			})
			if err != nil {
				t.Fatal(err)
			}
			if !changed {
				t.Fatal("the file was never changed")
			}
			if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ferrysync.ErrChangedDuringUpload) {
				t.Fatalf("failed actions %v, want big.bin's upload failed with ErrChangedDuringUpload", res.Failed)
			}
			if res.FilesUp != 0 {
				t.Errorf("FilesUp = %d, want 0", res.FilesUp)
			}
			remote := snapshot(t, j.remoteDisk())
			if got, err := os.ReadFile(filepath.Join(j.remoteDisk(), "big.bin")); err != nil || !bytes.Equal(got, v1) {
				t.Errorf("remote big.bin after the failed upload: %d bytes, %v; want the old version kept", len(got), err)
			}
			if tmp := temps(remote); len(tmp) > 0 {
				t.Errorf("temporaries left on the server: %v", tmp)
			}
			if n := j.stateLen(t.Context(), t); n != 0 {
				t.Errorf("state cache holds %d records after the failed upload, want 0", n)
			}

			// The next run sends the version the file has now.
			res = j.mustRun(t.Context(), t, ferrysync.Push, nil)
			if res.FilesUp != 1 {
				t.Errorf("second run: FilesUp = %d, want 1", res.FilesUp)
			}
			want, err := os.ReadFile(local)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(filepath.Join(j.remoteDisk(), "big.bin")); err != nil || !bytes.Equal(got, want) {
				t.Errorf("remote big.bin after the second run: %d bytes, %v; want the local version's %d", len(got), err, len(want))
			}
		})
	}
}

// rewrite writes data over p in place (same inode, no truncation).
func rewrite(t *testing.T, p string, data []byte) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
}

// TestDownloadOfFileChangedOnServerNotPublished: a download that receives
// another byte count than the listing showed got a remote file that
// changed since the listing (or while it was sent). It must fail and leave
// the local file as it was, with no temporary; the next run fetches the
// version the server has then.
func TestDownloadOfFileChangedOnServerNotPublished(t *testing.T) {
	tests := []struct {
		name string
		sent []byte // what the server sends for the listed 2 MiB
	}{
		{"remote grew", version('3', 3<<20)},
		{"remote shrank", version('3', 1<<20)},
		{"remote truncated to nothing", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var served atomic.Bool
			tg := startTarget(t, "ftptest", ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
				if cmd != "RETR" || !served.CompareAndSwap(false, true) {
					return false
				}
				s.ServeData(tc.sent, "")
				return true
			}})
			tg.seed(t, "/site", []node{{Path: "big.bin", Data: version('2', 2<<20), MTime: baseTime.Add(time.Hour)}})
			j := newJob(t, tg, "/site")
			v1 := []byte("local version 1\n")
			writeFile(t, filepath.Join(j.local, "big.bin"), v1, baseTime)

			res, err := j.run(t.Context(), t, ferrysync.Pull, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !served.Load() {
				t.Fatal("the server never served the changed file")
			}
			if len(res.Failed) != 1 || !errors.Is(res.Failed[0].Err, ferrysync.ErrChangedDuringDownload) {
				t.Fatalf("failed actions %v, want big.bin's download failed with ErrChangedDuringDownload", res.Failed)
			}
			if got, err := os.ReadFile(filepath.Join(j.local, "big.bin")); err != nil || !bytes.Equal(got, v1) {
				t.Errorf("local big.bin after the failed download: %d bytes, %v; want the old version kept", len(got), err)
			}
			if tmp := temps(snapshot(t, j.local)); len(tmp) > 0 {
				t.Errorf("temporaries left locally: %v", tmp)
			}

			j.mustRun(t.Context(), t, ferrysync.Pull, nil)
			assertSameTree(t, "after the second pull", snapshot(t, j.remoteDisk()), snapshot(t, j.local))
		})
	}
}
