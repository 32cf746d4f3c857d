package sync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestPullUnderLoginLimitFinishes: a server that allows fewer logins than
// --parallel (the third answered "421 Too many connections") used to hang
// a pull for good: walk workers that had nothing to list held their
// connections while the workers holding the folders still to list waited
// in Pool.Get for one. Every case must download every file.
func TestPullUnderLoginLimitFinishes(t *testing.T) {
	tests := []struct {
		name      string
		maxLogins int
		tree      func() []node
	}{
		{"40 folders, 2 logins", 2, func() []node { return spread(40, 40) }},
		{"nested folders, 2 logins", 2, func() []node { return nested(40) }},
		{"40 folders, 1 login", 1, func() []node { return spread(40, 40) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tg := startTarget(t, "ftptest", ftptest.Options{MaxLogins: tc.maxLogins})
			tg.seed(t, "/site", tc.tree())
			j := newJob(t, tg, "/site")
			// A hang fails the test at this deadline instead of never ending.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			res := j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) {
				// As the command line does: a pool of --parallel
				// connections, the first login warmed up front.
				o.Parallel = 8
				o.Pool = ftp.NewPool(tg.cfg, 8)
				t.Cleanup(func() { o.Pool.Close() })
				o.Pool.Warm(ctx)
			})
			if res.FilesDown != 40 {
				t.Errorf("FilesDown = %d, want 40", res.FilesDown)
			}
			assertSameTree(t, "after pull", snapshot(t, j.remoteDisk()), snapshot(t, j.local))
		})
	}
}

// spread returns n small files over folders folders.
func spread(n, folders int) []node {
	var tree []node
	for i := range n {
		p := fmt.Sprintf("d%02d/f%02d.txt", i%folders, i)
		tree = append(tree, node{Path: p, Data: []byte(fmt.Sprintf("file %d\n", i)), MTime: baseTime})
	}
	return tree
}

// nested returns n small files, one per folder, in folders nested four deep.
func nested(n int) []node {
	var tree []node
	for i := range n {
		p := fmt.Sprintf("a%d/b%d/c%d/d%d/f%02d.txt", i%2, i%4, i%8, i, i)
		tree = append(tree, node{Path: p, Data: []byte(fmt.Sprintf("file %d\n", i)), MTime: baseTime})
	}
	return tree
}

// TestPullUnderProftpdMaxClientsFinishes: proftpd refuses a login beyond
// MaxClients with "530 Sorry, the maximum number of allowed clients (2)
// are already connected.", and every action that wanted another
// connection used to fail with it. The pull must download everything on
// the connections it has.
func TestPullUnderProftpdMaxClientsFinishes(t *testing.T) {
	srv := ftpd.Start(t, "proftpd", ftpd.Options{Extra: []string{"MaxClients 2"}})
	tg := target{
		kind: "proftpd", root: srv.Root, uid: srv.UID, gid: srv.GID,
		cfg: ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password, Timeout: 20 * time.Second},
	}
	tg.seed(t, "/site", spread(40, 40))
	j := newJob(t, tg, "/site")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res := j.mustRun(ctx, t, ferrysync.Pull, func(o *ferrysync.Options) {
		o.Parallel = 8
		o.Pool = ftp.NewPool(tg.cfg, 8)
		t.Cleanup(func() { o.Pool.Close() })
		o.Pool.Warm(ctx)
	})
	if res.FilesDown != 40 {
		t.Errorf("FilesDown = %d, want 40", res.FilesDown)
	}
	assertSameTree(t, "after pull", snapshot(t, j.remoteDisk()), snapshot(t, j.local))
}
