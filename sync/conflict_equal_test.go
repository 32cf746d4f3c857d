package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestEqualVersionsAreNoConflict: both sides changed a.txt to the same
// bytes (different mtimes). With a server hash the two versions are found
// equal and no conflict copy is made; without one, equal sizes prove
// nothing and both versions are kept.
func TestEqualVersionsAreNoConflict(t *testing.T) {
	for _, offer := range []bool{true, false} {
		t.Run(map[bool]string{true: "server hash", false: "no server hash"}[offer], func(t *testing.T) {
			h := newHashServer(t, offer, false)
			local := t.TempDir()
			remote := filepath.Join(h.Root, "site")
			os.MkdirAll(remote, 0o755)
			write := func(p, body string, mt time.Time) {
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
				os.Chtimes(p, mt, mt)
			}
			t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
			write(filepath.Join(local, "a.txt"), "first", t0)
			write(filepath.Join(local, "keep.txt"), "keep", t0)

			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			db, err := state.Open(ctx, filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			sync := func() *ferrysync.Result {
				store, err := db.Bind(ctx, local, "ftp://test@"+h.Addr+"/site")
				if err != nil {
					t.Fatal(err)
				}
				pool := ftp.NewPool(ftp.Config{Addr: h.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 10 * time.Second}, 2)
				defer pool.Close()
				res, err := ferrysync.Run(ctx, ferrysync.Options{Mode: ferrysync.TwoWay, Local: local, Pool: pool, Remote: "/site", Store: store, Parallel: 2, MaxDelete: -1})
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if err := store.Close(ctx); err != nil {
					t.Fatal(err)
				}
				if len(res.Failed) > 0 {
					t.Fatalf("failed: %v", res.Failed)
				}
				return res
			}
			sync()
			write(filepath.Join(local, "a.txt"), "same!", t0.Add(time.Hour))
			write(filepath.Join(remote, "a.txt"), "same!", t0.Add(2*time.Hour))
			res := sync()

			copies := 0
			for _, dir := range []string{local, remote} {
				entries, _ := os.ReadDir(dir)
				for _, e := range entries {
					if strings.Contains(e.Name(), ".conflict-") {
						copies++
					}
				}
			}
			if offer {
				if copies != 0 || res.FilesUp+res.FilesDown != 0 {
					t.Errorf("equal versions: %d conflict copies, %d up, %d down; want none", copies, res.FilesUp, res.FilesDown)
				}
				if second := sync(); second.FilesUp+second.FilesDown+second.Deleted != 0 {
					t.Errorf("the next sync moved files: %+v", second)
				}
			} else if copies != 2 {
				t.Errorf("without a server hash: %d conflict copies, want 2 (one each side)", copies)
			}
		})
	}
}
