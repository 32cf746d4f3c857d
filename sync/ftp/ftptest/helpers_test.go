package ftptest

import (
	"io/fs"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// waitFor spins (yielding, never sleeping) until cond holds, for events
// that happen on the server's goroutines without a message to the client.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// fakeInfo is an fs.FileInfo for pure formatting tests.
type fakeInfo struct {
	mod  time.Time
	size int64
}

func (f fakeInfo) Name() string       { return "n" }
func (f fakeInfo) Size() int64        { return f.size }
func (f fakeInfo) Mode() fs.FileMode  { return 0o644 }
func (f fakeInfo) ModTime() time.Time { return f.mod }
func (f fakeInfo) IsDir() bool        { return false }
func (f fakeInfo) Sys() any           { return nil }

func itoa(n int) string { return strconv.Itoa(n) }
