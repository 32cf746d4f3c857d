package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// sameVersions reports whether a conflict's two versions are in fact the
// same file (SPEC: then it is not a conflict). first is the group's rename,
// which carries both versions. Equal sizes are not enough: two same-size
// edits are common, and keeping both costs a copy while dropping one loses
// an edit, so the contents must be compared by the server's hash. Without
// one (vsftpd, pure-ftpd and proftpd as shipped offer none) the conflict
// stands. Errors along the way also let it stand.
func (e *executor) sameVersions(ctx context.Context, first plan.Action) bool {
	if first.Local.Kind != plan.File || first.Remote.Kind != plan.File || first.Local.Size != first.Remote.Size {
		return false
	}
	c, err := e.conn(ctx)
	if err != nil {
		return false
	}
	defer e.release(ctx, c)
	algo, sum, err := c.Hash(ctx, e.remotePath(first.Path))
	if err != nil {
		if !errors.Is(err, ftp.ErrNoHash) {
			e.warn(fmt.Errorf("comparing the two versions of %s: %w", first.Path, err))
		}
		return false
	}
	d, base, err := e.dirs.dir(first.Path)
	if err != nil {
		return false
	}
	f, err := d.Open(base)
	if err != nil {
		return false
	}
	defer f.Close()
	local, err := localHash(f, algo)
	return err == nil && local == sum
}
