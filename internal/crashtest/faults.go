//go:build linux

package crashtest

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"
)

// Fault kinds.
const (
	FaultKill    = "kill"    // SIGKILL ferry
	FaultRestart = "restart" // SIGKILL the FTP server, start it again on the same port
	FaultDrop    = "drop"    // ftptestd's fault script: dropped and cut connections, RETRs cut short (426)
	FaultLie     = "lie"     // ftptestd: RETRs cut short behind a lying 226 (opt-in)
)

// Triggers: when a timed fault strikes.
const (
	trigEarly    = "early"    // within the first 25 ms: start-up, login, scans, state cache
	trigTimed    = "timed"    // at a random time within the expected run time
	trigTemp     = "temp"     // once a ferry temporary has some bytes: mid-transfer
	trigProgress = "progress" // after the k-th change under a real name
)

// strike is one timed fault of a run.
type strike struct {
	kind    string        // FaultKill or FaultRestart
	trigger string        // trig*
	delay   time.Duration // trigEarly, trigTimed: from the start
	bytes   int64         // trigTemp: a temporary at least this big (or any, if the transfer is smaller)
	changes int           // trigProgress: this many changed real names
	pause   time.Duration // FaultRestart: how long the server stays down
}

func (s strike) String() string {
	var at string
	switch s.trigger {
	case trigEarly, trigTimed:
		at = fmt.Sprintf("after %v", s.delay.Round(time.Millisecond))
	case trigTemp:
		at = fmt.Sprintf("once a temporary holds %d bytes", s.bytes)
	case trigProgress:
		at = fmt.Sprintf("after %d changes under real names", s.changes)
	}
	if s.kind == FaultRestart {
		return fmt.Sprintf("restart server %s (down %v)", at, s.pause.Round(time.Millisecond))
	}
	return fmt.Sprintf("kill ferry %s", at)
}

// runFaults is what one run of ferry suffers.
type runFaults struct {
	strikes []strike
	drop    string // ftptestd fault script; "" none
	bwlimit string // ferry --bwlimit, to stretch transfers so strikes land in them; "" none
}

func (f runFaults) String() string {
	var parts []string
	for _, s := range f.strikes {
		parts = append(parts, s.String())
	}
	if f.drop != "" {
		parts = append(parts, "network faults "+f.drop)
	}
	if f.bwlimit != "" {
		parts = append(parts, "--bwlimit "+f.bwlimit)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// planFaults draws the faults of one run from the kinds enabled for the
// server. est is the expected duration of the run, changes the number of
// paths the run should change, maxSize the biggest file it should move.
func planFaults(rng *rand.Rand, kinds []string, est time.Duration, changes int, maxSize int64) runFaults {
	var f runFaults
	pick := func() string { return kinds[rng.IntN(len(kinds))] }
	n := 1
	if rng.Float64() < 0.25 {
		n = 2
	}
	for range n {
		switch k := pick(); k {
		case FaultDrop, FaultLie:
			if f.drop == "" {
				f.drop = dropScript(rng, kinds)
			}
		default:
			s := strike{kind: k}
			switch r := rng.IntN(20); {
			case r < 3:
				s.trigger, s.delay = trigEarly, time.Duration(rng.Int64N(int64(25*time.Millisecond)))
			case r < 8:
				s.trigger, s.delay = trigTimed, time.Duration(rng.Int64N(int64(est)+1))
			case r < 16:
				s.trigger, s.bytes = trigTemp, 1
				switch {
				case maxSize > resumeMin+overlap && rng.IntN(5) < 3:
					// A leftover ferry will try to resume; slowed down,
					// or the kill comes too late.
					s.bytes = resumeMin + rng.Int64N(min(maxSize, 4<<20)-resumeMin)
					f.bwlimit = fmt.Sprintf("%dM", 4+rng.IntN(12))
				case rng.IntN(2) == 0:
					s.bytes = rng.Int64N(max(1, min(maxSize, 4<<20)))
				}
			default:
				s.trigger, s.changes = trigProgress, 1+rng.IntN(max(1, changes))
			}
			if k == FaultRestart {
				s.pause = time.Duration(rng.Int64N(int64(800 * time.Millisecond)))
			}
			f.strikes = append(f.strikes, s)
		}
	}
	if len(f.strikes) > 0 && f.bwlimit == "" && rng.Float64() < 0.3 {
		f.bwlimit = fmt.Sprintf("%dM", 4+rng.IntN(40))
	}
	return f
}

// ferry resumes a leftover temporary of at least resumeMin bytes, checking
// its last overlap bytes (sync/resume.go).
const (
	resumeMin = 1 << 20
	overlap   = 64 << 10
)

// dropScript draws an ftptestd -faults script: a few faults per run.
func dropScript(rng *rand.Rand, kinds []string) string {
	s := fmt.Sprintf("seed=%d,drop=%.3f,cut=%.3f,cutms=%d,retr=%.3f,max=%d",
		rng.Uint32(), 0.005+0.03*rng.Float64(), 0.01+0.06*rng.Float64(), 10+rng.IntN(300),
		0.2*rng.Float64(), 1+rng.IntN(6))
	for _, k := range kinds {
		if k == FaultLie {
			s += fmt.Sprintf(",lie=%.3f", 0.3*rng.Float64())
		}
	}
	return s
}

// watch blocks until s's trigger fires (or ctx ends: false). It looks at
// the sides by name and size only (cheap), every 2 ms.
func (s strike) watch(ctx context.Context, start time.Time, sides []*side, before map[string]sig) bool {
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	switch s.trigger {
	case trigEarly, trigTimed:
		return wait(time.Until(start.Add(s.delay)))
	}
	for {
		now := sizes(sides)
		switch s.trigger {
		case trigTemp:
			for p, n := range now {
				if isFerryTemp(filepath.Base(p)) && n.size >= s.bytes {
					return true
				}
			}
		case trigProgress:
			if changedNames(before, now) >= s.changes {
				return true
			}
		}
		if !wait(2 * time.Millisecond) {
			return false
		}
	}
}

// sig is a file's size and mtime.
type sig struct{ size, mtime int64 }

// sizes lists every file on the sides ("local/PATH", "remote/PATH") with
// its size and mtime.
func sizes(sides []*side) map[string]sig {
	m := map[string]sig{}
	for _, s := range sides {
		filepath.WalkDir(s.root, func(abs string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(s.root, abs)
			m[s.name+"/"+filepath.ToSlash(rel)] = sig{info.Size(), info.ModTime().UnixNano()}
			return nil
		})
	}
	return m
}

// changedNames counts the real names that appeared, vanished or changed.
func changedNames(before, now map[string]sig) int {
	n := 0
	for p, v := range now {
		if isFerryTemp(filepath.Base(p)) {
			continue
		}
		if w, ok := before[p]; !ok || w != v {
			n++
		}
	}
	for p := range before {
		if _, ok := now[p]; !ok && !isFerryTemp(filepath.Base(p)) {
			n++
		}
	}
	return n
}
