package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// faults is the -faults script: network faults injected at random through
// ftptest's command hook, for crash campaigns (internal/crashtest). The
// script is a comma-separated list of key=value:
//
//	seed=N    seed of the fault generator (default 1)
//	drop=P    before a command (or the greeting), with probability P,
//	          drop the control connection at once, without a reply
//	cut=P     with probability P, let the command run but drop the control
//	          and data connections after a random delay of up to cutms
//	          (default 200 ms): mostly in the middle of a transfer
//	retr=P    RETR: with probability P send a random prefix of the file,
//	          reset the data connection and reply 426
//	lie=P     RETR: with probability P send a random prefix, close the
//	          data connection cleanly and reply 226, as a broken server or
//	          middlebox would: the client cannot tell it from a whole file
//	max=N     inject at most N faults in all (default: no limit)
//
// Every fault is logged to stderr as a line starting "ftptestd: fault:".
type faults struct {
	drop, cut, retr, lie float64
	cutMax               time.Duration
	root                 string
	log                  io.Writer

	mu   gosync.Mutex
	rng  *rand.Rand
	left int // faults still allowed; < 0: no limit
	rest map[int]int64
}

func parseFaults(spec, root string, log io.Writer) (*faults, error) {
	f := &faults{cutMax: 200 * time.Millisecond, root: root, log: log, left: -1, rest: map[int]int64{}}
	seed := uint64(1)
	for _, kv := range strings.Split(spec, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want key=value", kv)
		}
		var err error
		switch k {
		case "seed":
			seed, err = strconv.ParseUint(v, 10, 64)
		case "drop":
			f.drop, err = parseProb(v)
		case "cut":
			f.cut, err = parseProb(v)
		case "retr":
			f.retr, err = parseProb(v)
		case "lie":
			f.lie, err = parseProb(v)
		case "cutms":
			var ms int
			ms, err = strconv.Atoi(v)
			if err == nil && ms <= 0 {
				err = fmt.Errorf("must be positive")
			}
			f.cutMax = time.Duration(ms) * time.Millisecond
		case "max":
			f.left, err = strconv.Atoi(v)
		default:
			return nil, fmt.Errorf("unknown key %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", kv, err)
		}
	}
	f.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return f, nil
}

func parseProb(v string) (float64, error) {
	p, err := strconv.ParseFloat(v, 64)
	if err == nil && (p < 0 || p > 1) {
		err = fmt.Errorf("probability out of [0, 1]")
	}
	return p, err
}

// roll reports whether a fault of probability p happens now, counting it
// against max; n > 0 also draws a number in [0, n) under the same lock.
func (f *faults) roll(p float64, n int64) (bool, int64) {
	if p <= 0 {
		return false, 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.left == 0 || f.rng.Float64() >= p {
		return false, 0
	}
	if f.left > 0 {
		f.left--
	}
	var x int64
	if n > 0 {
		x = f.rng.Int64N(n)
	}
	return true, x
}

func (f *faults) logf(format string, args ...any) {
	fmt.Fprintf(f.log, "ftptestd: fault: "+format+"\n", args...)
}

// hook is the ftptest.Options.Hook of the script.
func (f *faults) hook(s *ftptest.Session, cmd, arg string) bool {
	switch cmd {
	case "REST":
		if n, err := strconv.ParseInt(strings.TrimSpace(arg), 10, 64); err == nil {
			f.mu.Lock()
			f.rest[s.ID()] = n
			f.mu.Unlock()
		}
	case "RETR", "STOR", "APPE":
		// The offset is used (or dropped) by this command either way.
	default:
		return f.generic(s, cmd, arg)
	}
	f.mu.Lock()
	off := f.rest[s.ID()]
	delete(f.rest, s.ID())
	f.mu.Unlock()
	if cmd == "RETR" && f.partialRetr(s, arg, off) {
		return true
	}
	return f.generic(s, cmd, arg)
}

func (f *faults) generic(s *ftptest.Session, cmd, arg string) bool {
	what := cmd
	if what == "" {
		what = "greeting"
	}
	if ok, _ := f.roll(f.drop, 0); ok {
		f.logf("drop session %d before %s %s", s.ID(), what, arg)
		s.Close()
		return true
	}
	if ok, d := f.roll(f.cut, int64(f.cutMax)); ok {
		f.logf("cut session %d after %v in %s %s", s.ID(), time.Duration(d), what, arg)
		time.AfterFunc(time.Duration(d), s.Close)
	}
	return false
}

// partialRetr answers a RETR with a prefix of the file when the retr or
// lie fault strikes; it reports whether it answered.
func (f *faults) partialRetr(s *ftptest.Session, arg string, off int64) bool {
	if f.retr <= 0 && f.lie <= 0 {
		return false
	}
	p := arg
	if !path.IsAbs(p) {
		p = path.Join(s.Cwd(), p)
	}
	r, err := os.OpenRoot(f.root)
	if err != nil {
		return false
	}
	defer r.Close()
	data, err := r.ReadFile(strings.TrimPrefix(path.Clean(p), "/"))
	if err != nil || off >= int64(len(data)) {
		return false // let the server answer (550, or an empty transfer)
	}
	data = data[off:]
	if ok, k := f.roll(f.retr, int64(len(data))); ok {
		f.logf("retr session %d %s: %d of %d bytes, then reset and 426", s.ID(), p, k, len(data))
		s.SendDataThenDrop(data[:k], "426 Connection closed; transfer aborted.")
		return true
	}
	if ok, k := f.roll(f.lie, int64(len(data))); ok {
		f.logf("lie session %d %s: %d of %d bytes, clean close and 226", s.ID(), p, k, len(data))
		s.ServeData(data[:k], "226 Transfer complete.")
		return true
	}
	return false
}
