package ftp_test

import (
	"context"
	gosync "sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestPoolChecksIdleConnections: a pooled connection the server dropped
// while it sat idle is noticed with a NOOP and replaced, not handed out
// dead.
func TestPoolChecksIdleConnections(t *testing.T) {
	var mu gosync.Mutex
	var sessions []*ftptest.Session
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "" { // before the greeting
			mu.Lock()
			sessions = append(sessions, s)
			mu.Unlock()
		}
		return false
	}})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second, IdleCheck: time.Nanosecond}, 1)
	defer pool.Close()

	c, err := pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool.Put(c)
	mu.Lock()
	first := sessions[0]
	mu.Unlock()
	first.Close() // the server drops the idle session
	<-first.Done()

	c, err = pool.Get(ctx)
	if err != nil {
		t.Fatalf("Get after the server dropped the idle connection: %v", err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatalf("the connection handed out is dead: %v", err)
	}
	pool.Put(c)
	if n := srv.Logins(); n != 2 {
		t.Errorf("logins = %d, want 2 (the dropped connection replaced)", n)
	}
}
