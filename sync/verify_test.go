package sync_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// hashServer is an ftptest server that offers XSHA256 (honestly, or with
// a wrong answer) and counts the verification commands it gets.
type hashServer struct {
	*ftptest.Server
	mu    gosync.Mutex
	calls map[string]int
}

func newHashServer(t *testing.T, offer, lie bool) *hashServer {
	h := &hashServer{calls: map[string]int{}}
	h.Server = ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		h.mu.Lock()
		h.calls[cmd]++
		h.mu.Unlock()
		switch {
		case cmd == "FEAT" && offer:
			s.Reply(211, "Features:", " MLST type*;size*;modify*;", " MFMT", " UTF8", " EPSV", " SIZE", " MDTM", " REST STREAM", " XSHA256", "End")
			return true
		case cmd == "XSHA256" && offer:
			b, err := os.ReadFile(filepath.Join(h.Root, filepath.FromSlash(path.Clean("/"+arg))))
			if err != nil {
				s.Reply(550, "no such file")
				return true
			}
			sum := sha256.Sum256(b)
			if lie {
				sum[0] ^= 0xff
			}
			s.Reply(213, hex.EncodeToString(sum[:]))
			return true
		}
		return false
	}})
	t.Cleanup(h.Close)
	return h
}

func (h *hashServer) count(cmd string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls[cmd]
}

func verifyRun(t *testing.T, h *hashServer, mode ferrysync.Mode, local string) *ferrysync.Result {
	t.Helper()
	return ftptestRun(t, h.Addr, mode, local, func(o *ferrysync.Options) { o.Verify = true })
}

func verifyTree(t *testing.T, dir string) {
	t.Helper()
	for name, body := range map[string]string{"a.txt": "alpha", "sub/b.txt": strings.Repeat("b", 5000), "empty": ""} {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyPush(t *testing.T) {
	t.Run("server hash matches", func(t *testing.T) {
		h := newHashServer(t, true, false)
		local := t.TempDir()
		verifyTree(t, local)
		res := verifyRun(t, h, ferrysync.Push, local)
		if len(res.Failed) > 0 || res.FilesUp != 3 {
			t.Fatalf("FilesUp = %d, failed %v", res.FilesUp, res.Failed)
		}
		if n := h.count("XSHA256"); n != 3 {
			t.Errorf("XSHA256 sent %d times, want 3", n)
		}
	})
	t.Run("server hash differs", func(t *testing.T) {
		h := newHashServer(t, true, true)
		local := t.TempDir()
		verifyTree(t, local)
		res := verifyRun(t, h, ferrysync.Push, local)
		if len(res.Failed) != 3 {
			t.Fatalf("failed = %v, want the 3 uploads", res.Failed)
		}
		for _, f := range res.Failed {
			if !errors.Is(f.Err, ferrysync.ErrVerify) {
				t.Errorf("%v: not ErrVerify", f)
			}
		}
	})
	t.Run("no hash: size", func(t *testing.T) {
		h := newHashServer(t, false, false)
		local := t.TempDir()
		verifyTree(t, local)
		res := verifyRun(t, h, ferrysync.Push, local)
		if len(res.Failed) > 0 {
			t.Fatalf("failed %v", res.Failed)
		}
		if n := h.count("SIZE"); n < 3 {
			t.Errorf("SIZE sent %d times, want at least 3", n)
		}
	})
}

func TestVerifyPull(t *testing.T) {
	for _, lie := range []bool{false, true} {
		t.Run(map[bool]string{false: "server hash matches", true: "server hash differs"}[lie], func(t *testing.T) {
			h := newHashServer(t, true, lie)
			verifyTree(t, filepath.Join(h.Root, "site"))
			local := filepath.Join(t.TempDir(), "copy")
			res := verifyRun(t, h, ferrysync.Pull, local)
			if !lie {
				if len(res.Failed) > 0 || res.FilesDown != 3 {
					t.Fatalf("FilesDown = %d, failed %v", res.FilesDown, res.Failed)
				}
				return
			}
			if len(res.Failed) != 3 {
				t.Fatalf("failed = %v, want the 3 downloads", res.Failed)
			}
			// Nothing unverified is under a real name, and no temporary
			// is left.
			filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("left behind: %s", p)
				}
				return nil
			})
		})
	}
}
