//go:build linux

package crashtest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"time"
)

// poller reads, over and over while ferry runs, every file under its
// real name on both sides and checks that its bytes are exactly one
// version of its path (conflict copies: of the path they copy). A file
// seen partial or mixed even once is a violation: ferry promises that a
// real name only ever shows a whole version. Files are read through one
// descriptor, so a rename over the name while it is read does no harm;
// a file already checked is skipped while its inode, size, mtime and
// ctime stay the same.
type poller struct {
	reg   *registry
	sides []*side
	phase atomic.Value // string: what the round is doing, for reports

	mu         gosync.Mutex
	violations []string
	badPaths   []string // the paths of the violations
	seen       map[fileKey]bool
	passes     int
	reads      int
	readBytes  int64

	stop chan struct{}
	done chan struct{}
	buf  bytes.Buffer
}

type fileKey struct {
	dev, ino     uint64
	size         int64
	mtime, ctime int64
	path         string
}

func newPoller(reg *registry, sides ...*side) *poller {
	p := &poller{reg: reg, sides: sides, seen: map[fileKey]bool{}}
	p.phase.Store("")
	return p
}

// start begins polling; pause stops it and waits until the pass in
// progress has ended (the harness then changes the trees itself).
func (p *poller) start() {
	p.stop, p.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		for {
			p.pass()
			select {
			case <-p.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
}

func (p *poller) pause() {
	if p.stop == nil {
		return
	}
	close(p.stop)
	<-p.done
	p.stop = nil
}

func (p *poller) setPhase(s string) { p.phase.Store(s) }

// pass checks both sides once.
func (p *poller) pass() {
	for _, s := range p.sides {
		filepath.WalkDir(s.root, func(abs string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() && isFerryProbeDir(d.Name()) {
				return filepath.SkipDir // ferry's scratch folder, never a synced file
			}
			if err != nil || d.IsDir() || !d.Type().IsRegular() {
				return nil // vanished, or a folder: nothing to read
			}
			if isFerryTemp(d.Name()) || isServerTemp(d.Name()) {
				return nil
			}
			rel, _ := filepath.Rel(s.root, abs)
			p.check(s, filepath.ToSlash(rel), abs)
			return nil
		})
	}
	p.mu.Lock()
	p.passes++
	p.mu.Unlock()
}

func (p *poller) check(s *side, rel, abs string) {
	f, err := os.OpenFile(abs, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return // renamed or deleted since the listing
	}
	defer f.Close()
	key, ok := statKey(f, rel)
	if !ok {
		return
	}
	p.mu.Lock()
	seen := p.seen[key]
	p.mu.Unlock()
	if seen {
		return
	}
	p.buf.Reset()
	if _, err := io.Copy(&p.buf, f); err != nil {
		return
	}
	b := p.buf.Bytes()
	sum := sha256.Sum256(b)
	p.mu.Lock()
	p.reads++
	p.readBytes += int64(len(b))
	p.mu.Unlock()
	if p.reg.match(rel, sum) != nil {
		p.mu.Lock()
		p.seen[key] = true
		p.mu.Unlock()
		return
	}
	after, _ := statKey(f, rel)
	msg := fmt.Sprintf("%s %s (%s): %s", s.name, rel, p.phase.Load(), p.reg.explain(rel, b))
	if after != key {
		msg += fmt.Sprintf(" [written in place while read: size %d -> %d]", key.size, after.size)
	}
	p.mu.Lock()
	p.violations = append(p.violations, msg)
	p.badPaths = append(p.badPaths, rel)
	p.seen[key] = true // reported once
	p.mu.Unlock()
}

func statKey(f *os.File, rel string) (fileKey, bool) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fileKey{}, false
	}
	return fileKey{
		dev: uint64(st.Dev), ino: st.Ino, size: st.Size,
		mtime: st.Mtim.Nano(), ctime: st.Ctim.Nano(), path: rel,
	}, true
}

// takeViolations returns the violations seen since the last call.
func (p *poller) takeViolations() []string {
	v, _ := p.takeViolationPaths()
	return v
}

// takeViolationPaths is takeViolations, also returning the paths.
func (p *poller) takeViolationPaths() (v, paths []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	v, paths = p.violations, p.badPaths
	p.violations, p.badPaths = nil, nil
	return v, paths
}

func (p *poller) stats() (passes, reads int, bytes int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.passes, p.reads, p.readBytes
}
