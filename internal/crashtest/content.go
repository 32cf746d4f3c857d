//go:build linux

package crashtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path"
	"regexp"
	"strings"
	gosync "sync"
	"time"
)

// Every content a file ever has in a round is a version, made by the
// harness and recorded in the round's registry before it is written
// anywhere. A version's bytes are self-describing: the first 16 bytes are
// its token in hex, the rest a ChaCha8 stream seeded by the token, cut to
// the version's size. A version can also be derived from another, as
// edits are: the same stream longer (appended to) or shorter (truncated),
// or with a few bytes near the start overwritten (patched: the rest, and
// so the end of every prefix longer than the patch, is unchanged). A file
// whose bytes are not exactly one recorded version of its path is
// partial, a mix of versions, or foreign; a prefix of a version is
// recognised as such (for the report).

// version is one content of one path.
type version struct {
	id    int       // 1, 2, … in the round, in order of creation
	path  string    // the path it was made for (slash-separated, relative)
	token uint64    // seed of its bytes
	size  int64     // length in bytes
	mtime time.Time // the modification time it is written with
	sum   [32]byte  // SHA-256 of its bytes
	// patches overwrite ranges of the token's stream (patched versions).
	patches []patch
	how     string // "new", "append", "truncate", "patch"
}

// patch overwrites n bytes at off with a stream of its own.
type patch struct {
	off, n int64
	token  uint64
}

func (v *version) String() string {
	s := fmt.Sprintf("v%d (%s, %d bytes", v.id, v.path, v.size)
	if v.how != "" && v.how != "new" {
		s += ", " + v.how
	}
	return s + ")"
}

// bytes returns the version's first n bytes (all of them for n >= size).
func (v *version) bytes(n int64) []byte {
	n = min(n, v.size)
	b := content(v.token, n)
	for _, p := range v.patches {
		if p.off < n {
			copy(b[p.off:min(n, p.off+p.n)], stream(p.token, p.n))
		}
	}
	return b
}

// content returns the bytes of a new version with the given token and
// size: the token in hex, then its stream.
func content(token uint64, size int64) []byte {
	b := make([]byte, size)
	head := fmt.Appendf(nil, "%016x", token)
	n := copy(b, head)
	if int64(n) < size {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], token)
		rand.NewChaCha8(seed).Read(b[n:])
	}
	return b
}

// stream returns n bytes of the token's raw stream, for patches.
func stream(token uint64, n int64) []byte {
	b := make([]byte, n)
	var seed [32]byte
	binary.LittleEndian.PutUint64(seed[:], token)
	seed[8] = 1 // not the stream of a version with the same token
	rand.NewChaCha8(seed).Read(b)
	return b
}

// registry holds every version of a round. It is safe for concurrent use
// (the poller reads it while the round goes on).
type registry struct {
	mu     gosync.Mutex
	byPath map[string][]*version
	bySum  map[[32]byte][]*version
	next   int
	t0     time.Time // mtime of version 0; version n is n*61 s later
}

func newRegistry(now time.Time) *registry {
	// Recent times (within days: LIST shows hours and minutes, not the
	// year) a whole number of seconds apart and in different minutes, so
	// two versions of a path never look the same to a size-and-time
	// comparison at minute precision (vsftpd's LIST).
	t0 := now.Add(-7 * 24 * time.Hour).Truncate(time.Minute)
	return &registry{byPath: map[string][]*version{}, bySum: map[[32]byte][]*version{}, t0: t0}
}

// add makes a new version of p of the given size and returns it with its
// bytes.
func (r *registry) add(p string, size int64, rng *rand.Rand) (*version, []byte) {
	v := &version{path: p, token: rng.Uint64(), size: size, how: "new"}
	return v, r.record(v)
}

// derive makes a version of p edited from old (a version of p): how is
// "append" (the same bytes and more), "truncate" (a prefix) or "patch"
// (a few bytes overwritten near the start, same size). size is the new
// size for append and truncate.
func (r *registry) derive(p string, old *version, how string, size int64, rng *rand.Rand) (*version, []byte) {
	v := &version{path: p, token: old.token, size: old.size, patches: old.patches, how: how}
	switch how {
	case "append", "truncate":
		v.size = size
	case "patch":
		off := int64(16) // keep the token: the report still names the family
		if old.size <= off {
			off = 0
		}
		n := min(1+rng.Int64N(4096), old.size-off)
		v.patches = append(append([]patch(nil), old.patches...), patch{off: off, n: n, token: rng.Uint64()})
	default:
		panic("derive: " + how)
	}
	return v, r.record(v)
}

// record numbers v, gives it its mtime and sum, and files it.
func (r *registry) record(v *version) []byte {
	b := v.bytes(v.size)
	v.sum = sha256.Sum256(b)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	v.id = r.next
	v.mtime = r.t0.Add(time.Duration(r.next) * 61 * time.Second)
	r.byPath[v.path] = append(r.byPath[v.path], v)
	r.bySum[v.sum] = append(r.bySum[v.sum], v)
	return b
}

// count returns how many versions the round has made.
func (r *registry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.next
}

// match returns the version of a file at path q with the given SHA-256:
// one made for q's origin (q itself, or the path q is a conflict copy of),
// or nil.
func (r *registry) match(q string, sum [32]byte) *version {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range r.bySum[sum] {
		if v.path == q || v.path == origin(q) {
			return v
		}
	}
	return nil
}

// explain says what bytes b found at path q are, for a failure report:
// a prefix of a version of q, some other path's version, or unknown.
func (r *registry) explain(q string, b []byte) string {
	sum := sha256.Sum256(b)
	r.mu.Lock()
	others := append([]*version(nil), r.bySum[sum]...)
	cands := append(append([]*version(nil), r.byPath[q]...), r.byPath[origin(q)]...)
	r.mu.Unlock()
	if len(others) > 0 {
		return fmt.Sprintf("the content of %v, a version of another path", others[0])
	}
	for _, v := range cands {
		if int64(len(b)) < v.size && bytes.Equal(v.bytes(int64(len(b))), b) {
			return fmt.Sprintf("partial: the first %d bytes of %v", len(b), v)
		}
	}
	// A mix: some version's bytes up to a point, another's after it.
	for _, v := range cands {
		head := commonPrefix(v.bytes(int64(len(b))), b)
		if head == 0 {
			continue
		}
		for _, w := range cands {
			if w == v || w.size != int64(len(b)) {
				continue
			}
			wb := w.bytes(w.size)
			if bytes.Equal(wb[head:], b[head:]) {
				return fmt.Sprintf("a mix of versions: the first %d bytes of %v, the rest of %v", head, v, w)
			}
		}
	}
	if len(b) >= 16 {
		for _, v := range cands {
			if string(b[:16]) == fmt.Sprintf("%016x", v.token) {
				return fmt.Sprintf("%d bytes starting like %v but not equal to it (a mix of versions, or corrupted)", len(b), v)
			}
		}
	}
	return fmt.Sprintf("%d bytes of unknown content (no version of %s begins so)", len(b), q)
}

func commonPrefix(a, b []byte) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// conflictMark matches the marker ferry puts into a conflict copy's name:
// NAME.conflict-YYYYMMDD-HHMMSS[-N].EXT (sync/plan.ConflictName).
var conflictMark = regexp.MustCompile(`\.conflict-[0-9]{8}-[0-9]{6}(-[0-9]+)?`)

// origin returns the path a conflict copy was made from (applying itself
// to copies of copies), or p when p is no conflict copy.
func origin(p string) string {
	for {
		dir, base := path.Split(p)
		loc := conflictMark.FindAllStringIndex(base, -1)
		if len(loc) == 0 {
			return p
		}
		l := loc[len(loc)-1]
		stripped := base[:l[0]] + base[l[1]:]
		if stripped == "" || !isConflictName(base, stripped) {
			return p
		}
		p = dir + stripped
	}
}

// isConflictName reports whether base is a conflict copy's name of orig
// by ConflictName's rule: the marker goes before the extension (the part
// after the last dot, unless the dot is first or last), else at the end.
func isConflictName(base, orig string) bool {
	stem, ext := orig, ""
	if i := strings.LastIndexByte(orig, '.'); i > 0 && i < len(orig)-1 {
		stem, ext = orig[:i], orig[i:]
	}
	if !strings.HasPrefix(base, stem) || !strings.HasSuffix(base, ext) || len(base) < len(stem)+len(ext) {
		return false
	}
	mark := base[len(stem) : len(base)-len(ext)]
	return conflictMark.FindString(mark) == mark
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
