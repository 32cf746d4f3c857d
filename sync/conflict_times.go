package sync

import (
	"context"
	"fmt"
	"path"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// exactConflictTimes asks the server (MDTM, RFC 3659 section 3) for the
// exact modification time of each remote file that p renames to a conflict
// copy or weighs against another version in a conflict, when the listing
// gave its time only to the minute or the day (LIST). SPEC "Two-way sync"
// names a conflict copy after the loser's mtime and lets the newer version
// keep the name; a minute-precise listing can tell neither.
//
// An exact time replaces the listing's entry in remote (with Precision
// time.Second) only when it agrees with the listing at the listing's
// precision; otherwise (a server that lists in another zone) the listing
// is kept, so records stay comparable with later listings. It reports
// whether any entry changed, in which case the caller plans again. A failed
// MDTM leaves the listing's time and is passed to warn.
func exactConflictTimes(ctx context.Context, o Options, p *plan.Plan, remote *Walk, warn func(error)) bool {
	var rels []string
	seen := map[string]bool{}
	for _, a := range p.Actions {
		if a.Op != plan.RenameLocal && a.Op != plan.RenameRemote || seen[a.Path] {
			continue
		}
		m, ok := remote.Tree.Entries[a.Path]
		if ok && m.Kind == plan.File && m.Precision > time.Second {
			seen[a.Path] = true
			rels = append(rels, a.Path)
		}
	}
	if len(rels) == 0 {
		return false
	}
	c, err := o.Pool.Get(ctx)
	if err != nil {
		warn(fmt.Errorf("asking exact times of conflicting remote files: %w", err))
		return false
	}
	defer o.Pool.Put(c)
	changed := false
	for _, rel := range rels {
		t, err := c.ModTime(ctx, path.Join(o.Remote, rel))
		if err != nil {
			warn(fmt.Errorf("remote %s: asking its exact time for a conflict: %w", rel, err))
			if c.Broken() {
				break
			}
			continue
		}
		listed := remote.Tree.Entries[rel]
		exact := listed
		exact.ModTime, exact.Precision = t.UTC(), time.Second
		if plan.SameTime(listed, exact) && !exact.ModTime.Equal(listed.ModTime) {
			remote.Tree.Entries[rel] = exact
			changed = true
		}
	}
	return changed
}
