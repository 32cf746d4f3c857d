package sync_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
)

func countFiles(tree []node) int {
	n := 0
	for _, x := range tree {
		if !strings.HasSuffix(x.Path, "/") {
			n++
		}
	}
	return n
}

// TestPushRoundTrip pins the one-way push guarantees on every server: a
// tree with awkward names round-trips with contents and mtimes (to the
// second) into a remote folder that did not exist; a re-run moves nothing;
// a lost state cache adopts the unchanged tree instead of re-uploading it
// (also on vsftpd, whose LIST times are day-precise for old files); a
// same-size rewrite with a new mtime uploads exactly that file; --delete
// makes the remote an exact mirror.
func TestPushRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		j := newJob(t, tg, "/deep/er/site")
		tree := richTree()
		writeTree(t, j.local, tree)

		// First push: the remote folder is created, everything goes up.
		res := j.mustRun(ctx, t, ferrysync.Push, nil)
		if res.FilesUp != countFiles(tree) {
			t.Errorf("first push: FilesUp = %d, want %d", res.FilesUp, countFiles(tree))
		}
		assertSameTree(t, "after push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))

		// A re-run transfers nothing and rewrites nothing.
		before := snapshot(t, j.remoteDisk())
		res = j.mustRun(ctx, t, ferrysync.Push, nil)
		if res.FilesUp != 0 || len(actions(res)) != 0 {
			t.Errorf("no-op push: FilesUp = %d, actions %q, want none", res.FilesUp, actions(res))
		}
		assertUntouched(t, "no-op push", before, snapshot(t, j.remoteDisk()))

		// A lost state cache: the unchanged tree is adopted, not re-sent.
		j.state = filepath.Join(t.TempDir(), "fresh.db")
		res = j.mustRun(ctx, t, ferrysync.Push, nil)
		if res.FilesUp != 0 || res.Adopted == 0 || len(actions(res)) != 0 {
			t.Errorf("push with a new state cache: FilesUp = %d, Adopted = %d, actions %q; want 0, >0, none", res.FilesUp, res.Adopted, actions(res))
		}
		assertUntouched(t, "push with a new state cache", before, snapshot(t, j.remoteDisk()))

		// Same size, new content and an mtime 90 s later (the same day, so
		// vsftpd's LIST shows no difference): exactly that file goes up.
		changed := "nested/a/b/deep.txt"
		writeFile(t, filepath.Join(j.local, changed), bytes.Repeat([]byte("DEEP\n"), 1000), baseTime.Add(9*37*time.Minute+90*time.Second))
		res = j.mustRun(ctx, t, ferrysync.Push, nil)
		if got, want := actions(res), []string{"upload " + changed}; !slices.Equal(got, want) || res.FilesUp != 1 {
			t.Errorf("incremental push: actions %q, FilesUp %d; want %q, 1", got, res.FilesUp, want)
		}
		after := snapshot(t, j.remoteDisk())
		assertSameTree(t, "after incremental push", snapshot(t, j.local), after)
		notChanged := func(p string) bool { return p == changed }
		assertUntouched(t, "incremental push, other files", without(before, notChanged), without(after, notChanged))

		// --delete: removed local files and folders go on the server too.
		for _, p := range []string{"with space.txt", "nested/a/b"} {
			if err := os.RemoveAll(filepath.Join(j.local, p)); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, filepath.Join(j.local, "nested/new file"), []byte("new\n"), baseTime)
		res = j.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
		if res.FilesUp != 1 || res.Deleted != 3 {
			t.Errorf("push --delete: FilesUp %d, Deleted %d; want 1, 3 (actions %q)", res.FilesUp, res.Deleted, actions(res))
		}
		assertSameTree(t, "after push --delete", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
		if tm := temps(snapshot(t, tg.root)); len(tm) > 0 {
			t.Errorf("temporaries left on the server: %q", tm)
		}
	})
}

// TestPullRoundTrip is TestPushRoundTrip the other way: a tree put on the
// server's disk is pulled into a local folder that does not exist yet, with
// contents and the remote mtimes; re-runs, a lost state cache, a same-size
// remote change and --delete behave as for push.
func TestPullRoundTrip(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		ctx := t.Context()
		j := newJob(t, tg, "/site")
		j.local = filepath.Join(j.local, "copy")
		tree := richTree()
		tg.seed(t, j.remote, tree)

		res := j.mustRun(ctx, t, ferrysync.Pull, nil)
		if res.FilesDown != countFiles(tree) {
			t.Errorf("first pull: FilesDown = %d, want %d", res.FilesDown, countFiles(tree))
		}
		assertSameTree(t, "after pull", snapshot(t, j.remoteDisk()), snapshot(t, j.local))

		before := snapshot(t, j.local)
		res = j.mustRun(ctx, t, ferrysync.Pull, nil)
		if res.FilesDown != 0 || len(actions(res)) != 0 {
			t.Errorf("no-op pull: FilesDown = %d, actions %q, want none", res.FilesDown, actions(res))
		}
		assertUntouched(t, "no-op pull", before, snapshot(t, j.local))

		j.state = filepath.Join(t.TempDir(), "fresh.db")
		res = j.mustRun(ctx, t, ferrysync.Pull, nil)
		if res.FilesDown != 0 || res.Adopted == 0 || len(actions(res)) != 0 {
			t.Errorf("pull with a new state cache: FilesDown = %d, Adopted = %d, actions %q; want 0, >0, none", res.FilesDown, res.Adopted, actions(res))
		}
		assertUntouched(t, "pull with a new state cache", before, snapshot(t, j.local))

		changed := "nested/a/b/deep.txt"
		tg.seed(t, j.remote, []node{{Path: changed, Data: bytes.Repeat([]byte("DEEP\n"), 1000), MTime: baseTime.Add(48 * time.Hour)}})
		res = j.mustRun(ctx, t, ferrysync.Pull, nil)
		if got, want := actions(res), []string{"download " + changed}; !slices.Equal(got, want) || res.FilesDown != 1 {
			t.Errorf("incremental pull: actions %q, FilesDown %d; want %q, 1", got, res.FilesDown, want)
		}
		after := snapshot(t, j.local)
		assertSameTree(t, "after incremental pull", snapshot(t, j.remoteDisk()), after)
		notChanged := func(p string) bool { return p == changed }
		assertUntouched(t, "incremental pull, other files", without(before, notChanged), without(after, notChanged))

		for _, p := range []string{"with space.txt", "nested/a/b"} {
			if err := os.RemoveAll(filepath.Join(j.remoteDisk(), p)); err != nil {
				t.Fatal(err)
			}
		}
		res = j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete = true })
		if res.Deleted != 3 {
			t.Errorf("pull --delete: Deleted %d, want 3 (actions %q)", res.Deleted, actions(res))
		}
		assertSameTree(t, "after pull --delete", snapshot(t, j.remoteDisk()), snapshot(t, j.local))
		if tm := temps(snapshot(t, j.local)); len(tm) > 0 {
			t.Errorf("temporaries left locally: %q", tm)
		}
	})
}
