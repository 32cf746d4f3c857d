package sync

import (
	"errors"
	"testing"
)

func TestExcluder(t *testing.T) {
	ex, err := NewExcluder([]string{".git/", "**/*.tmp", "/build/out.txt", "cache/", "*.log", "docs/**/draft-*"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rel   string
		isDir bool
		want  bool
	}{
		{".git", true, true},
		{"sub/.git", true, true},   // no slash: any depth
		{".git", false, false},     // trailing slash: folders only
		{"a/b/c.tmp", false, true}, // ** crosses folders
		{"c.tmp", false, true},     // **/ matches zero folders too
		{"build/out.txt", false, true},
		{"x/build/out.txt", false, false}, // a leading / anchors
		{"cache", true, true},
		{"cache", false, false},
		{"deep/er/app.log", false, true},
		{"app.log.gz", false, false},
		{"docs/a/b/draft-1.md", false, true},
		{"docs/final.md", false, false},
		{"src/main.go", false, false},
	}
	for _, tc := range cases {
		if got := ex.Excluded(tc.rel, tc.isDir); got != tc.want {
			t.Errorf("Excluded(%q, dir=%v) = %v, want %v", tc.rel, tc.isDir, got, tc.want)
		}
	}
	var none *Excluder
	if none.Excluded("anything", false) {
		t.Error("a nil Excluder excludes")
	}
}

func TestExcluderRejects(t *testing.T) {
	for _, p := range []string{"", "  ", "/", "**", "**/", "*", "/*", "**/*", "*/**", ".", "..", "[", "a/[b"} {
		_, err := NewExcluder([]string{p})
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Field != "exclude" {
			t.Errorf("NewExcluder(%q) = %v, want a *UsageError naming exclude", p, err)
		}
	}
}
