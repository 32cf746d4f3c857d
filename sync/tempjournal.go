package sync

import (
	"context"
	"fmt"

	"github.com/ferrysync/ferry/sync/plan"
)

// Which version a leftover temporary holds. The overlap check of a resume
// (resume.go) only compares the temporary's last bytes with the source: a
// file edited before its end (a database page, an image's header) and
// interrupted again would be resumed from a temporary that still holds old
// bytes, published and recorded as synced. So before a big transfer writes
// a temporary, the version it copies (its source's size and mtime) is
// noted in the state cache's journal; a leftover is resumed only when the
// note says it holds the version being sent now. Without a journal (a dry
// run's store, some tests') nothing is ever resumed.
const (
	journalTempUp   = "temp-up"   // a remote temporary; data: the local version
	journalTempDown = "temp-down" // a local temporary; data: the remote version
)

// versionStamp is how a temporary's note names the version it holds.
func versionStamp(m plan.Meta) string {
	return fmt.Sprintf("%d %d", m.Size, m.ModTime.UnixNano())
}

// loadTempNotes reads the temporaries' notes of the journal, once per run,
// before any transfer.
func (e *executor) loadTempNotes(ctx context.Context) {
	e.tempNotes = map[string]JournalEntry{}
	js, ok := e.store.(JournalStore)
	if !ok {
		return
	}
	entries, err := js.JournalEntries(ctx)
	if err != nil {
		e.warn(fmt.Errorf("reading the state cache's journal: %w", err))
		return
	}
	for _, je := range entries {
		if je.Kind == journalTempUp || je.Kind == journalTempDown {
			e.tempNotes[je.Kind+"\x00"+je.Path] = je
		}
	}
}

// tempHolds reports whether the leftover temporary of path (kind says
// which side) is noted as holding version m.
func (e *executor) tempHolds(kind, path string, m plan.Meta) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	je, ok := e.tempNotes[kind+"\x00"+path]
	return ok && je.Data == versionStamp(m)
}

// noteTemp records, before a transfer of version m writes path's
// temporary from its start, that the temporary holds m, replacing an
// older note. Small transfers are never resumed and need no note.
func (e *executor) noteTemp(ctx context.Context, kind, path string, m plan.Meta) {
	js, ok := e.store.(JournalStore)
	if !ok || m.Size < resumeMin {
		return
	}
	e.dropTempNote(ctx, kind, path)
	id, err := js.JournalAdd(ctx, kind, path, versionStamp(m))
	if err != nil {
		e.warn(fmt.Errorf("noting the temporary of %s: %w", path, err))
		return
	}
	e.mu.Lock()
	e.tempNotes[kind+"\x00"+path] = JournalEntry{ID: id, Kind: kind, Path: path, Data: versionStamp(m)}
	e.mu.Unlock()
}

// dropTempNote removes path's note (its temporary is gone: published,
// removed, or about to be rewritten).
func (e *executor) dropTempNote(ctx context.Context, kind, path string) {
	js, ok := e.store.(JournalStore)
	if !ok {
		return
	}
	e.mu.Lock()
	je, had := e.tempNotes[kind+"\x00"+path]
	delete(e.tempNotes, kind+"\x00"+path)
	e.mu.Unlock()
	if had {
		js.JournalDone(context.WithoutCancel(ctx), je.ID)
	}
}

// dropStaleTempNotes removes, in a full run, the notes of temporaries the
// scans no longer found (local and remote are the leftovers by their
// temporary's path), so the journal does not grow.
func (e *executor) dropStaleTempNotes(ctx context.Context, local, remote map[string]int64) {
	e.mu.Lock()
	var stale []JournalEntry
	for _, je := range e.tempNotes {
		left := remote
		if je.Kind == journalTempDown {
			left = local
		}
		if _, ok := left[tempName(je.Path)]; !ok {
			stale = append(stale, je)
		}
	}
	e.mu.Unlock()
	for _, je := range stale {
		e.dropTempNote(ctx, je.Kind, je.Path)
	}
}
