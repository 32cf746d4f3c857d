package sync_test

import (
	"context"
	"os"
	"path/filepath"
	gosync "sync"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestWalkRetriesTransientListingFailure: a "425 Cannot open passive
// connection" (seen when loopback's ephemeral ports run low) costs a
// retry, not a folder left unknown.
func TestWalkRetriesTransientListingFailure(t *testing.T) {
	var mu gosync.Mutex
	refused := 0
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		mu.Lock()
		defer mu.Unlock()
		if cmd == "EPSV" && refused < 2 {
			refused++
			s.Reply(425, "Cannot open passive connection.")
			return true
		}
		return false
	}})
	defer srv.Close()
	os.MkdirAll(filepath.Join(srv.Root, "top", "sub"), 0o755)
	os.WriteFile(filepath.Join(srv.Root, "top", "sub", "f"), []byte("x"), 0o644)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second}, 2)
	defer pool.Close()
	w, err := ferrysync.WalkRemote(ctx, pool, "/top", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(w.Problems) > 0 || len(w.Tree.Unknown) > 0 {
		t.Fatalf("problems %v, unknown %v; want a complete walk after retries", w.Problems, w.Tree.Unknown)
	}
	if _, ok := w.Tree.Entries["sub/f"]; !ok {
		t.Errorf("walk lacks sub/f: %v", w.Tree.Entries)
	}
	mu.Lock()
	defer mu.Unlock()
	if refused != 2 {
		t.Errorf("the server refused %d EPSVs, want 2", refused)
	}
}
