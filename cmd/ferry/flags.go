package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/ferrysync/ferry/job"
	ferrysync "github.com/ferrysync/ferry/sync"
)

// connFlags are the flags every command that talks to a server shares.
type connFlags struct {
	tls      string
	insecure bool
	caFile   string
	active   bool
	timeout  time.Duration
	verbose  int
	quiet    bool
}

func (f *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.tls, "tls", "", "TLS mode: off, explicit (AUTH TLS) or implicit (default: off for ftp://, implicit for ftps://)")
	fs.BoolVar(&f.insecure, "insecure", false, "accept any TLS certificate")
	fs.StringVar(&f.caFile, "ca-file", "", "trust this PEM CA or self-signed certificate")
	fs.BoolVar(&f.active, "active", false, "open data connections with EPRT/PORT instead of EPSV/PASV")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "network timeout for each wait")
	fs.CountVarP(&f.verbose, "verbose", "v", "more output; -vv logs the FTP dialogue (password masked)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "less output")
}

// apply copies the connection flags into spec and wires -vv tracing to
// stderr.
func (f *connFlags) apply(spec *job.Spec, stderr io.Writer) error {
	if f.timeout <= 0 {
		return &ferrysync.UsageError{Field: "timeout", Err: fmt.Errorf("must be positive, got %v", f.timeout)}
	}
	spec.TLS, spec.Insecure, spec.CAFile, spec.Active, spec.Timeout = f.tls, f.insecure, f.caFile, f.active, f.timeout
	if f.verbose >= 2 {
		spec.Trace = func(line string) { fmt.Fprintln(stderr, "ftp:", line) }
	}
	return nil
}

// remote parses REMOTE_URL with the connection flags and the password
// sources (URL, FERRY_PASSWORD, netrc), and wires -vv tracing to stderr.
func (f *connFlags) remote(raw string, stderr io.Writer) (*ferrysync.Remote, error) {
	if f.timeout <= 0 {
		return nil, &ferrysync.UsageError{Field: "timeout", Err: fmt.Errorf("must be positive, got %v", f.timeout)}
	}
	r, err := ferrysync.ParseRemote(raw, ferrysync.RemoteOptions{
		TLS: f.tls, Insecure: f.insecure, CAFile: f.caFile, Active: f.active,
		PasswordEnv: os.Getenv("FERRY_PASSWORD"),
	})
	if err != nil {
		return nil, err
	}
	r.Config.Timeout = f.timeout
	if f.verbose >= 2 {
		r.Config.Trace = func(line string) { fmt.Fprintln(stderr, "ftp:", line) }
	}
	return r, nil
}
