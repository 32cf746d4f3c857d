package sync

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// remotePath joins the remote root and a relative path.
func (e *executor) remotePath(rel string) string {
	if rel == "" {
		return e.remoteDir
	}
	return path.Join(e.remoteDir, rel)
}

// progressReader reports bytes as they pass and, under --bwlimit, waits
// for the shared limiter before handing them on.
type progressReader struct {
	r    io.Reader
	n    int64
	tick func(n int64)
	bw   *bandwidth
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		if werr := p.bw.wait(n); werr != nil {
			return 0, werr
		}
		p.n += int64(n)
		p.tick(p.n)
	}
	return n, err
}

type progressWriter struct {
	w    io.Writer
	n    int64
	tick func(n int64)
	bw   *bandwidth
	// f, when set, is the file being written: every writebackChunk bytes
	// its writeback to disk is started, so the fsync before the rename
	// does not have to flush a whole big file at once.
	f         *os.File
	writtenTo int64 // start of the range not yet handed to writeback
}

const writebackChunk = 8 << 20

func (p *progressWriter) Write(b []byte) (int, error) {
	if err := p.bw.wait(len(b)); err != nil {
		return 0, err
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.tick(p.n)
	if p.f != nil && p.n-p.writtenTo >= writebackChunk {
		startWriteback(p.f, p.writtenTo, p.n-p.writtenTo)
		p.writtenTo = p.n
	}
	return n, err
}

// reader and writer count the bytes of a transfer: for the reporter, and
// as progress for the stall watchdog.
func (e *executor) reader(ctx context.Context, a plan.Action, r io.Reader, off int64) *progressReader {
	return &progressReader{r: r, n: off, tick: e.tick(a), bw: e.bw.with(ctx, e.watch.progress)}
}

func (e *executor) writer(ctx context.Context, a plan.Action, w io.Writer, off int64) *progressWriter {
	return &progressWriter{w: w, n: off, tick: e.tick(a), bw: e.bw.with(ctx, e.watch.progress)}
}

func (e *executor) tick(a plan.Action) func(n int64) {
	return func(n int64) {
		e.watch.progress()
		e.rep.Progress(a, n)
	}
}

// upload copies local a.Path to a temporary name in the same remote
// folder, checks its size on the server, and renames it over a.Path with
// its mtime. It returns the Record to store, or later: the rename waits
// in ctx's lane and goes out in the write of the worker's next command
// (see lane), and the action's outcome is reported then.
//
// The waits of a small file's upload (the round trips its push costs):
// the data connection's connect (the data port was asked for in the
// previous upload's last write), one for STOR, its bytes and the 226
// (StorSmall), and one for the write that checks this upload's SIZE,
// renames the previous upload of the lane into place and asks for the
// next data port. Two, where the rename after each upload took three.
func (e *executor) upload(ctx context.Context, c *ftp.Conn, a plan.Action) (rec plan.Record, n int64, later bool, err error) {
	d, base, err := e.dirs.dir(a.Path)
	if err != nil {
		return plan.Record{}, 0, false, fmt.Errorf("local folder of %s: %w", a.Path, err)
	}
	f, err := d.Open(base)
	if err != nil {
		return plan.Record{}, 0, false, fmt.Errorf("open local file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return plan.Record{}, 0, false, fmt.Errorf("stat local file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return plan.Record{}, 0, false, fmt.Errorf("local %s is no longer a regular file", a.Path)
	}
	opened := stampOf(info)
	if diff := plannedChanges(a.Local, opened); diff != "" {
		// Changed since the scan: in flux, and not what the plan decided
		// on. The next run sees the new version.
		return plan.Record{}, 0, false, fmt.Errorf("local file %w: since the scan: %s", ErrChangedDuringUpload, diff)
	}
	local := plan.Meta{Kind: plan.File, Size: info.Size(), ModTime: info.ModTime().UTC(), Precision: time.Nanosecond}
	tmp := e.remotePath(tempName(a.Path))
	final := e.remotePath(a.Path)
	l := laneOf(ctx)
	small := local.Size <= ftp.SmallUpload
	if l.waiting() && (!small || l.waitedLong()) {
		// A big upload would hold the lane's commits for its whole
		// transfer, and an old one has waited enough: they go out now,
		// in a write of their own (one wait).
		e.commitLane(ctx, c, l, "")
	}
	off := e.uploadOffset(ctx, c, a.Path, f, local)
	if off == 0 {
		e.noteTemp(ctx, journalTempUp, a.Path, local)
	}
	n, err = e.stor(ctx, c, a, f, tmp, off, local.Size, l)
	if err != nil {
		return plan.Record{}, n, false, err
	}
	// What was read must be one version of the file: the one opened, as
	// it still is now that every byte is on the server. Otherwise the
	// temporary may mix versions: it is not published, nor kept for a
	// resume (whose overlap check only looks at the temporary's end).
	if err := checkUnchanged(f, opened, n); err != nil {
		if derr := c.Delete(ctx, tmp); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the temporary %s: %w", tmp, derr))
		}
		return plan.Record{}, n, false, err
	}
	// What the server holds must be every byte sent, checked before the
	// rename so that the real name never holds a partial file. The SIZE
	// goes out with the lane's waiting commits and the next EPSV: the
	// one wait after the 226.
	rep, err := e.commitLane(ctx, c, l, "SIZE "+tmp)
	if err != nil {
		return plan.Record{}, n, false, fmt.Errorf("size of the uploaded %s: %w", tmp, err)
	}
	if err := sizeCheck(tmp, rep, n); err != nil {
		return plan.Record{}, n, false, dropTemp(ctx, c, tmp, err)
	}
	if e.verify {
		// By the server's hash, before the rename; without one the size
		// just checked is all there is.
		if err := verify(ctx, c, tmp, f, func() error { return nil }); err != nil {
			return plan.Record{}, n, false, dropTemp(ctx, c, tmp, err)
		}
	}
	u := &upCommit{a: a, tmp: tmp, final: final, local: local, n: n}
	if l != nil && a.Conflict == 0 && e.commitLines(u) != nil {
		l.add(u)
		return plan.Record{}, n, true, nil
	}
	// Committed now: outside a lane, in a conflict group (whose next
	// action must know this one succeeded), or while the way of setting
	// times is not known yet (probed step by step). Once every byte is on
	// the server, the rename and the mtime are finished even if ctx is
	// cancelled now (each reply still bounded by the connection's
	// timeout): a file renamed into place whose mtime was not set yet
	// would look changed on both sides to the next two-way run, a
	// spurious conflict.
	remote, err := e.finishUpload(context.WithoutCancel(ctx), c, u)
	if err != nil {
		return plan.Record{}, n, false, err
	}
	return plan.Record{Kind: plan.File, Local: local, Remote: remote}, n, false, nil
}

// dropTemp deletes an upload's temporary that must neither be published
// nor resumed, and returns err (with the deletion's failure, if any).
func dropTemp(ctx context.Context, c *ftp.Conn, tmp string, err error) error {
	if c.Broken() {
		return err
	}
	if derr := c.Delete(ctx, tmp); derr != nil {
		err = errors.Join(err, fmt.Errorf("deleting the temporary %s: %w", tmp, derr))
	}
	return err
}

// checkUnchanged reports an upload's local file f, opened as opened, that
// changed while it was read (n bytes were).
func checkUnchanged(f *os.File, opened stamp, n int64) error {
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat local file after upload: %w", err)
	}
	diff := opened.changes(stampOf(info))
	if diff == "" && n != opened.size {
		diff = fmt.Sprintf("%d bytes read, %d expected", n, opened.size)
	}
	if diff != "" {
		return fmt.Errorf("local file %w: %s", ErrChangedDuringUpload, diff)
	}
	return nil
}

// stor uploads f to tmp from offset off (REST), falling back to a whole
// upload when the server refuses to restart (proftpd: "451
// Append/Restart not permitted"), and returns the file's bytes on the
// server (offset included). A small file (size bytes, at most
// ftp.SmallUpload) is read whole, into the lane's buffer, and sent with
// StorSmall.
func (e *executor) stor(ctx context.Context, c *ftp.Conn, a plan.Action, f *os.File, tmp string, off, size int64, l *lane) (int64, error) {
	if size <= ftp.SmallUpload && off == 0 {
		buf := l.buffer(int(size))
		n, err := io.ReadFull(e.reader(ctx, a, f, 0), buf)
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, fmt.Errorf("local file %w: %d bytes read, %d expected", ErrChangedDuringUpload, n, size)
		}
		if err != nil {
			return 0, fmt.Errorf("read local file: %w", err)
		}
		return c.StorSmall(ctx, tmp, buf[:n])
	}
	if off > 0 {
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return 0, err
		}
		pr := e.reader(ctx, a, f, off)
		n, err := c.Stor(ctx, tmp, off, pr)
		var fe *ftp.Error
		if err == nil {
			return off + n, nil
		}
		if !errors.As(err, &fe) || c.Broken() || fe.Code < 450 {
			return off + n, err
		}
		prof := e.pool.Profile()
		prof.NoRestStor = true
		e.pool.SetProfile(prof)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return 0, err
		}
	}
	pr := e.reader(ctx, a, f, 0)
	return c.Stor(ctx, tmp, 0, pr)
}

// finishUpload renames u's temporary over its final name and sets its
// mtime, in one write when the server's way of setting times is already
// known (commitLines), else step by step. It returns the remote Meta as
// the next listing will report it (to the second).
func (e *executor) finishUpload(ctx context.Context, c *ftp.Conn, u *upCommit) (plan.Meta, error) {
	var reps []*ftp.Reply
	lines := e.commitLines(u)
	if lines != nil {
		var err error
		if reps, err = c.Batch(ctx, lines...); err != nil {
			return plan.Meta{}, fmt.Errorf("rename %s over %s: %w", u.tmp, u.final, err)
		}
	}
	return e.settleCommit(ctx, c, u, lines, reps)
}

// commitLines returns the commands that commit u in one write: its mtime
// set on the temporary, then RNFR and RNTO. The time goes first so that
// the final name only ever changes by the rename: a refused RNFR or RNTO
// leaves the old version as it was, its time included. nil while the
// pool's profile does not know how the server sets times.
func (e *executor) commitLines(u *upCommit) []string {
	line, ok := e.setTimeLine(u.tmp, u.local.ModTime)
	if !ok {
		return nil
	}
	return []string{line, "RNFR " + u.tmp, "RNTO " + u.final}
}

// settleCommit finishes u's commit from the replies to its commitLines
// (lines and reps; nil when they were not sent), doing step by step what they did
// not: a refused rename again (or, over a name the server will not
// replace, the journalled replace), a refused time on the file in place.
// It returns the remote Meta.
func (e *executor) settleCommit(ctx context.Context, c *ftp.Conn, u *upCommit, lines []string, reps []*ftp.Reply) (plan.Meta, error) {
	remote := plan.Meta{Kind: plan.File, Size: u.local.Size, ModTime: u.local.ModTime.Truncate(time.Second), Precision: time.Second}
	renamed, timed := false, false
	if lines != nil {
		if len(lines) != 3 || len(reps) != 3 {
			return plan.Meta{}, fmt.Errorf("rename %s over %s: %d replies to %d commands", u.tmp, u.final, len(reps), len(lines))
		}
		terr := ftp.Expect(lines[0], reps[0])
		if err := ftp.Expect(lines[1], reps[1]); err != nil {
			// RNFR refused: the temporary is not there, and deleting
			// the destination would lose its current version for
			// nothing.
			return plan.Meta{}, fmt.Errorf("rename %s over %s: %w", u.tmp, u.final, err)
		}
		rerr := ftp.Expect(lines[2], reps[2])
		if rerr == nil && terr == nil {
			return remote, nil
		}
		renamed, timed = rerr == nil, terr == nil
		var fe *ftp.Error
		if errors.As(terr, &fe) && fe.Code >= 500 && fe.Code < 550 {
			// The remembered way of setting times is not understood (a
			// profile from an earlier run, a changed server): probe again.
			prof := e.pool.Profile()
			prof.MTime = ftp.MTimeUnknown
			e.pool.SetProfile(prof)
		}
		if errors.As(rerr, &fe) && fe.Code >= 500 {
			// Refused over an existing name: replace it, no second try.
			if err := e.replace(ctx, c, u, rerr); err != nil {
				return plan.Meta{}, err
			}
			renamed = true
		}
	}
	if !renamed {
		if err := e.renameOver(ctx, c, u); err != nil {
			return plan.Meta{}, err
		}
	}
	if timed {
		return remote, nil
	}
	err := c.SetModTime(ctx, u.final, u.local.ModTime)
	if errors.Is(err, ftp.ErrNoMTime) {
		// The server keeps the upload time: record what it reports, so the
		// next run sees the file as unchanged.
		st, serr := c.Stat(ctx, u.final)
		if serr != nil {
			return plan.Meta{}, serr
		}
		return plan.Meta{Kind: plan.File, Size: st.Size, ModTime: st.ModTime.UTC(), Precision: st.Precision}, nil
	}
	if err != nil {
		return plan.Meta{}, fmt.Errorf("set remote mtime: %w", err)
	}
	return remote, nil
}

// setTimeLine returns the command that sets a remote mtime, when the pool's
// profile already knows which one works.
func (e *executor) setTimeLine(p string, t time.Time) (string, bool) {
	return ftp.SetTimeLine(e.pool.Profile(), p, t) // the server's zone applied
}

// renameOver renames u's temporary over its final name. Servers that
// refuse to rename over an existing name get the journalled DELE then
// RNFR/RNTO of replace.
func (e *executor) renameOver(ctx context.Context, c *ftp.Conn, u *upCommit) error {
	err := c.Rename(ctx, u.tmp, u.final)
	var fe *ftp.Error
	if err == nil || !errors.As(err, &fe) || fe.Code < 500 || c.Broken() {
		return err
	}
	if !strings.HasPrefix(fe.Cmd, "RNTO ") {
		// RNFR failed: the temporary is not there, and deleting the
		// destination would lose its current version for nothing.
		return err
	}
	return e.replace(ctx, c, u, err)
}

// syncAlone is the size from which a download is fsynced on its own instead
// of waiting for its batch's syncfs: the fsync of a big file costs its own
// bytes, while a syncfs would also wait for every other dirty page of the
// filesystem (other programs' writes included).
const syncAlone = 1 << 20

// retr downloads remote a.Path into its local temporary, resuming a
// leftover when its overlap matches. It fsyncs the temporary unless a batch
// will (see syncAlone), and says which in synced. It returns the file's
// size.
func (e *executor) retr(ctx context.Context, c *ftp.Conn, a plan.Action, exact bool) (n int64, mtime time.Time, synced bool, err error) {
	f, off, err := e.resumeDownload(a.Path, a.Remote)
	if err != nil {
		return 0, time.Time{}, false, err
	}
	if off == 0 {
		e.noteTemp(ctx, journalTempDown, a.Path, a.Remote)
	}
	src := e.remotePath(a.Path)
	resumed := off > 0
	get := func(off int64, w io.Writer) (int64, error) {
		if !exact {
			return c.Retr(ctx, src, off, w)
		}
		n, t, err := c.RetrModTime(ctx, src, off, w)
		mtime = t
		return n, err
	}
	if off > 0 {
		ow := &overlapWriter{f: f, off: off, verify: overlap}
		pw := e.writer(ctx, a, ow, off)
		n, err = get(off, pw)
		n += off
		if errors.Is(err, errNotPrefix) && !c.Broken() {
			off, err = 0, f.Truncate(0)
		}
	}
	if off == 0 && err == nil {
		pw := e.writer(ctx, a, f, 0)
		pw.f = f
		n, err = get(0, pw)
	}
	if err == nil && a.Remote.Kind == plan.File && n != a.Remote.Size {
		// The remote file changed since it was listed (or while it was
		// sent): what came may be a mix of versions, and is not the
		// version the plan chose. The caller removes the temporary.
		err = fmt.Errorf("remote file %w: %d bytes received, the listing said %d", ErrChangedDuringDownload, n, a.Remote.Size)
	}
	if err == nil && resumed {
		err = f.Truncate(n) // the leftover may have been longer
	}
	if err == nil && e.verify {
		err = verifyLocal(ctx, c, src, f, n, a.Remote.Size)
	}
	if err == nil && (e.batch == nil || n >= syncAlone) {
		err, synced = f.Sync(), true
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, mtime, synced, err
}

// download copies remote rel into a temporary local file in the same
// folder and sets its mtime. The returned finisher renames it into place
// once it is durable: already fsynced when fin.sync is nil, else when the
// batch has synced it.
func (e *executor) download(ctx context.Context, c *ftp.Conn, a plan.Action) (plan.Record, int64, *finisher, error) {
	remote := a.Remote
	mtime := remote.ModTime
	// LIST times are minute or day precise (vsftpd): ask MDTM, in the same
	// write as the RETR, for the exact time the local copy must carry.
	exact := remote.Precision > time.Second || remote.Precision == 0
	d, base, err := e.dirs.dir(a.Path)
	if err != nil {
		return plan.Record{}, 0, nil, fmt.Errorf("local folder of %s: %w", a.Path, err)
	}
	tmp := tempName(base)
	n, t, synced, err := e.retr(ctx, c, a, exact)
	if !t.IsZero() {
		mtime = t
	}
	if err == nil && !mtime.IsZero() {
		err = d.Chtimes(tmp, mtime, mtime)
	}
	if err != nil {
		if ctx.Err() == nil {
			// A cancelled run leaves the temporary for the next run to
			// resume; any other failure cleans up.
			d.Remove(tmp)
		}
		return plan.Record{}, n, nil, err
	}
	commit := func(syncErr error) error {
		if syncErr != nil {
			d.Remove(tmp)
			return syncErr
		}
		if err := d.Rename(tmp, base); err != nil {
			d.Remove(tmp)
			return err
		}
		return nil
	}
	remote.Size = n
	local := plan.Meta{Kind: plan.File, Size: n, ModTime: mtime.UTC(), Precision: time.Nanosecond}
	if mtime.IsZero() {
		if info, err := d.Stat(tmp); err == nil {
			local.ModTime = info.ModTime().UTC()
		}
	}
	fin := &finisher{commit: commit}
	if !synced {
		fin.sync = func() error {
			f, err := d.Open(tmp)
			if err != nil {
				return err
			}
			err = f.Sync()
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return err
		}
	}
	return plan.Record{Kind: plan.File, Local: local, Remote: remote}, n, fin, nil
}
