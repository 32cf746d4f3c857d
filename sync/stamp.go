package sync

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// ErrChangedDuringUpload marks an upload whose local file changed after the
// scan, or while it was read: it was not renamed into place (its temporary
// is deleted: a torn temporary must not be resumed either), nothing was
// recorded, and the next run sends the file again.
var ErrChangedDuringUpload = errors.New("changed during upload")

// ErrChangedDuringDownload marks a download that received another byte
// count than the listing showed: the remote file changed since it was
// listed, or while it was sent. It was not renamed into place.
var ErrChangedDuringDownload = errors.New("changed during download")

// stamp tells versions of a local file apart: size, mtime and, where the
// system has one (Linux), ctime, which no program can set back (a rewrite
// in place that restores the mtime still moves it).
type stamp struct {
	size         int64
	mtime, ctime time.Time
}

func stampOf(info fs.FileInfo) stamp {
	return stamp{size: info.Size(), mtime: info.ModTime(), ctime: ctimeOf(info)}
}

// changes describes how now differs from was, "" when it does not.
func (was stamp) changes(now stamp) string {
	var d []string
	if was.size != now.size {
		d = append(d, fmt.Sprintf("size %d, now %d", was.size, now.size))
	}
	if !was.mtime.Equal(now.mtime) {
		d = append(d, fmt.Sprintf("mtime %s, now %s", fmtStamp(was.mtime), fmtStamp(now.mtime)))
	}
	if !was.ctime.Equal(now.ctime) {
		d = append(d, fmt.Sprintf("ctime %s, now %s", fmtStamp(was.ctime), fmtStamp(now.ctime)))
	}
	return strings.Join(d, ", ")
}

// plannedChanges describes how the file opened for an upload differs from
// the version the plan saw (size and mtime; the scan keeps no ctime).
func plannedChanges(planned plan.Meta, opened stamp) string {
	if planned.Kind != plan.File {
		return ""
	}
	return stamp{size: planned.Size, mtime: planned.ModTime}.changes(stamp{size: opened.size, mtime: opened.mtime})
}

func fmtStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
