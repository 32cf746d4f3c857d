package ftp_test

import (
	"context"
	"errors"
	gosync "sync"
	"sync/atomic"
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

// TestPoolWarm: the connection Warm dials is the one the first Get gets
// (one login in all), and a second Warm while it is pooled dials nothing.
func TestPoolWarm(t *testing.T) {
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{})
	defer srv.Close()
	ctx := t.Context()
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second}, 4)
	defer pool.Close()

	pool.Warm(ctx)
	pool.Warm(ctx) // already warming: no second dial
	c, err := pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Noop(ctx); err != nil {
		t.Fatal(err)
	}
	pool.Put(c)
	pool.Warm(ctx) // a connection is pooled: nothing to do
	c, err = pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pool.Put(c)
	if n := srv.Logins(); n != 1 {
		t.Errorf("logins = %d, want 1", n)
	}
}

// TestPoolWarmFailedLogin: a login Warm tried and the server refused is
// reported by the first Get, without a second attempt (a wrong password
// must not count twice against fail2ban-style limits); a later Get tries
// again.
func TestPoolWarmFailedLogin(t *testing.T) {
	var mu gosync.Mutex
	passes := 0
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "PASS" {
			mu.Lock()
			passes++
			mu.Unlock()
		}
		return false
	}})
	defer srv.Close()
	ctx := t.Context()
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: "wrong", Timeout: 5 * time.Second}, 4)
	defer pool.Close()

	pool.Warm(ctx)
	_, err := pool.Get(ctx)
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 530 {
		t.Fatalf("Get after a refused warm login = %v, want the 530", err)
	}
	mu.Lock()
	n := passes
	mu.Unlock()
	if n != 1 {
		t.Errorf("PASS sent %d times, want 1", n)
	}
	if _, err := pool.Get(ctx); !errors.As(err, &fe) || fe.Code != 530 {
		t.Fatalf("second Get = %v, want a fresh 530", err)
	}
	mu.Lock()
	n = passes
	mu.Unlock()
	if n != 2 {
		t.Errorf("PASS sent %d times after the second Get, want 2", n)
	}
}

// TestPoolWaitsOutLoginLimitAnswered530: proftpd's MaxClients and
// MaxClientsPerUser refuse a login beyond the limit with 530, not 421, and
// Get used to fail with it (a pull failed every action that wanted a third
// connection). The pool's credentials are known good once a login of it
// succeeded, so Get must wait for one of its connections instead.
func TestPoolWaitsOutLoginLimitAnswered530(t *testing.T) {
	refused := make(chan struct{}, 1)
	var passes atomic.Int32
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{MaxLogins: 1, MaxLoginsCode: 530, Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd == "PASS" && passes.Add(1) == 2 {
			s.Do(cmd, arg) // refused: one login is the limit
			refused <- struct{}{}
			return true
		}
		return false
	}})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second}, 2)
	defer pool.Close()

	first, err := pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		c, err := pool.Get(ctx) // dials: the pool's limit is 2
		if err == nil {
			pool.Put(c)
		}
		got <- err
	}()
	<-refused
	pool.Put(first)
	if err := <-got; err != nil {
		t.Fatalf("Get beyond the server's login limit = %v, want the pool's connection once it is back", err)
	}
	if p := pool.Profile(); p.MaxConns != 1 {
		t.Errorf("profile MaxConns = %d, want 1", p.MaxConns)
	}
}
