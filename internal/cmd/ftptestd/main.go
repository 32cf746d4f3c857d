// Command ftptestd serves a directory with the ftptest FTP server on a
// loopback port until SIGTERM or SIGINT. It is for demos and manual
// testing (make demo), not for production.
//
//	ftptestd -root DIR [-user u -pass p] [-tls none|explicit|implicit] [-addr 127.0.0.1:PORT]
//	         [-addr-file FILE] [-faults SCRIPT] [-v]
//
// It prints the server's URL (ftp://u:p@127.0.0.1:PORT/) on stdout and, with
// -addr-file, writes it to FILE. -addr chooses the port (a free one by
// default), so that a killed server can be started again where its clients
// expect it. -faults injects network faults at random (see faults.go): the
// crash campaign of internal/crashtest uses it. With TLS it writes the server's
// self-signed certificate (a CA file for the client) to FILE.pem, or to
// stderr without -addr-file. Exit status: 0 after a clean stop, 2 for bad
// flags, 1 otherwise.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

type options struct {
	root, user, pass, tls, addr, addrFile, faults string
	verbose                                       bool
}

func main() {
	var o options
	flag.StringVar(&o.root, "root", "", "directory to serve (required)")
	flag.StringVar(&o.user, "user", ftptest.DefaultUser, "login name")
	flag.StringVar(&o.pass, "pass", ftptest.DefaultPassword, "password")
	flag.StringVar(&o.tls, "tls", "none", "TLS mode: none, explicit or implicit")
	flag.StringVar(&o.addr, "addr", "", "listen on this address (default 127.0.0.1 and a free port)")
	flag.StringVar(&o.addrFile, "addr-file", "", "also write the URL to this file")
	flag.StringVar(&o.faults, "faults", "", "inject network faults: seed=N,drop=P,cut=P,cutms=MS,retr=P,lie=P,max=N")
	flag.BoolVar(&o.verbose, "v", false, "log the FTP dialogue to stderr (passwords masked)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, o, os.Stdout)
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "ftptestd:", err)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "ftptestd:", err)
		os.Exit(1)
	}
}

type usageError string

func (e usageError) Error() string { return string(e) }

func run(ctx context.Context, o options, out io.Writer) error {
	mode, err := parseTLS(o.tls)
	if err != nil {
		return err
	}
	if o.root == "" {
		return usageError("-root: required")
	}
	if fi, err := os.Stat(o.root); err != nil || !fi.IsDir() {
		return usageError(fmt.Sprintf("-root %s: not a directory", o.root))
	}
	opts := ftptest.Options{User: o.user, Password: o.pass, TLS: mode}
	if o.verbose {
		opts.Logf = log.New(os.Stderr, "", log.LstdFlags).Printf
	}
	if o.faults != "" {
		f, err := parseFaults(o.faults, o.root, os.Stderr)
		if err != nil {
			return usageError("-faults: " + err.Error())
		}
		opts.Hook = f.hook
	}
	srv := ftptest.NewUnstartedServer(o.root, opts)
	srv.Addr = o.addr
	if err := startServer(srv); err != nil {
		return err
	}
	defer srv.Close()
	// Files first: whoever reads the URL on stdout may look for them.
	if o.addrFile != "" {
		if mode != ftptest.TLSNone {
			if err := writeAtomic(o.addrFile+".pem", srv.CertPEM()); err != nil {
				return fmt.Errorf("write certificate: %w", err)
			}
		}
		if err := writeAtomic(o.addrFile, []byte(srv.URL()+"\n")); err != nil {
			return fmt.Errorf("write -addr-file: %w", err)
		}
	} else if mode != ftptest.TLSNone {
		fmt.Fprint(os.Stderr, string(srv.CertPEM()))
	}
	fmt.Fprintln(out, srv.URL())
	<-ctx.Done()
	return nil
}

// startServer starts srv, turning Start's panic (the address is taken,
// say) into an error.
func startServer(srv *ftptest.Server) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	srv.Start()
	return nil
}

func parseTLS(s string) (ftptest.TLSMode, error) {
	switch s {
	case "none", "off", "":
		return ftptest.TLSNone, nil
	case "explicit":
		return ftptest.TLSExplicit, nil
	case "implicit":
		return ftptest.TLSImplicit, nil
	}
	return 0, usageError(fmt.Sprintf("-tls %q: want none, explicit or implicit", s))
}

// writeAtomic writes b to a temporary name and renames it into place, so a
// script polling for the file never reads it half-written.
func writeAtomic(name string, b []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}
