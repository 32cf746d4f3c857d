package plan

import "fmt"

// TooManyDeletesError is CheckDeletes' refusal: the plan would delete
// Deletes entries on Side ("local", "remote" or "local and remote") where
// only Limit are allowed. MaxDelete is true when Limit came from
// --max-delete (Deletes then counts files and folders on both sides);
// otherwise it is the two-way default, half of the Total files on Side.
type TooManyDeletesError struct {
	Side      string
	Deletes   int
	Total     int
	Limit     int
	MaxDelete bool
}

func (e *TooManyDeletesError) Error() string {
	if !e.MaxDelete {
		return fmt.Sprintf("plan would delete %d of the %d files on the %s side, more than half; refusing (see --max-delete)",
			e.Deletes, e.Total, e.Side)
	}
	return fmt.Sprintf("plan would delete %d entries on the %s side, more than --max-delete %d; refusing",
		e.Deletes, e.Side, e.Limit)
}

// CheckDeletes is the mass-delete guard; it returns nil or a
// *TooManyDeletesError.
//
// With max >= 0 (--max-delete N) the plan may delete at most max entries,
// files and folders, on both sides together. With max < 0 a one-way plan is
// unlimited, and a two-way plan (Direction Both) may delete at most half of
// the files on each side: localFiles and remoteFiles are the numbers of
// files the trees hold, and only file deletes count against them.
func (p Plan) CheckDeletes(localFiles, remoteFiles, max int) error {
	if max >= 0 {
		n := p.LocalDeletes + p.RemoteDeletes
		if n <= max {
			return nil
		}
		where := "local and remote"
		switch {
		case p.RemoteDeletes == 0:
			where = "local"
		case p.LocalDeletes == 0:
			where = "remote"
		}
		return &TooManyDeletesError{Side: where, Deletes: n, Limit: max, MaxDelete: true}
	}
	if p.Direction != Both {
		return nil
	}
	var fl, fr int
	for _, a := range p.Actions {
		switch {
		case a.Kind != File:
		case a.Op == DeleteLocal:
			fl++
		case a.Op == DeleteRemote:
			fr++
		}
	}
	if 2*fl > localFiles {
		return &TooManyDeletesError{Side: "local", Deletes: fl, Total: localFiles, Limit: localFiles / 2}
	}
	if 2*fr > remoteFiles {
		return &TooManyDeletesError{Side: "remote", Deletes: fr, Total: remoteFiles, Limit: remoteFiles / 2}
	}
	return nil
}
