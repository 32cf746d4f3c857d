package sync

import (
	"fmt"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

func TestListedShift(t *testing.T) {
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	rec := func(size int64, mt time.Time) plan.Record {
		return plan.Record{Kind: plan.File, Remote: plan.Meta{Kind: plan.File, Size: size, ModTime: mt, Precision: time.Second}}
	}
	listed := func(size int64, mt time.Time, prec time.Duration) plan.Meta {
		return plan.Meta{Kind: plan.File, Size: size, ModTime: mt.Truncate(prec), Precision: prec}
	}
	// n files, each i minutes apart, listed moved by move (cut to the
	// minute); the first changed of them have another size.
	tree := func(n, changed int, move time.Duration) (plan.State, plan.Tree) {
		st := plan.State{}
		tr := plan.Tree{Entries: map[string]plan.Meta{}}
		for i := range n {
			p := fmt.Sprintf("f%d", i)
			mt := base.Add(time.Duration(i)*time.Minute + 17*time.Second)
			st[p] = rec(10, mt)
			size := int64(10)
			if i < changed {
				size = 11
			}
			tr.Entries[p] = listed(size, mt.Add(move), time.Minute)
		}
		return st, tr
	}
	cases := []struct {
		name       string
		n, changed int
		move       time.Duration
		want       time.Duration
	}{
		{"nothing moved", 10, 0, 0, 0},
		{"moved -10h30 (Kolkata to New York)", 10, 0, -10*time.Hour - 30*time.Minute, -10*time.Hour - 30*time.Minute},
		{"moved +1h (a daylight saving change)", 10, 3, time.Hour, time.Hour},
		{"moved by 7 minutes: not a zone", 10, 0, 7 * time.Minute, 0},
		{"most sizes changed: the others count", 10, 6, time.Hour, time.Hour},
		{"one file", 1, 0, time.Hour, time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st, tr := tree(tc.n, tc.changed, tc.move)
			if got, n, of := listedShift(st, tr); got != tc.want {
				t.Errorf("listedShift = %v (%d of %d), want %v", got, n, of, tc.want)
			}
		})
	}
	// Half the files moved, half did not (edited by hand): no shift.
	st, tr := tree(10, 0, 0)
	for i := range 5 {
		p := fmt.Sprintf("f%d", i)
		m := tr.Entries[p]
		m.ModTime = m.ModTime.Add(time.Hour)
		tr.Entries[p] = m
	}
	if got, _, _ := listedShift(st, tr); got != 0 {
		t.Errorf("half moved: listedShift = %v, want 0", got)
	}
	// Day-precise listings tell nothing.
	st, tr = tree(4, 0, time.Hour)
	for p, m := range tr.Entries {
		m.Precision = 24 * time.Hour
		tr.Entries[p] = m
	}
	if got, _, of := listedShift(st, tr); got != 0 || of != 0 {
		t.Errorf("day precision: listedShift = %v of %d, want nothing compared", got, of)
	}
}
