//go:build !unix

package job

import (
	"errors"
	"os"
)

var errWouldBlock = errors.New("lock held")

// flock is a no-op where flock(2) does not exist: no cross-process lock.
func flock(*os.File) error { return nil }
