package sync_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestTwoWayClockSkewCausesNoTransfers pins that two-way sync compares each
// side's times only with that side's earlier values: a server whose files
// carry mtimes hours ahead of the local clock (its clock runs 5 hours
// fast) gives no spurious transfer or conflict. After the first merge a
// re-sync is a no-op; a local edit stamped hours before the remote copy's
// time is uploaded (not a conflict, not ignored); a remote edit is
// downloaded; each is followed by a no-op re-sync.
//
// Servers: ftptest with MLSD; ftptest in vsftpd's shape whose own clock (for
// LIST's choice between time of day and year) also runs 5 hours fast; real
// vsftpd, which lists those future files with a year (day precision).
func TestTwoWayClockSkewCausesNoTransfers(t *testing.T) {
	const skew = 5 * time.Hour
	servers := []struct {
		name  string
		start func(t *testing.T) *twServer
	}{
		{"ftptest-mlsd", func(t *testing.T) *twServer { return twStartFTPTest(t, "ftptest-mlsd", ftptest.Options{}) }},
		{"ftptest-list-fast-clock", func(t *testing.T) *twServer {
			o := twListShape()
			o.Now = func() time.Time { return time.Now().Add(skew) }
			return twStartFTPTest(t, "ftptest-list", o)
		}},
		{"vsftpd", func(t *testing.T) *twServer { return twStartReal(t, "vsftpd") }},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			j := twNewJob(t, sv.start(t), "skew")
			now := time.Now().UTC().Truncate(time.Second)
			ahead := now.Add(skew)

			twWrite(t, filepath.Join(j.local, "local.txt"), []byte("written here"), now.Add(-time.Minute+300*time.Millisecond))
			twWrite(t, filepath.Join(j.local, "dir/local2.txt"), []byte("here too"), now.Add(-2*time.Minute))
			twWrite(t, filepath.Join(j.remoteDisk(), "remote.txt"), []byte("written on the server"), ahead)
			twWrite(t, filepath.Join(j.remoteDisk(), "dir/remote2.txt"), []byte("also there"), ahead.Add(-time.Minute))
			j.chown(t)

			res := j.mustRun(ctx, t, nil)
			want := []string{"download dir/remote2.txt", "download remote.txt", "upload dir/local2.txt", "upload local.txt"}
			if got := twMoves(res); !slices.Equal(got, want) {
				t.Errorf("first run planned %q, want %q", got, want)
			}
			twAssertInStep(t, j, "after the first run")
			twAssertNoOp(ctx, t, j, "after the first run")

			// A local edit, stamped by the local clock hours before the
			// remote copy's time: an upload, not a conflict.
			twWrite(t, filepath.Join(j.local, "remote.txt"), []byte("edited locally"), now.Add(time.Second+100*time.Millisecond))
			res = j.mustRun(ctx, t, nil)
			if got, want := twMoves(res), []string{"upload remote.txt"}; !slices.Equal(got, want) {
				t.Errorf("after a local edit: planned %q, want %q", got, want)
			}
			twAssertInStep(t, j, "after a local edit")
			twAssertNoOp(ctx, t, j, "after a local edit")

			// A remote edit, stamped by the fast server clock, three minutes on.
			twWrite(t, filepath.Join(j.remoteDisk(), "local.txt"), []byte("edited on the server"), ahead.Add(3*time.Minute))
			j.chown(t)
			res = j.mustRun(ctx, t, nil)
			if got, want := twMoves(res), []string{"download local.txt"}; !slices.Equal(got, want) {
				t.Errorf("after a remote edit: planned %q, want %q", got, want)
			}
			twAssertInStep(t, j, "after a remote edit")
			twAssertNoOp(ctx, t, j, "after a remote edit")
		})
	}
}
