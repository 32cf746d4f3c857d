package ftp_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// noProbeLeft fails when a probe folder is left in dir on disk.
func noProbeLeft(t *testing.T, dir string) {
	t.Helper()
	names, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.HasPrefix(n.Name(), ftp.ProbeDirPrefix) {
			t.Errorf("probe folder %s left behind", n.Name())
		}
	}
}

// TestProbeZoneStoresOffsets: ProbeZone on a LIST-only server in +05:30
// stores the offsets in the pool's profile, and from then on listings,
// MDTM reads and set times are right in UTC.
func TestProbeZoneStoresOffsets(t *testing.T) {
	dir := t.TempDir()
	srv := ftptest.NewServer(dir, ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true,
		LocalTime: time.FixedZone("IST", 5*3600+1800)})
	t.Cleanup(srv.Close)
	pool := ftp.NewPool(ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword}, 1)
	defer pool.Close()
	ctx := context.Background()
	c, err := pool.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Put(c)
	z, err := c.ProbeZone(ctx, "/")
	want := ftp.Zone{Measured: true, List: 19800, MDTM: 19800, Set: 19800}
	if err != nil || z != want || pool.Profile().Zone != want {
		t.Fatalf("ProbeZone = %+v, %v; profile %+v; want %+v", z, err, pool.Profile().Zone, want)
	}
	if pool.Profile().MTime != ftp.MTimeMDTM {
		t.Errorf("method = %v, want MDTM time path", pool.Profile().MTime)
	}
	noProbeLeft(t, dir)

	if err := os.WriteFile(dir+"/f", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	mt := time.Now().Add(-time.Hour).Truncate(time.Minute).UTC()
	if err := c.SetModTime(ctx, "/f", mt); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(dir + "/f"); err != nil || !fi.ModTime().Equal(mt) {
		t.Errorf("mtime on disk = %v, %v; want %v", fi.ModTime().UTC(), err, mt)
	}
	if got, err := c.ModTime(ctx, "/f"); err != nil || !got.Equal(mt) {
		t.Errorf("ModTime = %v, %v; want %v", got, err, mt)
	}
	entries, err := c.List(ctx, "/")
	if err != nil || len(entries) != 1 || !entries[0].ModTime.Equal(mt) {
		t.Errorf("List = %+v, %v; want f at %v", entries, err, mt)
	}
}

// TestSetModTimeWithoutAnyWay: a server that only reads MDTM answers "MDTM
// time path" with 550 (it looks for a file named "time path"): SetModTime
// goes on to SITE UTIME and then reports ErrNoMTime, instead of failing the
// upload with the 550. vsftpd with mdtm_write=NO answers so.
func TestSetModTimeWithoutAnyWay(t *testing.T) {
	ctx := context.Background()
	check := func(t *testing.T, cfg ftp.Config, path string) {
		c, err := ftp.Dial(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.SetModTime(ctx, path, time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)); !errors.Is(err, ftp.ErrNoMTime) {
			t.Errorf("SetModTime = %v, want ErrNoMTime", err)
		}
	}
	t.Run("ftptest", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(dir+"/f", []byte("x"), 0o644)
		srv := ftptest.NewServer(dir, ftptest.Options{DisableMLSD: true, DisableMFMT: true})
		t.Cleanup(srv.Close)
		check(t, ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword}, "/f")
	})
	t.Run("vsftpd", func(t *testing.T) {
		srv := ftpd.Start(t, "vsftpd", ftpd.Options{Extra: []string{"mdtm_write=NO"}})
		srv.WriteFile(t, "f", []byte("x"), time.Time{})
		check(t, ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password}, "/f")
	})
}
