package sync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// Resuming interrupted transfers. A leftover temporary of a killed run is
// resumed with REST when it is worth it (at least resumeMin bytes) and
// provably a prefix of the current version: the last overlap bytes of the
// temporary must equal the same range of the source. Otherwise the transfer
// starts over.
const (
	resumeMin = 1 << 20
	overlap   = 64 << 10
)

// uploadOffset returns where an upload of rel (local file f, version
// local) may resume in its remote temporary, or 0. The temporary must be
// noted as holding this version (tempjournal.go), and its end must match.
func (e *executor) uploadOffset(ctx context.Context, c *ftp.Conn, rel string, f *os.File, local plan.Meta) int64 {
	have, size := e.resumeUp[rel], local.Size
	if have < resumeMin || have >= size || e.pool.Profile().NoRestStor || e.pool.Profile().NoRestRetr ||
		!e.tempHolds(journalTempUp, rel, local) {
		return 0
	}
	from := have - overlap
	want := make([]byte, overlap)
	if _, err := f.ReadAt(want, from); err != nil {
		return 0
	}
	// The temporary ends at have, so a RETR from have-overlap returns
	// exactly the overlap when the leftover is what we think it is.
	var got bytes.Buffer
	if _, err := c.Retr(ctx, e.remotePath(tempName(rel)), from, &got); err != nil {
		return 0
	}
	if !bytes.Equal(got.Bytes(), want) {
		return 0
	}
	return have
}

// resumeDownload prepares the local temporary of rel for a download of
// version remote: it returns the file opened for writing and the offset to
// RETR from. When a big enough leftover noted as holding that version
// exists, the download restarts overlap bytes before its end, and
// overlapWriter (given the first bytes received) confirms the leftover is
// a prefix of the remote file.
func (e *executor) resumeDownload(rel string, remote plan.Meta) (f *os.File, offset int64, err error) {
	d, base, err := e.dirs.dir(rel)
	if err != nil {
		return nil, 0, fmt.Errorf("local folder of %s: %w", rel, err)
	}
	tmp := tempName(base)
	have := e.resumeDown[rel]
	if have >= resumeMin && !e.pool.Profile().NoRestRetr && e.tempHolds(journalTempDown, rel, remote) {
		f, err := d.OpenFile(tmp, os.O_RDWR, 0)
		if err == nil {
			return f, have - overlap, nil
		}
	}
	f, err = d.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_RDWR, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("create local temporary: %w", err)
	}
	return f, 0, nil
}

// overlapWriter writes a resumed download into f from offset, first
// checking that the bytes received for the overlap equal what f already
// holds there; a mismatch fails with errNotPrefix.
type overlapWriter struct {
	f      *os.File
	off    int64
	verify int64 // bytes still to compare
}

var errNotPrefix = errors.New("leftover temporary is not a prefix of the remote file")

func (o *overlapWriter) Write(p []byte) (int, error) {
	if o.verify > 0 {
		n := min(int64(len(p)), o.verify)
		have := make([]byte, n)
		if _, err := o.f.ReadAt(have, o.off); err != nil || !bytes.Equal(have, p[:n]) {
			return 0, errNotPrefix
		}
		o.verify -= n
		o.off += n
		if n == int64(len(p)) {
			return len(p), nil
		}
		m, err := o.Write(p[n:])
		return int(n) + m, err
	}
	m, err := o.f.WriteAt(p, o.off)
	o.off += int64(m)
	return m, err
}
