package state

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestRootIsGetOrCreate(t *testing.T) {
	db, _ := openTest(t)
	a := mustRoot(t, db, "/srv/site", "ftp://deploy@h/www")
	if b := mustRoot(t, db, "/srv/site/", "ftp://deploy@h/www"); b != a {
		t.Errorf("same root (uncleaned path) got id %d, want %d", b, a)
	}
	c := mustRoot(t, db, "/srv/site", "ftp://deploy@h/other")
	d := mustRoot(t, db, "/srv/other", "ftp://deploy@h/www")
	if c == a || d == a || c == d {
		t.Errorf("distinct roots share ids: %d %d %d", a, c, d)
	}
	roots, err := db.Roots(context.Background())
	if err != nil || len(roots) != 3 {
		t.Fatalf("Roots = %v, %v; want 3", roots, err)
	}
	if roots[0].Local != "/srv/other" || roots[1].Remote != "ftp://deploy@h/other" {
		t.Errorf("Roots order/content = %+v", roots)
	}
	if _, err := db.Root(context.Background(), "relative/dir", "ftp://h/"); err == nil {
		t.Errorf("relative local path accepted")
	}
}

func TestRootNeverStoresPasswords(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	for _, tc := range []struct {
		name, remote string
		reject       bool
	}{
		{"user and password", "ftp://deploy:s3cr3t@h/www", true},
		{"empty password is still a password field", "ftp://deploy:@h/www", true},
		{"ftps with password", "ftps://u:s3cr3t@h:990/", true},
		{"user only", "ftp://deploy@h/www", false},
		{"no userinfo", "ftp://h:2121/www", false},
		{"percent-encoded at in user", "ftp://me%40corp@h/", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Root(ctx, "/l", tc.remote)
			if tc.reject {
				if !errors.Is(err, ErrPasswordInRemote) {
					t.Fatalf("Root(%q) = %v, want ErrPasswordInRemote", tc.remote, err)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Root(%q) = %v", tc.remote, err)
			}
		})
	}
	var n int
	if err := db.sql.QueryRow(`SELECT count(*) FROM roots WHERE remote LIKE '%s3cr3t%'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("password stored in %d roots (err %v)", n, err)
	}
	if _, err := db.Root(ctx, "/l", "ftp://u:s3cr3t@h/%zz"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("unparsable remote: err %v (want an error without the password)", err)
	}
}

func TestRootMetaPerRootAndKey(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	a := mustRoot(t, db, "/a", "ftp://h/")
	b := mustRoot(t, db, "/b", "ftp://h/")
	if _, ok, err := db.RootMeta(ctx, a, "device"); ok || err != nil {
		t.Errorf("unset key: ok %v err %v", ok, err)
	}
	mustOK(t, db.SetRootMeta(ctx, a, "device", "64769"))
	mustOK(t, db.SetRootMeta(ctx, a, "files", "10"))
	mustOK(t, db.SetRootMeta(ctx, a, "files", "12"))
	mustOK(t, db.SetRootMeta(ctx, b, "device", "2049"))
	for _, tc := range []struct {
		root      RootID
		key, want string
	}{{a, "device", "64769"}, {a, "files", "12"}, {b, "device", "2049"}} {
		got, ok, err := db.RootMeta(ctx, tc.root, tc.key)
		if !ok || err != nil || got != tc.want {
			t.Errorf("RootMeta(%d, %s) = %q, %v, %v; want %q", tc.root, tc.key, got, ok, err, tc.want)
		}
	}
	if err := db.SetRootMeta(ctx, 999, "k", "v"); err == nil {
		t.Errorf("SetRootMeta on a missing root succeeded")
	}
}
