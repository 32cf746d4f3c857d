package sync

import (
	"context"
	"testing"
	"testing/synctest"
	"time"
)

func TestParseRate(t *testing.T) {
	good := map[string]int64{"1": 1, "500K": 500 << 10, "2M": 2 << 20, "2m": 2 << 20, "1.5G": 3 << 29, " 10k ": 10 << 10}
	for in, want := range good {
		if got, err := ParseRate(in); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "0", "-1M", "abc", "2X", "0.1", "NaN"} {
		if got, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) = %d, want an error", in, got)
		}
	}
}

// TestBandwidthPaces: 1 MiB at 256 KiB/s takes about 4 s of (fake) time,
// whatever the read sizes.
func TestBandwidthPaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		bw := newBandwidth(256<<10).with(context.Background(), nil)
		start := time.Now()
		for moved := 0; moved < 1<<20; moved += 100 << 10 {
			if err := bw.wait(100 << 10); err != nil {
				t.Fatal(err)
			}
		}
		got := time.Since(start)
		// 1,024,000 bytes, minus the initial burst of 32 KiB.
		if got < 3500*time.Millisecond || got > 4500*time.Millisecond {
			t.Errorf("1000 KiB at 256 KiB/s took %v, want about 3.8 s", got)
		}
	})
}

func TestBandwidthStopsOnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		bw := newBandwidth(1<<10).with(ctx, nil)
		done := make(chan error)
		go func() { done <- bw.wait(1 << 20) }()
		synctest.Wait()
		cancel()
		if err := <-done; err == nil {
			t.Fatal("wait returned nil after cancel")
		}
	})
}
