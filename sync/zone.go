package sync

import (
	"context"
	"errors"
	"fmt"
	"path"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// The server's time zone (see ftp.Zone). A LIST-only server may list local
// time: taken as UTC, every file would look changed (a full re-transfer, or
// a wrong "newer" in a two-way run) and the mtimes ferry sets would be off
// by the offset. So a run measures the zone on first contact and keeps it
// in the server's profile, and a full run that sees every listed time
// moved by the same amount since the last run measures it again.

// zoneStep is the granularity of zone offsets (ftp rounds to it too).
const zoneStep = 15 * time.Minute

// ensureZone measures the server's zone when the pool's profile has none
// and the server lists with LIST (MLSD times are UTC by RFC 3659): one tiny
// upload into a temporary folder of the remote root, or of its nearest
// ancestor that can be written (a root that does not exist yet), and a
// listing of it (ftp.Conn.ProbeZone). A read-only account is recorded as
// such (Zone.Failed) and not tried again until the profile is probed anew.
// Only the connection's own error is returned (the run would meet it in
// the walk); a zone that could not be measured is a warning, and listed
// times are then taken as UTC.
func ensureZone(ctx context.Context, o Options, warn func(error)) error {
	if z := o.Pool.Profile().Zone; z.Measured || z.Failed {
		return nil
	}
	c, err := o.Pool.Get(ctx)
	if err != nil {
		return err
	}
	defer o.Pool.Put(c)
	if _, ok := c.Feature("MLST"); ok {
		return nil
	}
	for dir := o.Remote; ; dir = path.Dir(dir) {
		_, err := c.ProbeZone(ctx, dir)
		var pde *ftp.ProbeDirError
		var le *ftp.LeftoverError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &le):
			warn(err) // measured all the same
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.As(err, &pde) && dir != "/" && !c.Broken():
			continue
		case errors.As(err, &pde), errors.Is(err, ftp.ErrNoOffset):
			// Not for want of a connection: it would fail the same way
			// next time.
			prof := o.Pool.Profile()
			prof.Zone.Failed = true
			o.Pool.SetProfile(prof)
		}
		warn(fmt.Errorf("the server lists without a time zone and its offset could not be measured, so listed times are taken as UTC (ferry probe on a folder this account may write measures it): %w", err))
		return nil
	}
}

// rezone looks, in a full run, for a server whose zone changed since its
// offsets were measured: a daylight saving change or a daemon restarted in
// another zone moves every listed time by the same whole number of hours
// (or quarter hours). When most files whose size matches their state
// record are listed the same non-zero amount away from the record, the
// zone is measured again and, when the new offset accounts for the move,
// the walk's times are corrected by it: the tree is not taken as changed.
// A move the new offset does not explain is left to the plan (the files
// did change), with a warning.
func rezone(ctx context.Context, o Options, st plan.State, remote *Walk, warn func(error)) {
	old := o.Pool.Profile().Zone
	if !old.Measured {
		return
	}
	shift, n, of := listedShift(st, remote.Tree)
	if shift == 0 {
		return
	}
	c, err := o.Pool.Get(ctx)
	if err != nil {
		warn(fmt.Errorf("%d of %d files are listed %v from their records; measuring the server's time zone again: %w", n, of, shift, err))
		return
	}
	defer o.Pool.Put(c)
	z, err := c.ProbeZone(ctx, o.Remote)
	var le *ftp.LeftoverError
	if errors.As(err, &le) {
		warn(err)
		err = nil
	}
	if err != nil {
		warn(fmt.Errorf("%d of %d files are listed %v from their records; measuring the server's time zone again: %w", n, of, shift, err))
		return
	}
	moved := time.Duration(z.List-old.List) * time.Second
	if moved != shift {
		warn(fmt.Errorf("%d of %d files are listed %v from their records, but the server's time zone moved by %v: taken as changed", n, of, shift, moved))
		return
	}
	// Listed with the old offset, the times are shift too late (or
	// early): the new offset would have read them right.
	for rel, m := range remote.Tree.Entries {
		if m.Kind == plan.File && m.Precision > 0 {
			m.ModTime = m.ModTime.Add(-shift)
			remote.Tree.Entries[rel] = m
		}
	}
	for i := range remote.Entries {
		if e := &remote.Entries[i]; e.Precision > 0 {
			e.ModTime = e.ModTime.Add(-shift)
		}
	}
	warn(fmt.Errorf("the server's time zone moved by %v (listed times now %s from UTC): %d of %d files were listed that far from their records and are not taken as changed",
		shift, ftp.FormatOffset(z.List), n, of))
}

// listedShift compares the listed times of tree with the state's records
// of files whose size did not change. When more than half of those
// (of, listed to the minute or better on both sides) are listed the same
// non-zero multiple of zoneStep away from their records, it returns that
// shift and how many (n) were.
func listedShift(st plan.State, tree plan.Tree) (shift time.Duration, n, of int) {
	counts := map[time.Duration]int{}
	for rel, m := range tree.Entries {
		r, ok := st[rel]
		if !ok || m.Kind != plan.File || r.Remote.Kind != plan.File || r.Remote.Size != m.Size ||
			!minutePrecise(m) || !minutePrecise(r.Remote) {
			continue
		}
		of++
		d := m.ModTime.Sub(r.Remote.ModTime)
		q := d.Round(zoneStep)
		// Listed to the minute, a time is cut down by up to a minute.
		if q != 0 && (d-q).Abs() <= m.Precision+r.Remote.Precision {
			counts[q]++
		}
	}
	for q, k := range counts {
		if k > n || k == n && q < shift {
			shift, n = q, k
		}
	}
	if 2*n <= of {
		return 0, n, of
	}
	return shift, n, of
}

func minutePrecise(m plan.Meta) bool { return m.Precision > 0 && m.Precision <= time.Minute }
