package sync

import (
	"context"
	"strconv"
	"strings"

	"golang.org/x/time/rate"
)

// bandwidth caps the total transfer rate of a run (--bwlimit): every
// transfer waits on one shared token bucket for the bytes it moves. A nil
// *bandwidth means no limit.
type bandwidth struct {
	lim *rate.Limiter
	ctx context.Context
	// granted, when set, is called after each grant of at most one
	// second of traffic: waiting for the limiter is progress, not a stall.
	granted func()
}

func newBandwidth(bytesPerSecond int64) *bandwidth {
	if bytesPerSecond <= 0 {
		return nil
	}
	// A burst of 1/8 s of traffic (at least 32 KiB, one network read)
	// keeps the rate smooth without a wait per read.
	burst := int(max(bytesPerSecond/8, 32<<10))
	return &bandwidth{lim: rate.NewLimiter(rate.Limit(bytesPerSecond), burst)}
}

// with binds the limiter to one transfer's context, so a cancelled run
// stops waiting, and to its progress report (granted, may be nil).
func (b *bandwidth) with(ctx context.Context, granted func()) *bandwidth {
	if b == nil {
		return nil
	}
	return &bandwidth{lim: b.lim, ctx: ctx, granted: granted}
}

// wait blocks until n bytes may pass. It waits in steps of at most one
// second of traffic (a 256 KiB read at 1 KiB/s is not one silent wait of
// four minutes), reporting each to granted.
func (b *bandwidth) wait(n int) error {
	if b == nil {
		return nil
	}
	step := min(b.lim.Burst(), max(int(b.lim.Limit()), 1))
	for n > 0 {
		chunk := min(n, step)
		if err := b.lim.WaitN(b.ctx, chunk); err != nil {
			return err
		}
		n -= chunk
		if b.granted != nil {
			b.granted()
		}
	}
	return nil
}

// ParseRate reads a --bwlimit value: bytes per second with an optional
// K, M or G suffix (powers of 1024), e.g. "500K", "2M", "1.5G".
func ParseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := 1.0
	if t != "" {
		switch strings.ToUpper(t[len(t)-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v*mult >= 1 && v*mult <= 1<<50) { // also false for NaN
		return 0, usageErr("bwlimit", "%q is not a rate: want bytes per second such as 500K, 2M or 1G", s)
	}
	return int64(v * mult), nil
}
