package ftp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// probeFacts is what a probe test asserts of a Report; "" and nil fields
// are not checked.
type probeFacts struct {
	mlst        *bool
	mfmt        *bool
	listCmd     string
	precision   string
	mtime       ftp.Outcome
	mtimeMethod string
	restStor    ftp.Outcome
	restRetr    ftp.Outcome
	rename      ftp.Outcome
	zone        ftp.Outcome
	offsets     *ftp.Zone
	accepted    int
	refused     bool
}

func ptr[T any](v T) *T { return &v }

func checkReport(t *testing.T, r *ftp.Report, want probeFacts) {
	t.Helper()
	if want.mlst != nil && r.Feat.MLST != *want.mlst {
		t.Errorf("FEAT MLST = %v, want %v", r.Feat.MLST, *want.mlst)
	}
	if want.mfmt != nil && r.Feat.MFMT != *want.mfmt {
		t.Errorf("FEAT MFMT = %v, want %v", r.Feat.MFMT, *want.mfmt)
	}
	str := func(what, got, want string) {
		t.Helper()
		if want != "" && got != want {
			t.Errorf("%s = %q, want %q", what, got, want)
		}
	}
	check := func(what string, got ftp.Check, want ftp.Outcome) {
		t.Helper()
		if want != "" && got.Result != want {
			t.Errorf("%s = %s (%s), want %s", what, got.Result, got.Detail, want)
		}
		if got.Detail == "" {
			t.Errorf("%s has no detail", what)
		}
	}
	str("list command", r.ListCommand, want.listCmd)
	str("list precision", r.ListPrecision, want.precision)
	check("mtime", r.MTime, want.mtime)
	str("mtime method", r.MTimeMethod, want.mtimeMethod)
	check("REST before STOR", r.RestStor, want.restStor)
	check("REST before RETR", r.RestRetr, want.restRetr)
	check("RNTO replaces", r.RenameReplaces, want.rename)
	check("zone", r.Zone, want.zone)
	if want.offsets != nil && r.ZoneValues != *want.offsets {
		t.Errorf("zone offsets = %+v, want %+v", r.ZoneValues, *want.offsets)
	}
	if want.accepted != 0 && r.Connections.Accepted != want.accepted {
		t.Errorf("connections accepted = %d, want %d (%+v)", r.Connections.Accepted, want.accepted, r.Connections)
	}
	if (r.Connections.Refusal != "") != want.refused || r.Connections.Error != "" {
		t.Errorf("connections = %+v, want refused %v", r.Connections, want.refused)
	}
	if r.Leftover != "" {
		t.Errorf("leftover: %s", r.Leftover)
	}
}

// TestProbeRealServers: each server's report states the facts it really
// has. vsftpd: no MLSD, LIST to the minute, mtimes set with "MDTM time
// path"; with use_localtime=YES and a TZ, every offset is the zone's; on a
// read-only account with max_per_ip=3, the write checks are unchecked with
// the reason, REST before RETR is checked on an existing file, and three
// connections are accepted. pure-ftpd: MLSD and MFMT. proftpd: REST before
// STOR refused (451).
func TestProbeRealServers(t *testing.T) {
	kolkata := int32(5*3600 + 1800)
	newYork := int32(-5 * 3600) // December, and vsftpd keeps its start-up offset
	tests := []struct {
		name string
		kind string
		opts ftpd.Options
		want probeFacts
	}{
		{"vsftpd", "vsftpd", ftpd.Options{}, probeFacts{
			mlst: ptr(false), mfmt: ptr(false), listCmd: "LIST", precision: "1m",
			mtime: ftp.Yes, mtimeMethod: "MDTM time path", restStor: ftp.Yes, restRetr: ftp.Yes, rename: ftp.Yes,
			zone: ftp.Yes, offsets: &ftp.Zone{Measured: true}, accepted: 8,
		}},
		{"vsftpd-localtime-kolkata", "vsftpd", ftpd.Options{Env: []string{"TZ=Asia/Kolkata"}, Extra: []string{"use_localtime=YES"}}, probeFacts{
			listCmd: "LIST", mtimeMethod: "MDTM time path", mtime: ftp.Yes, zone: ftp.Yes,
			offsets: &ftp.Zone{Measured: true, List: kolkata, MDTM: kolkata, Set: kolkata}, accepted: 8,
		}},
		{"vsftpd-localtime-new-york", "vsftpd", ftpd.Options{Env: []string{"TZ=EST5"}, Extra: []string{"use_localtime=YES"}}, probeFacts{
			zone: ftp.Yes, offsets: &ftp.Zone{Measured: true, List: newYork, MDTM: newYork, Set: newYork},
		}},
		{"vsftpd-read-only", "vsftpd", ftpd.Options{Extra: []string{"write_enable=NO", "max_per_ip=3"}}, probeFacts{
			listCmd: "LIST", precision: "1m",
			mtime: ftp.Unchecked, restStor: ftp.Unchecked, rename: ftp.Unchecked, zone: ftp.Unchecked,
			restRetr: ftp.Yes, offsets: &ftp.Zone{}, accepted: 3, refused: true,
		}},
		{"pure-ftpd", "pure-ftpd", ftpd.Options{}, probeFacts{
			mlst: ptr(true), mfmt: ptr(true), listCmd: "MLSD", precision: "1s",
			mtime: ftp.Yes, mtimeMethod: "MFMT", restStor: ftp.Yes, restRetr: ftp.Yes, rename: ftp.Yes,
			zone: ftp.Yes, offsets: &ftp.Zone{Measured: true}, accepted: 8,
		}},
		{"proftpd", "proftpd", ftpd.Options{}, probeFacts{
			mlst: ptr(true), mfmt: ptr(true), listCmd: "MLSD", precision: "1s",
			mtime: ftp.Yes, mtimeMethod: "MFMT", restStor: ftp.No, restRetr: ftp.Yes, rename: ftp.Yes,
			zone: ftp.Yes, offsets: &ftp.Zone{Measured: true}, accepted: 8,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := ftpd.Start(t, tc.kind, tc.opts)
			srv.WriteFile(t, "existing.txt", []byte("hello"), time.Time{})
			cfg := ftp.Config{Addr: srv.Addr(), User: srv.User, Password: srv.Password, Timeout: 10 * time.Second}
			r, err := ftp.Probe(context.Background(), cfg, "/", ftp.ProbeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, r, tc.want)
			if tc.name == "proftpd" && !strings.Contains(r.RestStor.Detail, "451") {
				t.Errorf("REST before STOR detail %q lacks proftpd's 451", r.RestStor.Detail)
			}
			if tc.name == "vsftpd-read-only" && !strings.Contains(r.MTime.Detail, "550") {
				t.Errorf("read-only detail %q lacks the refusal", r.MTime.Detail)
			}
			noProbeLeft(t, srv.Root)
		})
	}
}

// TestProbeTestServer: the same checks against ftptest's doubles of the
// quirks, without root.
func TestProbeTestServer(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		name string
		opts ftptest.Options
		want probeFacts
	}{
		{"vsftpd-shaped in +05:30", ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true, LocalTime: ist}, probeFacts{
			mlst: ptr(false), listCmd: "LIST", precision: "1m", mtime: ftp.Yes, mtimeMethod: "MDTM time path",
			zone: ftp.Yes, offsets: &ftp.Zone{Measured: true, List: 19800, MDTM: 19800, Set: 19800},
			restStor: ftp.Yes, restRetr: ftp.Yes, rename: ftp.Yes, accepted: 3,
		}},
		{"proftpd-shaped", ftptest.Options{RefuseRestSTOR: true, MaxLogins: 2, MaxLoginsCode: 530}, probeFacts{
			mlst: ptr(true), listCmd: "MLSD", mtimeMethod: "MFMT", restStor: ftp.No, zone: ftp.Yes,
			offsets: &ftp.Zone{Measured: true}, accepted: 2, refused: true,
		}},
		{"no way to set times", ftptest.Options{DisableMLSD: true, DisableMFMT: true}, probeFacts{
			mtime: ftp.No, zone: ftp.Yes, offsets: &ftp.Zone{Measured: true}, accepted: 3,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			srv := ftptest.NewServer(dir, tc.opts)
			t.Cleanup(srv.Close)
			cfg := ftp.Config{Addr: srv.Addr, User: ftptest.DefaultUser, Password: ftptest.DefaultPassword}
			r, err := ftp.Probe(context.Background(), cfg, "/", ftp.ProbeOptions{Connections: 3})
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, r, tc.want)
			noProbeLeft(t, dir)
		})
	}
}
