package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunServesUntilCancelled(t *testing.T) {
	root := t.TempDir()
	addrFile := filepath.Join(t.TempDir(), "addr")
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, options{root: root, user: "u", pass: "p", tls: "explicit", addrFile: addrFile}, pw)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ftp://u:p@127.0.0.1:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	if b, _ := os.ReadFile(addrFile); string(b) != line {
		t.Errorf("-addr-file holds %q, want %q", b, line)
	}
	if b, _ := os.ReadFile(addrFile + ".pem"); !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Errorf("no certificate next to -addr-file")
	}
	host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "ftp://u:p@"), "/")
	c, err := textproto.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Errorf("greeting: %v", err)
	}
	c.Close()
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	cases := []struct {
		name string
		o    options
	}{
		{"missing -root", options{tls: "none"}},
		{"-root not a folder", options{root: "/nonexistent/ftptestd", tls: "none"}},
		{"unknown -tls", options{root: t.TempDir(), tls: "sometimes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ue usageError
			if err := run(context.Background(), tc.o, io.Discard); !errors.As(err, &ue) {
				t.Errorf("run = %v, want a usage error", err)
			}
		})
	}
}
