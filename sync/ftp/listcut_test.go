package ftp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestListCutMidLineIsIncomplete: a listing whose data connection ends
// inside a line — here with a 226 all the same — may carry a cut-short
// name ("f00" for "f001.bin"); a pull --delete trusting it would delete
// f001.bin locally. The listing must come back incomplete, without the
// cut entry.
func TestListCutMidLineIsIncomplete(t *testing.T) {
	srv := ftptest.NewServer(t.TempDir(), ftptest.Options{Hook: func(s *ftptest.Session, cmd, arg string) bool {
		if cmd != "MLSD" {
			return false
		}
		s.ServeData([]byte("type=file;size=1;modify=20240101000000; a.txt\r\ntype=file;size=1;modify=20240101000000; f00"), "226 Transfer complete")
		return true
	}})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	entries, err := c.List(ctx, "/")
	var inc *ftp.IncompleteError
	if !errors.As(err, &inc) {
		t.Fatalf("List = %v, %v; want an *ftp.IncompleteError", entries, err)
	}
	if len(entries) != 1 || entries[0].Name != "a.txt" {
		t.Errorf("entries = %+v, want only a.txt", entries)
	}
}

// TestListCwdFailsInPipeline: LIST servers get CWD and LIST in one write.
// When the CWD fails the LIST lists the previous folder; those entries
// must never be returned as the missing folder's.
func TestListCwdFailsInPipeline(t *testing.T) {
	root := t.TempDir()
	srv := ftptest.NewServer(root, ftptest.Options{DisableMLSD: true})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := ftp.Dial(ctx, ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mkdir(ctx, "/present"); err != nil {
		t.Fatal(err)
	}
	entries, err := c.List(ctx, "/missing")
	var fe *ftp.Error
	if !errors.As(err, &fe) || fe.Code != 550 || entries != nil {
		t.Fatalf("List of a missing folder = %v, %v; want no entries and a 550 *ftp.Error", entries, err)
	}
	if _, err := c.List(ctx, "/"); err != nil {
		t.Fatalf("connection unusable after the failed CWD: %v", err)
	}
}
