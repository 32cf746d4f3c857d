package sync

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/plan"
)

func TestScanLocal(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside"), 0o644); err != nil {
		t.Fatal(err)
	}
	real := t.TempDir()
	mtime := time.Date(2024, 2, 29, 12, 30, 45, 123456789, time.UTC)
	files := map[string]string{
		"a.txt":              "alpha",
		"empty":              "",
		"d/b.txt":            "bravo!",
		"d/e/c.txt":          "charlie",
		"d/.b.txt.ferry-tmp": "par", // a leftover temporary
		"skip/x.log":         "excluded folder",
		"d/y.log":            "excluded file",
	}
	for rel, body := range files {
		p := filepath.Join(real, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"emptydir", "d/e/f"} {
		if err := os.MkdirAll(filepath.Join(real, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Links below the root, to a file and to a folder outside it, are
	// skipped and never followed.
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(real, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(real, "d", "linkdir")); err != nil {
		t.Fatal(err)
	}
	// The root itself is reached through a symlink, as ~/Sync often is.
	root := filepath.Join(t.TempDir(), "Sync")
	if err := os.Symlink(real, root); err != nil {
		t.Fatal(err)
	}
	ex, err := NewExcluder([]string{"skip/", "*.log"})
	if err != nil {
		t.Fatal(err)
	}

	s, err := ScanLocal(root, ex)
	if err != nil {
		t.Fatal(err)
	}

	var got []string
	for rel, m := range s.Tree.Entries {
		if m.Kind == plan.Dir {
			got = append(got, rel+"/")
			continue
		}
		if !m.ModTime.Equal(mtime) || m.Precision != time.Nanosecond {
			t.Errorf("%s: mtime %v precision %v, want %v to the nanosecond", rel, m.ModTime, m.Precision, mtime)
		}
		if int(m.Size) != len(files[rel]) {
			t.Errorf("%s: size %d, want %d", rel, m.Size, len(files[rel]))
		}
		got = append(got, rel)
	}
	slices.Sort(got)
	want := []string{"a.txt", "d/", "d/b.txt", "d/e/", "d/e/c.txt", "d/e/f/", "empty", "emptydir/"}
	if !slices.Equal(got, want) {
		t.Errorf("entries %q, want %q", got, want)
	}
	if len(s.Temps) != 1 || s.Temps["d/.b.txt.ferry-tmp"] != 3 {
		t.Errorf("temps %v, want d/.b.txt.ferry-tmp of 3 bytes", s.Temps)
	}
	if !s.Tree.Unknown["link"] || !s.Tree.Unknown["d/linkdir"] || len(s.Tree.Unknown) != 2 {
		t.Errorf("unknown %v, want the two symlinks", s.Tree.Unknown)
	}
	if len(s.Warnings) != 2 {
		t.Errorf("warnings %v, want one per symlink", s.Warnings)
	}
	for _, w := range s.Warnings {
		if !strings.Contains(w.Error(), "symlink: skipped") {
			t.Errorf("warning %q does not say the symlink was skipped", w)
		}
	}
	if s.Device == 0 {
		t.Error("the root's device was not recorded")
	}
}

func TestScanLocalRootErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, root := range []string{filepath.Join(dir, "missing"), file} {
		_, err := ScanLocal(root, nil)
		if !errors.Is(err, ErrLocalRootMissing) || !strings.Contains(err.Error(), root) {
			t.Errorf("ScanLocal(%s) = %v, want ErrLocalRootMissing naming the path", root, err)
		}
	}
}

// BenchmarkScanLocal5k scans the benchmark's small profile shape: 5,000
// files of 4 KiB in 55 folders.
func BenchmarkScanLocal5k(b *testing.B) {
	root := b.TempDir()
	for d := range 5 {
		for s := range 10 {
			dir := filepath.Join(root, fmt.Sprintf("d%02d", d), fmt.Sprintf("s%02d", s))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			for f := range 100 {
				if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%03d.bin", f)), make([]byte, 4096), 0o644); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := ScanLocal(root, nil)
		if err != nil {
			b.Fatal(err)
		}
		if len(s.Tree.Entries) != 5055 {
			b.Fatalf("%d entries, want 5055", len(s.Tree.Entries))
		}
	}
}
