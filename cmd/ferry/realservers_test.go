package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/ftpd"
)

// TestLsRealServers is the client issue's "done means": `ferry ls -R`
// prints the right tree from vsftpd, pure-ftpd and proftpd, plain, with
// --tls explicit --ca-file, and with --active.
func TestLsRealServers(t *testing.T) {
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	files := map[string]string{
		"a.txt":                 "alpha\n",
		".htaccess":             "deny\n",
		"dir one/héllo ✓.txt":   "unicode\n",
		"dir one/-dash":         "",
		".well-known/sec.txt":   "s\n",
		"dir one/deeper/[b].md": "brackets\n",
	}
	want := []string{
		"file            6  2024-05-06 07:08:09  a.txt",
		"file            5  2024-05-06 07:08:09  .htaccess",
		"dir one/",
		"file            8  2024-05-06 07:08:09  dir one/héllo ✓.txt",
		"file            0  2024-05-06 07:08:09  dir one/-dash",
		".well-known/",
		"file            2  2024-05-06 07:08:09  .well-known/sec.txt",
		"dir one/deeper/",
		"file            9  2024-05-06 07:08:09  dir one/deeper/[b].md",
	}
	for _, kind := range ftpd.Kinds() {
		for _, mode := range []string{"plain", "tls", "active"} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				t.Parallel()
				srv := ftpd.Start(t, kind, ftpd.Options{TLS: mode == "tls"})
				for name, body := range files {
					srv.WriteFile(t, name, []byte(body), mtime)
				}
				args := []string{"ls", "-R", srv.URL()}
				if mode == "tls" {
					args = append(args, "--tls", "explicit", "--ca-file", srv.CAFile)
				}
				if mode == "active" {
					args = append(args, "--active")
				}
				var out, errOut bytes.Buffer
				if code := run(args, &out, &errOut); code != 0 {
					t.Fatalf("ferry %s: exit %d\n%s", strings.Join(args, " "), code, errOut.String())
				}
				got := out.String()
				for _, w := range want {
					if kind == "vsftpd" && strings.HasPrefix(w, "file") {
						// vsftpd's LIST shows only the day for old files.
						w = strings.Replace(w, "2024-05-06 07:08:09", "2024-05-06         ", 1)
					}
					if !strings.Contains(got, w) {
						t.Errorf("ls -R output lacks %q:\n%s", w, got)
					}
				}
				if n := strings.Count(got, "\n"); n != 9 {
					t.Errorf("ls -R printed %d lines, want 9:\n%s", n, got)
				}
				if _, err := os.Stat(filepath.Join(srv.Root, "a.txt")); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
