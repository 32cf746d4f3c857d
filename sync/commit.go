package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// upCommit is an upload whose temporary is on the server, checked, and
// waits to be renamed into place.
type upCommit struct {
	a          plan.Action
	tmp, final string    // absolute remote paths
	local      plan.Meta // the local version uploaded
	n          int64     // bytes sent (the temporary's size)
}

// JournalStore is a Store that keeps a journal of non-atomic remote steps
// (the state cache of package job is one). A step is recorded durably
// before it starts and marked done after it ended, so that a run killed
// half-way leaves a note the next run repairs from.
type JournalStore interface {
	Store
	// JournalAdd records that a step of kind on path is about to start,
	// with caller-defined data, and returns its id.
	JournalAdd(ctx context.Context, kind, path, data string) (int64, error)
	// JournalDone removes entry id.
	JournalDone(ctx context.Context, id int64) error
	// JournalEntries returns the pending entries, oldest first.
	JournalEntries(ctx context.Context) ([]JournalEntry, error)
}

// JournalEntry is one pending step of a JournalStore.
type JournalEntry struct {
	ID   int64
	Kind string
	Path string // relative, slash-separated
	Data string
}

// journalReplace is the kind of replace's entries; their data is a
// replaceNote in JSON.
const journalReplace = "replace"

// replaceNote is what the next run needs to finish a replace: the
// temporary's size and the local version it holds.
type replaceNote struct {
	Size  int64     `json:"size"`
	Local plan.Meta `json:"local"`
}

// replace is renameOver's fallback for servers whose RNTO does not
// replace an existing name (refused is that refusal): DELE the old
// version, then rename. Between the two the file exists only as the
// temporary, so the step is journalled first, durably: a run killed in
// between leaves the note from which the next run finishes the rename
// (repairJournal). Without a journal in the Store (a dry run's, a
// test's), the DELE is not journalled. Two waits, on the servers that need
// it: the DELE must have succeeded before the rename is sent.
func (e *executor) replace(ctx context.Context, c *ftp.Conn, u *upCommit, refused error) error {
	fail := func(err error) error {
		return fmt.Errorf("rename %s over %s: %w", u.tmp, u.final, errors.Join(refused, err))
	}
	js, _ := e.store.(JournalStore)
	var id int64
	if js != nil {
		data, err := json.Marshal(replaceNote{Size: u.n, Local: u.local})
		if err == nil {
			id, err = js.JournalAdd(ctx, journalReplace, u.a.Path, string(data))
		}
		if err != nil {
			// No DELE without the note.
			return fail(fmt.Errorf("journal before deleting: %w", err))
		}
	}
	done := func() {
		if js == nil {
			return
		}
		if err := js.JournalDone(context.WithoutCancel(ctx), id); err != nil {
			e.warn(fmt.Errorf("state cache: %w", err))
		}
	}
	if err := c.Delete(ctx, u.final); err != nil {
		if !c.Broken() {
			done() // refused: the old version is still there
		}
		return fail(err)
	}
	if err := c.Rename(ctx, u.tmp, u.final); err != nil {
		// The final name is gone and the temporary holds the new
		// version: the note stays, and the next run renames it.
		return fail(err)
	}
	done()
	return nil
}

// ErrUploadSize marks an upload whose temporary holds another byte count
// on the server than was sent: a server that dropped the data connection
// part way may still answer 226. The temporary is not renamed into place
// (it is deleted), nothing is recorded, and the action is tried once more.
var ErrUploadSize = errors.New("upload incomplete on the server")

// sizeCheck is the check of an upload of sent bytes to tmp, from the reply
// to "SIZE tmp". A server that does not know SIZE (500, 502: not
// implemented) cannot be checked; every server ferry is tested against
// knows it.
func sizeCheck(tmp string, rep *ftp.Reply, sent int64) error {
	if rep.Code == 500 || rep.Code == 502 {
		return nil
	}
	got, err := ftp.ParseSize("SIZE "+tmp, rep)
	if err != nil {
		return fmt.Errorf("size of the uploaded %s: %w", tmp, err)
	}
	if got != sent {
		return fmt.Errorf("%w: %s holds %d bytes on the server, %d were sent", ErrUploadSize, tmp, got, sent)
	}
	return nil
}

// repairJournal finishes, before anything is scanned, the replaces a
// killed run left half done (see replace). For each note: when the final
// name exists, the rename was done and the note is dropped; when it is
// missing and the temporary holds the journalled size, the temporary is
// renamed into place, its mtime set and the path recorded as synced; when
// both are gone, the path's record is forgotten, so the path is planned
// afresh (its local file is then new, not "deleted on the server": a
// two-way run would delete it). A note that cannot be settled (the server
// does not answer) stays for the next run, and its path's record is
// forgotten too. Records are flushed before a note is dropped.
func repairJournal(ctx context.Context, o Options, res *Result) error {
	js, ok := o.Store.(JournalStore)
	if !ok || o.DryRun {
		return nil
	}
	entries, err := js.JournalEntries(ctx)
	if err != nil {
		return fmt.Errorf("reading the state cache's journal: %w", err)
	}
	var todo []JournalEntry
	for _, je := range entries {
		if je.Kind == journalReplace {
			todo = append(todo, je)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	e := &executor{pool: o.Pool, remoteDir: o.Remote, store: o.Store, rep: o.Reporter, res: res}
	c, err := o.Pool.Get(ctx)
	if err != nil {
		return err
	}
	defer func() { o.Pool.Put(c) }()
	for _, je := range todo {
		if c.Broken() {
			e.forget(je.Path)
			continue
		}
		if err := e.repairReplace(ctx, c, js, je); err != nil {
			e.forget(je.Path)
			e.warn(fmt.Errorf("finishing the interrupted replace of %s: %w", je.Path, err))
		}
	}
	if err := o.Store.Flush(ctx); err != nil {
		return fmt.Errorf("saving state cache: %w", err)
	}
	return nil
}

// repairReplace settles one replace note (see repairJournal).
func (e *executor) repairReplace(ctx context.Context, c *ftp.Conn, js JournalStore, je JournalEntry) error {
	drop := func() error {
		// The records the note's outcome changed go first: a crash
		// between the two must not leave an old record without its note.
		if err := e.store.Flush(ctx); err != nil {
			return fmt.Errorf("saving state cache: %w", err)
		}
		return js.JournalDone(ctx, je.ID)
	}
	var note replaceNote
	if err := json.Unmarshal([]byte(je.Data), &note); err != nil {
		e.forget(je.Path)
		if derr := drop(); derr != nil {
			return derr
		}
		return fmt.Errorf("unreadable journal entry %q: %w", je.Data, err)
	}
	final, tmp := e.remotePath(je.Path), e.remotePath(tempName(je.Path))
	// Both sizes in one write: one wait.
	reps, err := c.Batch(ctx, "SIZE "+final, "SIZE "+tmp)
	if err != nil {
		return err
	}
	_, err = ftp.ParseSize("SIZE "+final, reps[0])
	if err == nil {
		return drop() // the rename was done: the plan compares as usual
	}
	if !missing(err) {
		return err
	}
	got, err := ftp.ParseSize("SIZE "+tmp, reps[1])
	if err != nil && !missing(err) {
		return err
	}
	if err != nil || got != note.Size {
		e.forget(je.Path)
		return drop()
	}
	u := &upCommit{a: plan.Action{Op: plan.Upload, Path: je.Path}, tmp: tmp, final: final, local: note.Local, n: note.Size}
	remote, err := e.finishUpload(ctx, c, u)
	if err != nil {
		return err
	}
	e.record(je.Path, plan.Record{Kind: plan.File, Local: note.Local, Remote: remote})
	if err := drop(); err != nil {
		return err
	}
	e.warn(fmt.Errorf("%s: finished the replace an interrupted run left half done (renamed %s into place)", je.Path, tmp))
	return nil
}

// missing reports a reply saying the file is not there (550).
func missing(err error) bool {
	var fe *ftp.Error
	return errors.As(err, &fe) && fe.Code == 550
}
