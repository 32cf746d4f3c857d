package plan

import (
	"strconv"
	"strings"
	"time"
)

// ConflictName is the name under which a conflict keeps its losing version:
// NAME.conflict-YYYYMMDD-HHMMSS.EXT in the same folder as p, with the time
// being mtime in UTC. EXT is the part of the base name after its last dot,
// unless that dot is the first character (a dotfile such as ".htaccess") or
// the last; then the marker goes at the end. So:
//
//	"a.txt"     -> "a.conflict-20241124-063100.txt"
//	"a.tar.gz"  -> "a.tar.conflict-20241124-063100.gz"
//	".htaccess" -> ".htaccess.conflict-20241124-063100"
//	"Makefile"  -> "Makefile.conflict-20241124-063100"
//
// n > 1 adds "-n" to the time ("….conflict-20241124-063100-2.txt"), for a
// name already taken.
func ConflictName(p string, mtime time.Time, n int) string {
	dir, base := "", p
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		dir, base = p[:i+1], p[i+1:]
	}
	stem, ext := base, ""
	if i := strings.LastIndexByte(base, '.'); i > 0 && i < len(base)-1 {
		stem, ext = base[:i], base[i:]
	}
	mark := ".conflict-" + truncUTC(mtime).Format("20060102-150405")
	if n > 1 {
		mark += "-" + strconv.Itoa(n)
	}
	return dir + stem + mark + ext
}

// conflictName picks the first ConflictName for p that no tree, no record
// and no earlier conflict of this plan uses, and reserves it.
func (b *builder) conflictName(p string, mtime time.Time) string {
	for n := 1; ; n++ {
		name := ConflictName(p, mtime, n)
		if !b.taken(name) {
			b.used[name] = true
			return name
		}
	}
}

func (b *builder) taken(name string) bool {
	if _, ok := b.local.Entries[name]; ok {
		return true
	}
	if _, ok := b.remote.Entries[name]; ok {
		return true
	}
	if _, ok := b.st[name]; ok {
		return true
	}
	return b.used[name]
}
