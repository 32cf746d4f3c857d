package ftp

import (
	"errors"
	"testing"
	"time"
)

func TestOffsetOf(t *testing.T) {
	up := time.Date(2026, 12, 4, 23, 37, 54, 0, time.UTC)
	cases := []struct {
		name     string
		reported time.Time
		prec     time.Duration
		want     time.Duration
		wantErr  bool
	}{
		{"UTC, minutes", time.Date(2026, 12, 4, 23, 37, 0, 0, time.UTC), time.Minute, 0, false},
		{"+05:30, minutes", time.Date(2026, 12, 5, 5, 7, 0, 0, time.UTC), time.Minute, 5*time.Hour + 30*time.Minute, false},
		{"-05:00, seconds", time.Date(2026, 12, 4, 18, 37, 54, 0, time.UTC), time.Second, -5 * time.Hour, false},
		{"+05:45 with a clock 4 minutes slow", time.Date(2026, 12, 5, 5, 18, 0, 0, time.UTC), time.Minute, 5*time.Hour + 45*time.Minute, false},
		{"+14:00", up.Add(14 * time.Hour).Truncate(time.Minute), time.Minute, 14 * time.Hour, false},
		{"a clock a day off", up.Add(-24 * time.Hour), time.Second, 0, true},
		{"only the day", time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC), 24 * time.Hour, 0, true},
		{"no time", time.Time{}, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			off, skew, err := offsetOf(tc.reported, tc.prec, up, up.Add(40*time.Millisecond))
			if tc.wantErr {
				if !errors.Is(err, ErrNoOffset) {
					t.Fatalf("offsetOf = %v, %v; want ErrNoOffset", off, err)
				}
				return
			}
			if err != nil || off != tc.want {
				t.Fatalf("offsetOf = %v (skew %v), %v; want %v", off, skew, err, tc.want)
			}
			if skew.Abs() > zoneStep/2 {
				t.Errorf("skew %v beyond half a step", skew)
			}
		})
	}
}

func TestZoneConversions(t *testing.T) {
	z := Zone{Measured: true, List: 19800, MDTM: -18000, Set: 3600}
	utc := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	if got := z.fromList(utc.Add(5*time.Hour + 30*time.Minute)); !got.Equal(utc) {
		t.Errorf("fromList = %v", got)
	}
	if got := z.fromMDTM(utc.Add(-5 * time.Hour)); !got.Equal(utc) {
		t.Errorf("fromMDTM = %v", got)
	}
	if got := z.toSet(utc); !got.Equal(utc.Add(time.Hour)) {
		t.Errorf("toSet = %v", got)
	}
	e, err := ParseListLine("-rw-r--r--    1 0 0 5 Jan 15 17:30 f", utc, z.listLocation())
	if err != nil || !e.ModTime.Equal(utc) {
		t.Errorf("LIST line in +05:30 = %v, %v; want %v", e.ModTime, err, utc)
	}
	for s, want := range map[int32]string{0: "UTC", 19800: "+05:30", -18000: "-05:00", 20700: "+05:45", -34200: "-09:30"} {
		if got := FormatOffset(s); got != want {
			t.Errorf("FormatOffset(%d) = %q, want %q", s, got, want)
		}
	}
}

func TestSetTimeLineAppliesZone(t *testing.T) {
	utc := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	prof := Profile{MTime: MTimeMDTM, Zone: Zone{Measured: true, List: 19800, MDTM: 19800, Set: 19800}}
	if line, ok := SetTimeLine(prof, "/a b", utc); !ok || line != "MDTM 20250115173000 /a b" {
		t.Errorf("SetTimeLine = %q, %v", line, ok)
	}
	if _, ok := SetTimeLine(Profile{}, "/f", utc); ok {
		t.Error("SetTimeLine with an unknown method gave a line")
	}
	if line, ok := SetTimeLine(Profile{MTime: MTimeMFMT}, "/f", utc); !ok || line != "MFMT 20250115120000 /f" {
		t.Errorf("SetTimeLine MFMT = %q, %v", line, ok)
	}
}

// TestReportApply: what a probe checked replaces the stored facts, what it
// could not check keeps them.
func TestReportApply(t *testing.T) {
	prev := Profile{MTime: MTimeMFMT, NoRestStor: true, MaxConns: 3, RenameReplaces: SupportNo,
		Zone: Zone{Measured: true, List: 3600}}
	r := &Report{
		MTime: unchecked("read-only"), RestStor: unchecked("read-only"), RenameReplaces: unchecked("read-only"),
		Zone: unchecked("read-only"), RestRetr: no("502"),
		Connections: Connections{Accepted: 8, Cap: 8},
	}
	got := r.Apply(prev)
	want := prev
	want.NoRestRetr, want.MaxConns = true, 0
	if got != want {
		t.Errorf("read-only Apply = %+v, want %+v", got, want)
	}
	r = &Report{
		MTime: yes("ok"), mtime: MTimeMDTM, RestStor: yes("ok"), RestRetr: yes("ok"), RenameReplaces: yes("ok"),
		Zone: yes("ok"), ZoneValues: Zone{Measured: true, List: 19800, MDTM: 19800, Set: 19800},
		Connections: Connections{Accepted: 2, Cap: 8, Refusal: "421 too many"},
	}
	got = r.Apply(prev)
	want = Profile{MTime: MTimeMDTM, MaxConns: 2, RenameReplaces: SupportYes, Zone: r.ZoneValues}
	if got != want {
		t.Errorf("Apply = %+v, want %+v", got, want)
	}
}
