package sync_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// TestDryRunChangesNothing pins "-n: print the plan, change nothing (no
// transfer, no delete, no state write)": a first push into a missing
// remote folder does not create it, a push --delete after local changes
// leaves the server as it was, and a pull into a missing local folder does
// not create it; no run writes to the state cache, yet each returns the
// plan it would have run.
func TestDryRunChangesNothing(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		j := newJob(t, tg, "/site")
		writeTree(t, j.local, richTree())

		counter := func(w **writeCounter) func(o *ferrysync.Options) {
			return func(o *ferrysync.Options) {
				*w = &writeCounter{Store: o.Store}
				o.Store = *w
				o.DryRun = true
				o.Delete = true
			}
		}
		var wc *writeCounter
		res := j.mustRun(ctx, t, ferrysync.Push, counter(&wc))
		if !res.DryRun || res.FilesUp != 0 || !slices.Contains(actions(res), "upload README.txt") {
			t.Errorf("dry-run push: DryRun %v, FilesUp %d, actions %q; want a plan with uploads and nothing done", res.DryRun, res.FilesUp, actions(res))
		}
		if _, err := os.Lstat(j.remoteDisk()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry-run push created the remote folder (lstat: %v)", err)
		}
		if len(wc.writes) > 0 || j.stateLen(ctx, t) != 0 {
			t.Errorf("dry-run push wrote to the state cache: %q", wc.writes)
		}

		j.mustRun(ctx, t, ferrysync.Push, nil)
		remoteBefore, records := snapshot(t, j.remoteDisk()), j.stateLen(ctx, t)
		if err := os.Remove(filepath.Join(j.local, "README.txt")); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(j.local, "empty.txt"), []byte("not empty any more"), baseTime)
		res = j.mustRun(ctx, t, ferrysync.Push, counter(&wc))
		if got, want := actions(res), []string{"delete-remote README.txt", "upload empty.txt"}; !slices.Equal(got, want) {
			t.Errorf("dry-run push --delete planned %q, want %q", got, want)
		}
		assertUntouched(t, "dry-run push --delete", remoteBefore, snapshot(t, j.remoteDisk()))
		if len(wc.writes) > 0 || j.stateLen(ctx, t) != records {
			t.Errorf("dry-run push --delete wrote to the state cache: %q", wc.writes)
		}

		p := newJob(t, tg, "/site")
		p.local = filepath.Join(p.local, "copy")
		res = p.mustRun(ctx, t, ferrysync.Pull, counter(&wc))
		if res.FilesDown != 0 || !slices.Contains(actions(res), "download README.txt") {
			t.Errorf("dry-run pull: FilesDown %d, actions %q; want a plan with downloads and nothing done", res.FilesDown, actions(res))
		}
		if _, err := os.Lstat(p.local); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry-run pull created the local folder (lstat: %v)", err)
		}
		if len(wc.writes) > 0 || p.stateLen(ctx, t) != 0 {
			t.Errorf("dry-run pull wrote to the state cache: %q", wc.writes)
		}
	})
}

// TestExcludedPathsNeitherTransferredNorDeleted pins --exclude both ways:
// excluded local paths are not uploaded, excluded remote paths are not
// downloaded, and with --delete neither side loses its excluded entries.
func TestExcludedPathsNeitherTransferredNorDeleted(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		ex, err := ferrysync.NewExcluder([]string{"*.log", "cache/", "/build/out.txt"})
		if err != nil {
			t.Fatal(err)
		}
		withExcludes := func(o *ferrysync.Options) { o.Exclude = ex; o.Delete = true }

		j := newJob(t, tg, "/site")
		writeTree(t, j.local, []node{
			{Path: "keep.txt", Data: []byte("keep"), MTime: baseTime},
			{Path: "debug.log", Data: []byte("local log"), MTime: baseTime},
			{Path: "deep/trace.log", Data: []byte("local log"), MTime: baseTime},
			{Path: "cache/blob", Data: []byte("local cache"), MTime: baseTime},
			{Path: "build/out.txt", Data: []byte("anchored"), MTime: baseTime},
			{Path: "sub/build/out.txt", Data: []byte("not anchored here"), MTime: baseTime},
		})
		tg.seed(t, j.remote, []node{
			{Path: "old.log", Data: []byte("remote log"), MTime: baseTime},
			{Path: "cache/remote-only", Data: []byte("remote cache"), MTime: baseTime},
			{Path: "build/out.txt", Data: []byte("remote build output"), MTime: baseTime},
			{Path: "stale.txt", Data: []byte("not excluded: deleted"), MTime: baseTime},
		})
		res := j.mustRun(ctx, t, ferrysync.Push, withExcludes)
		want := []string{"delete-remote stale.txt", "mkdir-remote deep", "mkdir-remote sub", "mkdir-remote sub/build", "upload keep.txt", "upload sub/build/out.txt"}
		if got := actions(res); !slices.Equal(got, want) {
			t.Errorf("push with excludes planned %q, want %q", got, want)
		}
		remote := snapshot(t, j.remoteDisk())
		for _, p := range []string{"old.log", "cache/remote-only", "build/out.txt", "keep.txt", "sub/build/out.txt"} {
			if _, ok := remote[p]; !ok {
				t.Errorf("after push: remote %q missing", p)
			}
		}
		for _, p := range []string{"debug.log", "deep/trace.log", "cache/blob", "stale.txt"} {
			if _, ok := remote[p]; ok {
				t.Errorf("after push: remote %q should not be there", p)
			}
		}
		if remote["build/out.txt"].Size != int64(len("remote build output")) {
			t.Errorf("the excluded remote build/out.txt was overwritten")
		}

		// Pull the same folder into a local tree with excluded extras.
		p := newJob(t, tg, "/site")
		writeTree(t, p.local, []node{
			{Path: "mine.log", Data: []byte("local only log"), MTime: baseTime},
			{Path: "cache/local-only", Data: []byte("local cache"), MTime: baseTime},
			{Path: "gone.txt", Data: []byte("not excluded: deleted"), MTime: baseTime},
		})
		p.mustRun(ctx, t, ferrysync.Pull, withExcludes)
		local := snapshot(t, p.local)
		for _, p := range []string{"mine.log", "cache/local-only", "keep.txt", "sub/build/out.txt"} {
			if _, ok := local[p]; !ok {
				t.Errorf("after pull: local %q missing", p)
			}
		}
		for _, p := range []string{"old.log", "cache/remote-only", "build/out.txt", "gone.txt"} {
			if _, ok := local[p]; ok {
				t.Errorf("after pull: local %q should not be there", p)
			}
		}
	})
}

// TestMaxDeleteRefusesPlan pins --max-delete: a plan deleting more entries
// than allowed is refused with an error and nothing at all is changed (no
// delete, no upload or download, no state written).
func TestMaxDeleteRefusesPlan(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		tree := []node{
			{Path: "a.txt", Data: []byte("a"), MTime: baseTime},
			{Path: "b.txt", Data: []byte("b"), MTime: baseTime},
			{Path: "dir/c.txt", Data: []byte("c"), MTime: baseTime},
		}
		j := newJob(t, tg, "/site")
		writeTree(t, j.local, tree)
		j.mustRun(ctx, t, ferrysync.Push, nil)
		for _, p := range []string{"a.txt", "b.txt", "dir"} {
			os.RemoveAll(filepath.Join(j.local, p))
		}
		writeFile(t, filepath.Join(j.local, "new.txt"), []byte("new"), baseTime)
		remoteBefore, records := snapshot(t, j.remoteDisk()), j.stateLen(ctx, t)
		var wc *writeCounter
		res, err := j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) {
			o.Delete, o.MaxDelete = true, 2
			wc = &writeCounter{Store: o.Store}
			o.Store = wc
		})
		if err == nil {
			t.Fatalf("push --delete --max-delete 2 with 4 deletions ran (result %+v)", res)
		}
		assertUntouched(t, "refused push", remoteBefore, snapshot(t, j.remoteDisk()))
		if len(wc.writes) > 0 || j.stateLen(ctx, t) != records {
			t.Errorf("refused push wrote to the state cache: %q", wc.writes)
		}

		// The same limit on a pull (local extras: two files and a folder).
		p := newJob(t, tg, "/site")
		writeTree(t, p.local, append(tree[:2:2],
			node{Path: "x1", Data: []byte("x"), MTime: baseTime},
			node{Path: "x2", Data: []byte("x"), MTime: baseTime},
			node{Path: "xdir/"}))
		localBefore := snapshot(t, p.local)
		if _, err := p.run(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete, o.MaxDelete = true, 2 }); err == nil {
			t.Fatal("pull --delete --max-delete 2 with 3 deletions ran")
		}
		assertUntouched(t, "refused pull", localBefore, snapshot(t, p.local))

		// At the limit, the plan runs.
		res, err = p.run(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete, o.MaxDelete = true, 3 })
		if err != nil || res.Deleted != 3 {
			t.Fatalf("pull --delete --max-delete 3 with 3 deletions: %v (result %+v)", err, res)
		}
		assertSameTree(t, "pull at the limit", snapshot(t, j.remoteDisk()), snapshot(t, p.local))
	})
}

// TestRemoteRootMissing pins what happens when the remote folder does not
// exist: a pull fails naming it (and changes nothing locally, not even
// creating a missing destination folder); a push
// creates it, parents included (TestPushRoundTrip checks the contents).
func TestRemoteRootMissing(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		j := newJob(t, tg, "/no/such/folder")
		writeFile(t, filepath.Join(j.local, "precious.txt"), []byte("mine"), baseTime)
		before := snapshot(t, j.local)
		_, err := j.run(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete = true })
		if err == nil || !strings.Contains(err.Error(), "/no/such/folder") {
			t.Errorf("pull from a missing remote folder: error %v, want one naming /no/such/folder", err)
		}
		assertUntouched(t, "pull from a missing folder", before, snapshot(t, j.local))
		fresh := newJob(t, tg, "/no/such/folder")
		fresh.local = filepath.Join(fresh.local, "new")
		if _, err := fresh.run(ctx, t, ferrysync.Pull, nil); err == nil {
			t.Errorf("first pull from a missing remote folder succeeded")
		}
		if _, err := os.Lstat(fresh.local); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed first pull left the destination folder behind (lstat: %v)", err)
		}

		j.mustRun(ctx, t, ferrysync.Push, nil)
		assertSameTree(t, "push into a missing folder", before, snapshot(t, j.remoteDisk()))
	})
}

// TestLocalRootVanished pins ErrRootVanished: after a sync, a push from the
// same folder now empty, a push from a folder that no longer exists and a
// pull into a folder that no longer exists all stop before touching either
// side (with --delete, the push would otherwise wipe the server).
func TestLocalRootVanished(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		j := newJob(t, tg, "/site")
		writeTree(t, j.local, richTree())
		j.mustRun(ctx, t, ferrysync.Push, nil)
		remoteBefore := snapshot(t, j.remoteDisk())

		entries, err := os.ReadDir(j.local)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(j.local, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		_, err = j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
		if !errors.Is(err, ferrysync.ErrRootVanished) {
			t.Errorf("push --delete from the emptied folder: error %v, want ErrRootVanished", err)
		}
		assertUntouched(t, "push from an emptied folder", remoteBefore, snapshot(t, j.remoteDisk()))

		if err := os.Remove(j.local); err != nil {
			t.Fatal(err)
		}
		_, err = j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
		if !errors.Is(err, ferrysync.ErrRootVanished) {
			t.Errorf("push --delete from a missing folder: error %v, want ErrRootVanished", err)
		}
		_, err = j.run(ctx, t, ferrysync.Pull, nil)
		if !errors.Is(err, ferrysync.ErrRootVanished) {
			t.Errorf("pull into a folder that vanished: error %v, want ErrRootVanished", err)
		}
		if _, err := os.Lstat(j.local); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the vanished local folder was recreated (lstat: %v)", err)
		}
		assertUntouched(t, "after the refused runs", remoteBefore, snapshot(t, j.remoteDisk()))
	})
}

// TestLocalSymlinksSkipped pins "symlinks on the local side are not
// followed out of the root; by default they are skipped with a warning":
// links to a folder and a file outside the root and to a file inside are
// neither uploaded nor followed, each is reported, and with --delete a
// remote file at a link's name is left alone (the path is unknown, not
// absent).
func TestLocalSymlinksSkipped(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		outside := t.TempDir()
		writeFile(t, filepath.Join(outside, "secret/key"), []byte("SECRET"), baseTime)
		writeFile(t, filepath.Join(outside, "secret.txt"), []byte("SECRET"), baseTime)

		j := newJob(t, tg, "/site")
		writeTree(t, j.local, []node{
			{Path: "README.txt", Data: []byte("hello"), MTime: baseTime},
			{Path: "sub/file.txt", Data: []byte("file"), MTime: baseTime},
		})
		links := map[string]string{
			"link-dir":        filepath.Join(outside, "secret"),
			"link-file":       filepath.Join(outside, "secret.txt"),
			"sub/link-up":     "../../" + filepath.Base(outside) + "/secret.txt",
			"sub/link-inside": "file.txt",
		}
		for name, target := range links {
			if err := os.Symlink(target, filepath.Join(j.local, name)); err != nil {
				t.Fatal(err)
			}
		}
		tg.seed(t, j.remote, []node{{Path: "link-file", Data: []byte("remote, not a link"), MTime: baseTime}})

		res := j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
		for name := range links {
			found := false
			for _, w := range res.Warnings {
				if strings.Contains(w.Error(), name) {
					found = true
				}
			}
			if !found {
				t.Errorf("no warning names the symlink %s (warnings: %v)", name, res.Warnings)
			}
		}
		want := map[string]fileInfo{}
		for p, fi := range snapshot(t, j.local) {
			if _, isLink := links[p]; !isLink {
				want[p] = fi
			}
		}
		want["link-file"] = snapshot(t, j.remoteDisk())["link-file"]
		assertSameTree(t, "remote after pushing symlinks", want, snapshot(t, j.remoteDisk()))
		for _, a := range res.Plan.Actions {
			if _, isLink := links[a.Path]; isLink && a.Op != plan.Forget {
				t.Errorf("planned %v on a symlink", a)
			}
		}
	})
}
