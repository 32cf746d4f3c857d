package sync

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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
	// Warnings name what was skipped: symlinks, special files, unreadable
	// folders (which are also in Tree.Unknown).
	Warnings []error
	Device   uint64 // the root's device, to notice a replaced mount
}

// ErrLocalRootMissing is returned by ScanLocal when the root does not exist
// or is not a folder.
var ErrLocalRootMissing = errors.New("local folder is missing")

// ScanLocal walks root without following symlinks (they are skipped with a
// warning, so nothing outside the root is ever read). Files carry their
// mtime to the nanosecond.
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
	if sys, ok := st.Sys().(*syscall.Stat_t); ok {
		s.Device = uint64(sys.Dev)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, rerr := filepath.Rel(root, p)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			if err != nil {
				return err
			}
			return nil
		}
		if err != nil {
			// An unreadable folder is unknown, not empty.
			s.Tree.Unknown[rel] = true
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s: %w", p, err))
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		return s.add(p, rel, d, exclude)
	})
	if err != nil {
		return nil, fmt.Errorf("scanning %s: %w", root, err)
	}
	return s, nil
}

func (s *LocalScan) add(p, rel string, d fs.DirEntry, exclude *Excluder) error {
	typ := d.Type()
	isDir := typ.IsDir()
	if exclude.Excluded(rel, isDir) {
		if isDir {
			return fs.SkipDir
		}
		return nil
	}
	switch {
	case isDir:
		s.Tree.Entries[rel] = plan.Meta{Kind: plan.Dir}
	case typ&fs.ModeSymlink != 0:
		s.Warnings = append(s.Warnings, fmt.Errorf("local %s is a symlink: skipped", p))
		s.Tree.Unknown[rel] = true
	case typ.IsRegular():
		info, err := d.Info()
		if err != nil {
			s.Tree.Unknown[rel] = true
			s.Warnings = append(s.Warnings, fmt.Errorf("local %s: %w", p, err))
			return nil
		}
		if isTemp(d.Name()) {
			s.Temps[rel] = info.Size()
			return nil
		}
		s.Tree.Entries[rel] = plan.Meta{Kind: plan.File, Size: info.Size(), ModTime: info.ModTime().UTC(), Precision: time.Nanosecond}
	default:
		s.Warnings = append(s.Warnings, fmt.Errorf("local %s is not a regular file: skipped", p))
		s.Tree.Unknown[rel] = true
	}
	return nil
}
