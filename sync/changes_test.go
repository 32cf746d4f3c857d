package sync_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

// TestChangeOnlyRun pins the agent issue's watch runs: a run over a set of
// changed paths syncs exactly those (new, modified, deleted files, a new
// folder with files, a renamed folder), lists only their parent folders,
// and leaves every other path alone, even one that changed too.
func TestChangeOnlyRun(t *testing.T) {
	ctx := context.Background()
	for _, kind := range serverKinds() {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, kind, ftptest.Options{})
			j := newJob(t, tg, "/site")
			writeTree(t, j.local, []node{
				{Path: "keep.txt", Data: []byte("keep")},
				{Path: "a.txt", Data: []byte("a1")},
				{Path: "gone.txt", Data: []byte("gone")},
				{Path: "deep/x/y/z.txt", Data: []byte("zzz")},
				{Path: "old/one.txt", Data: []byte("one")},
				{Path: "old/sub/two.txt", Data: []byte("two")},
				{Path: "other/untouched.txt", Data: []byte("u")},
			})
			j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })

			// The watched changes.
			writeFile(t, filepath.Join(j.local, "a.txt"), []byte("a2 longer"), baseTime)
			must(t, os.Remove(filepath.Join(j.local, "gone.txt")))
			writeTree(t, j.local, []node{{Path: "new/n1.txt", Data: []byte("n1")}, {Path: "new/inner/n2.txt", Data: []byte("n2")}})
			writeFile(t, filepath.Join(j.local, "deep/x/y/z2.txt"), []byte("z2"), baseTime)
			must(t, os.Rename(filepath.Join(j.local, "old"), filepath.Join(j.local, "renamed")))
			// A change the run is not told about stays unsynced.
			writeFile(t, filepath.Join(j.local, "other/untouched.txt"), []byte("changed, not watched"), baseTime)

			changed := []string{"a.txt", "gone.txt", "new", "new/n1.txt", "deep/x/y/z2.txt", "old", "renamed", "renamed/one.txt"}
			res := j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true; o.Paths = changed })
			if !res.ChangeOnly {
				t.Fatalf("the run fell back to a full run")
			}
			// Parents listed: "" (a.txt, gone.txt, new, old, renamed) and
			// deep/x/y; below them only old/ and old/sub/ (to delete them).
			if res.Scan.Listings > 4 {
				t.Errorf("change-only run made %d listings, want at most 4", res.Scan.Listings)
			}
			want := []string{
				"delete-remote gone.txt", "delete-remote old", "delete-remote old/one.txt", "delete-remote old/sub", "delete-remote old/sub/two.txt",
				"mkdir-remote new", "mkdir-remote new/inner", "mkdir-remote renamed", "mkdir-remote renamed/sub",
				"upload a.txt", "upload deep/x/y/z2.txt", "upload new/inner/n2.txt", "upload new/n1.txt",
				"upload renamed/one.txt", "upload renamed/sub/two.txt",
			}
			if got := actions(res); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("actions:\n got %q\nwant %q", got, want)
			}
			if got, err := os.ReadFile(filepath.Join(j.remoteDisk(), "other/untouched.txt")); err != nil || string(got) != "u" {
				t.Errorf("unwatched change reached the server: %q, %v", got, err)
			}
			// A full run afterwards finds only the unwatched change.
			res = j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
			if got := actions(res); strings.Join(got, ",") != "upload other/untouched.txt" {
				t.Errorf("full run after the change-only run: %q, want only the unwatched file", got)
			}
			assertSameTree(t, "remote after both runs", snapshot(t, j.local), snapshot(t, j.remoteDisk()))

			// One changed file: asked about alone (MLST), no listing at
			// all where the server has MLST (vsftpd has not: one listing).
			writeFile(t, filepath.Join(j.local, "deep/x/y/z.txt"), []byte("zzz, edited"), baseTime)
			res = j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true; o.Paths = []string{"deep/x/y/z.txt"} })
			wantListings := 0
			if kind == "vsftpd" {
				wantListings = 1
			}
			if got := actions(res); !res.ChangeOnly || strings.Join(got, ",") != "upload deep/x/y/z.txt" || res.Scan.Listings != wantListings {
				t.Errorf("one-file change: change-only %v, actions %q, %d listings (want %d)", res.ChangeOnly, got, res.Scan.Listings, wantListings)
			}
			// A new name, which MLST reports absent (550).
			writeFile(t, filepath.Join(j.local, "deep/x/y/brand-new.txt"), []byte("new"), baseTime)
			res = j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Paths = []string{"deep/x/y/brand-new.txt"} })
			if got := actions(res); strings.Join(got, ",") != "upload deep/x/y/brand-new.txt" {
				t.Errorf("one new file: actions %q", got)
			}
			assertSameTree(t, "remote after the one-file runs", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
		})
	}
}

// TestChangeOnlyRunKeepsGuards: the delete guards count the whole tree
// (from the state cache), not the few paths a change-only run looks at.
func TestChangeOnlyRunKeepsGuards(t *testing.T) {
	ctx := context.Background()
	tg := startTarget(t, "ftptest", ftptest.Options{})
	j := newJob(t, tg, "/g")
	writeTree(t, j.local, []node{{Path: "a", Data: []byte("a")}, {Path: "b", Data: []byte("b")}, {Path: "c", Data: []byte("c")}})
	j.mustRun(ctx, t, ferrysync.TwoWay, nil)
	must(t, os.Remove(filepath.Join(j.local, "a")))
	// One delete of three files: allowed by the half-the-files guard,
	// though it is all of the change-only run's view.
	res := j.mustRun(ctx, t, ferrysync.TwoWay, func(o *ferrysync.Options) { o.Paths = []string{"a"} })
	if got := actions(res); !res.ChangeOnly || strings.Join(got, ",") != "delete-remote a" {
		t.Errorf("change-only two-way delete: change-only %v, actions %q", res.ChangeOnly, got)
	}
	// max_delete 0 refuses it.
	must(t, os.Remove(filepath.Join(j.local, "b")))
	_, err := j.run(ctx, t, ferrysync.TwoWay, func(o *ferrysync.Options) { o.Paths = []string{"b"}; o.MaxDelete = 0 })
	var tm *plan.TooManyDeletesError
	if !errors.As(err, &tm) {
		t.Fatalf("max delete 0: err = %v, want a TooManyDeletesError", err)
	}
	// A root deleted and re-created (same device, another inode) is
	// refused, also by a change-only run.
	must(t, os.RemoveAll(j.local))
	must(t, os.MkdirAll(j.local, 0o755))
	writeTree(t, j.local, []node{{Path: "b", Data: []byte("b")}})
	if _, err := j.run(ctx, t, ferrysync.TwoWay, func(o *ferrysync.Options) { o.Paths = []string{"b"} }); !errors.Is(err, ferrysync.ErrRootVanished) {
		t.Errorf("re-created root: err = %v, want ErrRootVanished", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestChangeOnlyRunFallsBackOnABigBurst: thousands of changed paths (a
// checkout, an unpacked archive) make a full run, cheaper than thousands
// of look-ups; so does a parent folder the state does not know.
func TestChangeOnlyRunFallsBackOnABigBurst(t *testing.T) {
	ctx := context.Background()
	tg := startTarget(t, "ftptest", ftptest.Options{})
	j := newJob(t, tg, "/b")
	writeTree(t, j.local, []node{{Path: "a", Data: []byte("a")}})
	j.mustRun(ctx, t, ferrysync.Push, nil)
	var burst []string
	for i := range 2001 {
		burst = append(burst, fmt.Sprintf("f%04d", i))
	}
	if res := j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Paths = burst }); res.ChangeOnly {
		t.Error("2,001 changed paths ran change-only, want a full run")
	}
	writeTree(t, j.local, []node{{Path: "unknown/deeper/x", Data: []byte("x")}})
	res := j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Paths = []string{"unknown/deeper/x"} })
	// The new folder "unknown" is the change (lifted); its parent is the
	// root, which is known: still change-only, and the folder goes up.
	if got := actions(res); !res.ChangeOnly || strings.Join(got, ",") != "mkdir-remote unknown,mkdir-remote unknown/deeper,upload unknown/deeper/x" {
		t.Errorf("new nested folder: change-only %v, actions %q", res.ChangeOnly, got)
	}
}

// TestFullRunRemovesAKilledProbesFolder: the scratch folder a killed time
// zone probe left on the server is never synced, and a full run removes it.
func TestFullRunRemovesAKilledProbesFolder(t *testing.T) {
	ctx := context.Background()
	tg := startTarget(t, "ftptest", ftptest.Options{})
	j := newJob(t, tg, "/p")
	writeTree(t, j.local, []node{{Path: "a", Data: []byte("a")}})
	tg.seed(t, "/p", []node{{Path: ".ferry-probe-0123456789ab/zone", Data: []byte("z")}})
	res := j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
	if got := actions(res); strings.Join(got, ",") != "upload a" {
		t.Errorf("actions %q, want only upload a (the probe folder is not synced)", got)
	}
	if _, err := os.Stat(filepath.Join(j.remoteDisk(), ".ferry-probe-0123456789ab")); !os.IsNotExist(err) {
		t.Errorf("the killed probe's folder is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(j.local, ".ferry-probe-0123456789ab")); !os.IsNotExist(err) {
		t.Errorf("the probe folder was copied locally: %v", err)
	}
}
