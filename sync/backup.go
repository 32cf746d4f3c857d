package sync

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	gosync "sync"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/plan"
)

// backups implements --backup-dir: on the destination side, a file that
// a run would overwrite or delete is first moved into the backup folder,
// under its relative path (an older backup of the same path is replaced).
// Only one-way runs have a destination side.
type backups struct {
	remote string // absolute remote folder (push), or ""
	local  string // absolute local folder (pull), or ""

	mu   gosync.Mutex
	made map[string]bool // remote folders known to exist
}

// BackupDir resolves --backup-dir for a one-way run: an absolute path is
// taken as it is, a relative one is relative to the destination root. When
// the folder lies inside the synced root, its relative path is returned
// too, so the run can exclude it (a backup must never be synced or
// deleted as an extra).
func BackupDir(mode Mode, dir, localRoot, remoteRoot string) (abs, inside string, err error) {
	if dir == "" {
		return "", "", nil
	}
	switch mode {
	case Push:
		abs = path.Clean(dir)
		if !path.IsAbs(dir) {
			abs = path.Join(remoteRoot, dir)
		}
		if rel, ok := below(remoteRoot, abs, "/"); ok {
			inside = rel
		}
	case Pull:
		abs = filepath.Clean(dir)
		if !filepath.IsAbs(dir) {
			abs = filepath.Join(localRoot, dir)
		}
		if rel, ok := below(localRoot, abs, string(filepath.Separator)); ok {
			inside = filepath.ToSlash(rel)
		}
	default:
		return "", "", usageErr("backup_dir", "only applies to push and pull (a two-way sync keeps conflicting versions itself)")
	}
	if inside == "" && (abs == path.Clean(remoteRoot) && mode == Push || abs == filepath.Clean(localRoot) && mode == Pull) {
		return "", "", usageErr("backup_dir", "%q is the synced folder itself", dir)
	}
	return abs, inside, nil
}

// below reports whether p lies strictly inside root, and its relative
// path.
func below(root, p, sep string) (string, bool) {
	root = filepath.Clean(root)
	if root != sep {
		root += sep
	}
	if len(p) > len(root) && p[:len(root)] == root {
		return p[len(root):], true
	}
	return "", false
}

// beforeOverwrite moves the destination's current version of a.Path into
// the backup folder when the action would replace or delete a file.
func (e *executor) beforeOverwrite(ctx context.Context, c *ftp.Conn, a plan.Action) error {
	if e.backup == nil {
		return nil
	}
	switch {
	case e.backup.remote != "" && a.Remote.Kind == plan.File && (a.Op == plan.Upload || a.Op == plan.DeleteRemote):
		return e.backupRemote(ctx, c, a.Path)
	case e.backup.local != "" && a.Local.Kind == plan.File && (a.Op == plan.Download || a.Op == plan.DeleteLocal):
		return e.backupLocal(a.Path)
	}
	return nil
}

func (e *executor) backupRemote(ctx context.Context, c *ftp.Conn, rel string) error {
	dst := path.Join(e.backup.remote, rel)
	if err := e.backup.mkdirAll(ctx, c, path.Dir(dst)); err != nil {
		return fmt.Errorf("backup folder: %w", err)
	}
	// An older backup of the same path gives way.
	if err := c.Delete(ctx, dst); err != nil && c.Broken() {
		return err
	}
	if err := c.Rename(ctx, e.remotePath(rel), dst); err != nil {
		return fmt.Errorf("moving %s to the backup folder: %w", rel, err)
	}
	return nil
}

func (b *backups) mkdirAll(ctx context.Context, c *ftp.Conn, dir string) error {
	b.mu.Lock()
	done := b.made[dir]
	b.mu.Unlock()
	if done || dir == "/" {
		return nil
	}
	if err := b.mkdirAll(ctx, c, path.Dir(dir)); err != nil {
		return err
	}
	if err := ensureRemoteDir(ctx, c, dir); err != nil {
		return err
	}
	b.mu.Lock()
	b.made[dir] = true
	b.mu.Unlock()
	return nil
}

func (e *executor) backupLocal(rel string) error {
	dst := filepath.Join(e.backup.local, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("backup folder: %w", err)
	}
	if err := os.Rename(filepath.Join(e.root.Name(), filepath.FromSlash(rel)), dst); err != nil {
		return fmt.Errorf("moving %s to the backup folder: %w", rel, err)
	}
	return nil
}
