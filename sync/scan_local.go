package sync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

// tempSuffix marks ferry's temporary files on both sides: a transfer writes
// ".NAME.ferry-tmp" in the destination folder and renames it into place when
// complete. Scans leave these names out of the trees and report them as
// leftovers, which the next run removes or resumes.
const tempSuffix = ".ferry-tmp"

// tempName returns the temporary name for the final path rel.
func tempName(rel string) string {
	dir, base := splitRel(rel)
	t := "." + base + tempSuffix
	if dir == "" {
		return t
	}
	return dir + "/" + t
}

// isTemp reports whether a base name is one of ferry's temporaries.
func isTemp(base string) bool {
	return strings.HasPrefix(base, ".") && strings.HasSuffix(base, tempSuffix) && len(base) > 1+len(tempSuffix)
}

func splitRel(rel string) (dir, base string) {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i], rel[i+1:]
	}
	return "", rel
}

// LocalScan is the result of scanning the local root.
type LocalScan struct {
	Tree plan.Tree
	// Temps are leftover temporary files (relative paths) with their sizes.
	Temps map[string]int64
	// Warnings name what was skipped on purpose: symlinks, special files,
	// and entries that vanished while the scan read them (also in
	// Tree.Unknown). They do not fail a run.
	Warnings []error
	// Problems name what could not be read: folders and files (in
	// Tree.Unknown). The run cannot be complete.
	Problems []error
	Device   uint64 // the root's device, to notice a replaced mount
	Identity string // the root's inode and birth time, to notice a deleted and re-created folder
}

// ErrLocalRootMissing is returned by ScanLocal when the root does not exist
// or is not a folder.
var ErrLocalRootMissing = errors.New("local folder is missing")

// errChanged is a scanned entry whose type changed between the folder's
// listing and its stat.
var errChanged = errors.New("changed type during the scan")

// ScanLocal walks root without following symlinks below it (they are
// skipped with a warning, so nothing outside the root is ever read); root
// itself may be a symlink to a folder (~/Sync -> /mnt/disk/Sync). Files
// carry their mtime to the nanosecond.
func ScanLocal(root string, exclude *Excluder) (*LocalScan, error) {
	st, err := os.Stat(root)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s", ErrLocalRootMissing, root)
		}
		return nil, fmt.Errorf("local folder %s: %w", root, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is not a folder", ErrLocalRootMissing, root)
	}
	s := &LocalScan{
		Tree:  plan.Tree{Entries: map[string]plan.Meta{}, Unknown: map[string]bool{}},
		Temps: map[string]int64{},
	}
	s.Device, s.Identity = rootIdentity(root)
	dir, err := os.Open(root)
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", root, err)
	}
	if err := s.scanDir(dir, root, "", exclude); err != nil {
		return nil, fmt.Errorf("scanning %s: %w", root, err)
	}
	return s, nil
}

// unreadable makes rel unknown: a problem, unless it vanished during the
// scan (a warning: it is gone, and the next run sees it gone).
func (s *LocalScan) unreadable(rel string, err error) {
	s.Tree.Unknown[rel] = true
	if errors.Is(err, fs.ErrNotExist) {
		s.Warnings = append(s.Warnings, fmt.Errorf("%w (vanished during the scan): skipped", err))
		return
	}
	s.Problems = append(s.Problems, err)
}

// scanDir adds the entries of the open folder dir (at path p, relative path
// rel) and of the folders below it, and closes dir. Files are stat'ed
// relative to their folder's handle, not by full path: one path lookup per
// folder, not per file. Only the root's own listing failing is an error;
// a folder below it that cannot be read is unknown, with a problem.
func (s *LocalScan) scanDir(dir *os.File, p, rel string, exclude *Excluder) error {
	ents, err := dir.ReadDir(-1)
	if err != nil {
		dir.Close()
		if rel == "" {
			return err
		}
		// An unreadable folder is unknown, not empty.
		s.unreadable(rel, fmt.Errorf("local %s: %w", p, err))
		return nil
	}
	var subdirs []string
	for _, d := range ents {
		name := d.Name()
		r, full := name, filepath.Join(p, name)
		if rel != "" {
			r = rel + "/" + name
		}
		typ := d.Type()
		isDir := typ.IsDir()
		if exclude.Excluded(r, isDir) {
			continue
		}
		switch {
		case isDir:
			s.Tree.Entries[r] = plan.Meta{Kind: plan.Dir}
			subdirs = append(subdirs, name)
		case typ&fs.ModeSymlink != 0:
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s is a symlink: skipped", full))
			s.Tree.Unknown[r] = true
		case typ.IsRegular():
			size, mtime, err := statAt(dir, full, name)
			if err != nil {
				s.unreadable(r, fmt.Errorf("local %s: %w", full, err))
				continue
			}
			if isTemp(name) {
				s.Temps[r] = size
				continue
			}
			s.Tree.Entries[r] = plan.Meta{Kind: plan.File, Size: size, ModTime: mtime.UTC(), Precision: time.Nanosecond}
		default:
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s is not a regular file: skipped", full))
			s.Tree.Unknown[r] = true
		}
	}
	for _, name := range subdirs {
		r, full := name, filepath.Join(p, name)
		if rel != "" {
			r = rel + "/" + name
		}
		sub, err := openDirAt(dir, full, name)
		if err != nil {
			s.unreadable(r, fmt.Errorf("local %s: %w", full, err))
			continue
		}
		if err := s.scanDir(sub, full, r, exclude); err != nil {
			dir.Close()
			return err
		}
	}
	return dir.Close()
}
