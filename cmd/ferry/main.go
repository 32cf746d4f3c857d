// Command ferry keeps a local folder and a folder on an FTP server in step.
// See README.md and `ferry help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	// FERRY_CPUPROFILE=FILE writes a CPU profile of the whole command, for
	// the benchmarks (docs/benchmarks.md).
	if p := os.Getenv("FERRY_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status: 0 done, 1 the
// run failed, 2 bad usage or configuration.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "ferry:", describe(err))
	return exitCode(err)
}

// describe renders err for the command line: a usage error names the flag
// or argument at fault (--exclude, REMOTE_URL) instead of its neutral field.
func describe(err error) string {
	var ue *ferrysync.UsageError
	if errors.As(err, &ue) {
		return flagName(ue.Field) + ": " + ue.Err.Error()
	}
	return err.Error()
}

// flagName is the command-line name of a job.Spec field.
func flagName(field string) string {
	switch field {
	case "remote":
		return "REMOTE_URL"
	case "local":
		return "LOCAL_DIR"
	case "password_env":
		return "FERRY_PASSWORD"
	case "job":
		return "JOB"
	}
	return "--" + strings.ReplaceAll(field, "_", "-")
}

// exitCode is the one place errors become exit statuses.
func exitCode(err error) int {
	var ue *ferrysync.UsageError
	var fe *flagError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue), errors.As(err, &fe), isConfigError(err):
		return 2
	}
	return 1
}

// flagError is a cobra parse error (unknown flag, wrong argument count).
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }
