package sync_test

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ferrysync/ferry/internal/ftpd"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// hostileListings answer the listing of /site/sub with entries whose names
// would leave the folder, next to honest ones.
var hostileListings = map[string][]string{
	"mlsd": {
		"type=file;size=4;modify=20230506070809; good.txt",
		"type=file;size=11;modify=20230506070809; remote-only.txt",
		"type=file;size=4;modify=20230506070809; ../evil",
		"type=file;size=4;modify=20230506070809; a/b",
		"type=dir;modify=20230506070809; ../../escape",
		"type=file;size=4;modify=20230506070809; back\\slash",
	},
	"list": {
		"-rw-r--r--    1 ftp      ftp             4 May 06  2023 good.txt",
		"-rw-r--r--    1 ftp      ftp            11 May 06  2023 remote-only.txt",
		"-rw-r--r--    1 ftp      ftp             4 May 06  2023 ../evil",
		"-rw-r--r--    1 ftp      ftp             4 May 06  2023 a/b",
		"drwxr-xr-x    2 ftp      ftp          4096 May 06  2023 ../../escape",
		"-rw-r--r--    1 ftp      ftp             4 May 06  2023 back\\slash",
	},
}

// TestRemoteTraversalNamesRejected pins "a remote listing entry named
// ./.., containing /, \ or NUL, or that would resolve outside the local
// root is rejected and reported, never written", and "unknown is not
// empty": with MLSD and with LIST, a pull --delete writes nothing outside
// the local root and deletes nothing under the folder whose listing had
// such names; a push --delete deletes nothing on the server under it.
func TestRemoteTraversalNamesRejected(t *testing.T) {
	for _, style := range []string{"mlsd", "list"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			opts := ftptest.Options{DisableMLSD: style == "list", EnableMDTMSet: style == "list"}
			opts.Hook = func(s *ftptest.Session, cmd, arg string) bool {
				hostile := (cmd == "MLSD" && path.Clean(arg) == "/site/sub") ||
					(cmd == "LIST" && s.Cwd() == "/site/sub")
				if hostile {
					s.ServeList(hostileListings[style], "")
				}
				return hostile
			}
			tg := startTarget(t, "ftptest", opts)
			tg.seed(t, "/site", []node{
				{Path: "top.txt", Data: []byte("top"), MTime: baseTime},
				{Path: "sub/good.txt", Data: []byte("good"), MTime: baseTime},
				{Path: "sub/remote-only.txt", Data: []byte("remote only"), MTime: baseTime},
				{Path: "evil", Data: []byte("evil"), MTime: baseTime},
			})

			// The local root sits alone in a folder, to see anything
			// written beside it.
			parent := t.TempDir()
			j := newJob(t, tg, "/site")
			j.local = filepath.Join(parent, "root")
			writeTree(t, j.local, []node{{Path: "sub/local-only.txt", Data: []byte("mine"), MTime: baseTime}})

			res := j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete = true })
			var bad *ftp.BadNameError
			var rejected []string
			for _, w := range res.Problems {
				if errors.As(w, &bad) {
					rejected = append(rejected, bad.Name)
				}
			}
			if len(rejected) == 0 {
				t.Errorf("no problem reports the unsafe names (problems: %v)", res.Problems)
			}
			if entries, err := os.ReadDir(parent); err != nil || len(entries) != 1 {
				t.Errorf("something was written beside the local root: %v (%v)", entries, err)
			}
			local := snapshot(t, j.local)
			if _, ok := local["sub/local-only.txt"]; !ok {
				t.Errorf("pull --delete deleted sub/local-only.txt under a folder whose listing was unsafe")
			}
			if _, ok := local["top.txt"]; !ok {
				t.Errorf("top.txt was not pulled: the rest of the tree must sync")
			}
			for p := range local {
				switch p {
				case "top.txt", "evil", "sub", "sub/local-only.txt", "sub/good.txt", "sub/remote-only.txt":
				default:
					t.Errorf("pull wrote %q", p)
				}
			}

			// Push --delete from a tree without sub/remote-only.txt.
			p := newJob(t, tg, "/site")
			writeTree(t, p.local, []node{
				{Path: "top.txt", Data: []byte("top"), MTime: baseTime},
				{Path: "sub/good.txt", Data: []byte("good"), MTime: baseTime},
			})
			p.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
			if _, err := os.Stat(filepath.Join(tg.root, "site/sub/remote-only.txt")); err != nil {
				t.Errorf("push --delete deleted under a folder whose listing was unsafe: %v", err)
			}
		})
	}
}

// TestTruncatedListingIsUnknown pins "unknown is not empty" for a listing
// the server cut short ("226 Output truncated to N matches", pure-ftpd's
// cap, here at 5 entries): a pull --delete deletes nothing locally under
// that folder, and the truncation is reported. It runs against ftptest's
// ListLimit and against pure-ftpd started with -L 5:8.
func TestTruncatedListingIsUnknown(t *testing.T) {
	for _, kind := range []string{"ftptest", "pure-ftpd"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			var tg target
			if kind == "ftptest" {
				tg = startTarget(t, kind, ftptest.Options{ListLimit: 5})
			} else {
				srv := ftpd.Start(t, kind, ftpd.Options{Extra: []string{"-L", "5:8"}})
				tg = target{kind: kind, root: srv.Root, uid: srv.UID, gid: srv.GID,
					cfg: ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password}}
			}
			var tree []node
			for i := range 8 {
				tree = append(tree, node{Path: fmt.Sprintf("many/f%d", i), Data: []byte{byte(i)}, MTime: baseTime})
			}
			tg.seed(t, "/site", tree)

			j := newJob(t, tg, "/site")
			writeTree(t, j.local, append(tree, node{Path: "many/local-only", Data: []byte("mine"), MTime: baseTime}))
			before := snapshot(t, j.local)
			res := j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete = true })
			if res.Deleted != 0 {
				t.Errorf("pull --delete deleted %d entries after a truncated listing (actions %q)", res.Deleted, actions(res))
			}
			after := snapshot(t, j.local)
			for p := range before {
				if _, ok := after[p]; !ok {
					t.Errorf("%q was deleted", p)
				}
			}
			truncated := false
			for _, w := range res.Problems {
				truncated = truncated || errors.Is(w, ftp.ErrTruncated)
			}
			if !truncated {
				t.Errorf("the truncated listing was not reported (problems: %v)", res.Problems)
			}
		})
	}
}

// TestUnsafeNameSkipsOnlyThatEntry pins "one hostile name does not hide
// its folder": a listing of /site/sub with unsafe names (../evil, a/b, a
// backslash, NUL) next to honest entries used to leave the whole folder
// unknown, so a pull took nothing from it (not even good.txt). Each unsafe
// entry is skipped and reported; the honest ones sync; and since the folder
// holds something unknown, nothing under it is deleted on either side.
func TestUnsafeNameSkipsOnlyThatEntry(t *testing.T) {
	const mod = "modify=20230506070809"
	listings := map[string][]string{
		"mlsd": {
			"type=file;size=4;" + mod + "; good.txt",
			"type=file;size=11;" + mod + "; remote-only.txt",
			"type=dir;" + mod + "; nested",
			"type=file;size=4;" + mod + "; ../evil",
			"type=dir;" + mod + "; a/b",
			"type=file;size=4;" + mod + "; back\\slash",
			"type=file;size=4;" + mod + "; nul\x00name",
		},
		"list": {
			"-rw-r--r--    1 ftp      ftp             4 May 06  2023 good.txt",
			"-rw-r--r--    1 ftp      ftp            11 May 06  2023 remote-only.txt",
			"drwxr-xr-x    2 ftp      ftp          4096 May 06  2023 nested",
			"-rw-r--r--    1 ftp      ftp             4 May 06  2023 ../evil",
			"drwxr-xr-x    2 ftp      ftp          4096 May 06  2023 a/b",
			"-rw-r--r--    1 ftp      ftp             4 May 06  2023 back\\slash",
			"-rw-r--r--    1 ftp      ftp             4 May 06  2023 nul\x00name",
		},
	}
	for _, style := range []string{"mlsd", "list"} {
		t.Run(style, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			opts := ftptest.Options{DisableMLSD: style == "list", EnableMDTMSet: style == "list"}
			opts.Hook = func(s *ftptest.Session, cmd, arg string) bool {
				hostile := (cmd == "MLSD" && path.Clean(arg) == "/site/sub") ||
					(cmd == "LIST" && s.Cwd() == "/site/sub")
				if hostile {
					s.ServeList(listings[style], "")
				}
				return hostile
			}
			tg := startTarget(t, "ftptest", opts)
			tg.seed(t, "/site", []node{
				{Path: "top.txt", Data: []byte("top"), MTime: baseTime},
				{Path: "sub/good.txt", Data: []byte("good"), MTime: baseTime},
				{Path: "sub/remote-only.txt", Data: []byte("remote only"), MTime: baseTime},
				{Path: "sub/back\\slash", Data: []byte("srv\\"), MTime: baseTime},
				{Path: "sub/nested/deep.txt", Data: []byte("deep"), MTime: baseTime},
			})

			// Pull --delete into a folder with a local extra under sub.
			parent := t.TempDir()
			pl := newJob(t, tg, "/site")
			pl.local = filepath.Join(parent, "root")
			writeTree(t, pl.local, []node{
				{Path: "sub/local-only.txt", Data: []byte("mine"), MTime: baseTime},
				{Path: "sub/nested/local-deep.txt", Data: []byte("mine too"), MTime: baseTime},
			})
			res := pl.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Delete = true })
			if entries, err := os.ReadDir(parent); err != nil || len(entries) != 1 {
				t.Errorf("pull wrote beside the local root: %v (%v)", entries, err)
			}
			got := sortedKeys(snapshot(t, pl.local))
			want := []string{"sub", "sub/good.txt", "sub/local-only.txt", "sub/nested", "sub/nested/deep.txt",
				"sub/nested/local-deep.txt", "sub/remote-only.txt", "top.txt"}
			if !slices.Equal(got, want) {
				t.Errorf("pull --delete left %q, want %q (actions %q)", got, want, actions(res))
			}
			var rejected []string
			for _, w := range res.Problems {
				if bad := (*ftp.BadNameError)(nil); errors.As(w, &bad) {
					rejected = append(rejected, bad.Name)
				}
			}
			slices.Sort(rejected)
			if want := []string{"../evil", "a/b", "back\\slash", "nul\x00name"}; !slices.Equal(rejected, want) {
				t.Errorf("unsafe names reported: %q, want %q", rejected, want)
			}

			// Push --delete from a tree that lacks sub/remote-only.txt and
			// sub/nested/deep.txt, adds sub/new.txt and has its own
			// sub/back\slash: the new file goes up, nothing under sub is
			// deleted, and the server's back\slash (a name ferry cannot
			// use) is left alone.
			ps := newJob(t, tg, "/site")
			writeTree(t, ps.local, []node{
				{Path: "top.txt", Data: []byte("top"), MTime: baseTime},
				{Path: "sub/good.txt", Data: []byte("good"), MTime: baseTime},
				{Path: "sub/new.txt", Data: []byte("new"), MTime: baseTime},
				{Path: "sub/back\\slash", Data: []byte("mine\\"), MTime: baseTime},
				{Path: "sub/nested/"},
			})
			res = ps.mustRun(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Delete = true })
			srv := snapshot(t, tg.disk("/site"))
			for _, p := range []string{"sub/new.txt", "sub/remote-only.txt", "sub/nested/deep.txt"} {
				if _, ok := srv[p]; !ok {
					t.Errorf("after push --delete the server lacks %q (actions %q)", p, actions(res))
				}
			}
			if data, err := os.ReadFile(filepath.Join(tg.disk("/site"), "sub", "back\\slash")); err != nil || string(data) != "srv\\" {
				t.Errorf("push touched the server's unsafe name back\\slash: %q, %v", data, err)
			}
		})
	}
}
