package sync

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Excluder decides which relative paths a run leaves alone. Patterns follow
// rsync and gitignore habits: "**" crosses folders; a pattern with no "/"
// (other than a trailing one) matches a name at any depth; one with a "/"
// matches the path from the synced root (a leading "/" just anchors it); a
// trailing "/" matches folders only. An excluded folder excludes everything
// below it, and excluded paths are never deleted on either side.
type Excluder struct {
	rules []rule
}

type rule struct {
	pattern  string
	anywhere bool // no slash: match the base name at any depth
	dirOnly  bool
}

// NewExcluder checks and compiles patterns. An empty or degenerate pattern
// (one that would exclude the whole tree) or bad glob syntax is a
// *UsageError naming the pattern.
func NewExcluder(patterns []string) (*Excluder, error) {
	ex := &Excluder{}
	for _, raw := range patterns {
		p := strings.TrimSpace(raw)
		if p == "" {
			return nil, usageErr("exclude", "empty pattern")
		}
		r := rule{}
		if strings.HasSuffix(p, "/") {
			r.dirOnly = true
			p = strings.TrimRight(p, "/")
		}
		anchored := strings.HasPrefix(p, "/")
		p = strings.TrimLeft(p, "/")
		if degenerate(p) {
			return nil, usageErr("exclude", "pattern %q would exclude everything", raw)
		}
		if !doublestar.ValidatePattern(p) {
			return nil, usageErr("exclude", "pattern %q is not a valid glob", raw)
		}
		if strings.Contains(p, "\x00") {
			return nil, usageErr("exclude", "pattern %q contains a NUL byte", raw)
		}
		r.pattern = p
		r.anywhere = !anchored && !strings.Contains(p, "/")
		ex.rules = append(ex.rules, r)
	}
	return ex, nil
}

// degenerate reports patterns that match every path: nothing left after
// trimming slashes, or made only of "*" and "/".
func degenerate(p string) bool {
	return strings.Trim(p, "*/") == "" || p == "." || p == ".."
}

// Excluded reports whether rel (slash-separated, relative to the root) is
// excluded; isDir says whether it is a folder. Callers walk top-down and do
// not descend into excluded folders, so only rel itself is matched.
func (ex *Excluder) Excluded(rel string, isDir bool) bool {
	if ex == nil {
		return false
	}
	base := path.Base(rel)
	for _, r := range ex.rules {
		if r.dirOnly && !isDir {
			continue
		}
		subject := rel
		if r.anywhere {
			subject = base
		}
		if ok, _ := doublestar.Match(r.pattern, subject); ok {
			return true
		}
	}
	return false
}

// String lists the patterns, for logs.
func (ex *Excluder) String() string {
	if ex == nil {
		return "none"
	}
	var ps []string
	for _, r := range ex.rules {
		ps = append(ps, fmt.Sprintf("%q", r.pattern))
	}
	return strings.Join(ps, ", ")
}
