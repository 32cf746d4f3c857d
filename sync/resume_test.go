package sync_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
	"github.com/ferrysync/ferry/sync/plan"
)

const (
	bigPath = "big/big.bin"
	bigSize = 20 << 20
	killAt  = 6 << 20 // bytes of the big file moved when the run is killed
)

func noise(n int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// killer cancels a run once the big file has moved killAt bytes, and
// checks at that moment that the destination has nothing under the big
// file's real name.
type killer struct {
	cancel   context.CancelFunc
	realName string // on-disk path of the big file at the destination

	once   gosync.Once
	killed bool
	seen   error // what was under the real name at the kill
}

func (k *killer) reporter() *recorder {
	return &recorder{progress: func(a plan.Action, n int64) {
		if a.Path != bigPath || n < killAt {
			return
		}
		k.once.Do(func() {
			k.killed = true
			if _, err := os.Lstat(k.realName); !errors.Is(err, os.ErrNotExist) {
				k.seen = fmt.Errorf("%s exists mid-transfer (lstat: %v)", k.realName, err)
			}
			k.cancel()
		})
	}}
}

// assertNoPartial checks that every file under a real name at dst has the
// content it has at src: a killed run may leave temporaries, never a
// half-written file under its real name.
func assertNoPartial(t *testing.T, src, dst map[string]fileInfo) {
	t.Helper()
	for _, tmp := range temps(dst) {
		delete(dst, tmp)
	}
	for p, fi := range dst {
		want, ok := src[p]
		if !ok {
			t.Errorf("after the kill: unexpected %q", p)
		} else if !fi.Dir && fi.SHA != want.SHA {
			t.Errorf("after the kill: %q is under its real name with other content (%d of %d bytes)", p, fi.Size, want.Size)
		}
	}
}

// TestKilledPushResumes kills a push in the middle of a 20 MiB upload (by
// cancelling its context, as SIGKILL would cut the connection), checks that
// the server holds no partial file under a real name, then runs again with
// the same state cache: the remote ends up an exact copy, and temporaries
// (the killed upload's and an older stray one) are gone.
func TestKilledPushResumes(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		j := newJob(t, tg, "/site")
		writeTree(t, j.local, richTree())
		writeFile(t, filepath.Join(j.local, bigPath), noise(bigSize, 7), baseTime)
		tg.seed(t, j.remote, []node{{Path: "nested/.stray.ferry-tmp", Data: []byte("left by an older crash")}})

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		k := &killer{cancel: cancel, realName: filepath.Join(j.remoteDisk(), bigPath)}
		_, err := j.run(ctx, t, ferrysync.Push, func(o *ferrysync.Options) { o.Reporter = k.reporter() })
		if !k.killed {
			t.Fatalf("the push ended (%v) before the big file reached %d bytes", err, killAt)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("killed push returned %v, want context.Canceled", err)
		}
		if k.seen != nil {
			t.Error(k.seen)
		}
		assertNoPartial(t, snapshot(t, j.local), snapshot(t, j.remoteDisk()))

		res := j.mustRun(t.Context(), t, ferrysync.Push, nil)
		if res.FilesUp == 0 {
			t.Errorf("resumed push uploaded nothing")
		}
		assertSameTree(t, "after the resumed push", snapshot(t, j.local), snapshot(t, j.remoteDisk()))
		res = j.mustRun(t.Context(), t, ferrysync.Push, nil)
		if len(actions(res)) != 0 {
			t.Errorf("push after the resumed one planned %q, want nothing", actions(res))
		}
	})
}

// TestKilledPullResumes is TestKilledPushResumes for a pull: killed in the
// middle of a 20 MiB download, the local folder holds no partial file
// under a real name; the next run with the same state cache completes the
// copy and removes local temporaries.
func TestKilledPullResumes(t *testing.T) {
	forEachServer(t, func(t *testing.T, tg target) {
		j := newJob(t, tg, "/site")
		tg.seed(t, j.remote, append(richTree(), node{Path: bigPath, Data: noise(bigSize, 9), MTime: baseTime}))

		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		k := &killer{cancel: cancel, realName: filepath.Join(j.local, bigPath)}
		_, err := j.run(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) { o.Reporter = k.reporter() })
		if !k.killed {
			t.Fatalf("the pull ended (%v) before the big file reached %d bytes", err, killAt)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("killed pull returned %v, want context.Canceled", err)
		}
		if k.seen != nil {
			t.Error(k.seen)
		}
		assertNoPartial(t, snapshot(t, j.remoteDisk()), snapshot(t, j.local))
		// What a SIGKILL between write and rename would leave behind.
		writeFile(t, filepath.Join(j.local, "nested/.blob.bin.ferry-tmp"), []byte("half a blob"), baseTime)

		j.mustRun(t.Context(), t, ferrysync.Pull, nil)
		assertSameTree(t, "after the resumed pull", snapshot(t, j.remoteDisk()), snapshot(t, j.local))
		res := j.mustRun(t.Context(), t, ferrysync.Pull, nil)
		if len(actions(res)) != 0 {
			t.Errorf("pull after the resumed one planned %q, want nothing", actions(res))
		}
	})
}

// TestPullDroppedDataConnection pins what a network failure mid-download
// does: the server resets the data connection after 100 kB of a 1 MB file
// on every try, so that download fails (and is reported as failed) while
// the rest of the tree arrives; nothing partial is left under the real
// name (at most a temporary). Once the network is good again, the next run
// with the same state cache fetches just that file and leaves no
// temporary.
func TestPullDroppedDataConnection(t *testing.T) {
	ctx := t.Context()
	tg := startTarget(t, "ftptest", ftptest.Options{DropDataAfter: 100_000})

	j := newJob(t, tg, "/site")
	tree := append(richTree()[:9], node{Path: "big.bin", Data: noise(1_000_000, 3), MTime: baseTime})
	tg.seed(t, j.remote, tree)

	res, err := j.run(ctx, t, ferrysync.Pull, nil)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Action.Path != "big.bin" {
		t.Fatalf("pull with a dropping server: failed actions %v, want just big.bin", res.Failed)
	}
	local := snapshot(t, j.local)
	if _, ok := local["big.bin"]; ok {
		t.Errorf("big.bin is under its real name after its download failed")
	}
	// A temporary may stay, for the next run to resume.
	remote := snapshot(t, j.remoteDisk())
	assertSameTree(t, "the rest of the tree", without(remote, func(p string) bool { return p == "big.bin" }),
		without(local, func(p string) bool { return p == ".big.bin.ferry-tmp" }))

	good := ftptest.NewServer(tg.root, ftptest.Options{})
	t.Cleanup(good.Close)
	j.tg.cfg.Addr = good.Addr
	res = j.mustRun(ctx, t, ferrysync.Pull, nil)
	if got := actions(res); len(got) != 1 || got[0] != "download big.bin" {
		t.Errorf("pull after the network recovered planned %q, want just big.bin", got)
	}
	assertSameTree(t, "after recovery", remote, snapshot(t, j.local))
}
