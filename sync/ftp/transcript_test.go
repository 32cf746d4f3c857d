package ftp_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferrysync/ferry/sync/ftp"
	"github.com/ferrysync/ferry/sync/ftp/ftptest"
)

// TestTranscript runs one fixed session (Dial, List, Stor, Rename,
// SetModTime, Retr, Close) against the test server in several shapes and
// compares the commands the server received with the exact sequence the
// client is meant to send, in the manner of net/smtp's TestBasic.
func TestTranscript(t *testing.T) {
	login := []string{"USER test", "PASS test", "FEAT", "TYPE I", "OPTS UTF8 ON"}
	cases := []struct {
		name     string
		opts     ftptest.Options
		prefetch bool
		want     []string // after login
	}{
		{
			name: "MLSD and MFMT",
			want: []string{
				"EPSV", "MLSD /",
				"EPSV", "STOR /up.tmp",
				"RNFR /up.tmp", "RNTO /final.txt",
				"MFMT 20240305060708 /final.txt",
				"EPSV", "RETR /final.txt",
				"QUIT",
			},
		},
		{
			// The next data port is asked for as soon as a download or
			// listing ends, and in the same write as the rename that
			// finishes an upload; its reply is read before the next
			// command, so the transfers that follow need no EPSV of
			// their own.
			name:     "MLSD and MFMT with prefetch",
			prefetch: true,
			want: []string{
				"EPSV", "MLSD /", "EPSV",
				"STOR /up.tmp",
				"RNFR /up.tmp", "RNTO /final.txt", "EPSV",
				"MFMT 20240305060708 /final.txt",
				"RETR /final.txt", "EPSV",
				"QUIT",
			},
		},
		{
			// vsftpd: no MLSD, so CWD and "LIST -a" (dotfiles); no MFMT,
			// so "MDTM time path", read back with MDTM to be sure.
			name: "vsftpd shape",
			opts: ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true},
			want: []string{
				"EPSV", "CWD /", "LIST -a",
				"EPSV", "STOR /up.tmp",
				"RNFR /up.tmp", "RNTO /final.txt",
				"MDTM 20240305060708 /final.txt", "MDTM /final.txt",
				"EPSV", "RETR /final.txt",
				"QUIT",
			},
		},
		{
			name:     "vsftpd shape with prefetch",
			opts:     ftptest.Options{DisableMLSD: true, DisableMFMT: true, EnableMDTMSet: true},
			prefetch: true,
			want: []string{
				"EPSV", "CWD /", "LIST -a", "EPSV",
				"STOR /up.tmp",
				"RNFR /up.tmp", "RNTO /final.txt", "EPSV",
				"MDTM 20240305060708 /final.txt", "MDTM /final.txt",
				"RETR /final.txt", "EPSV",
				"QUIT",
			},
		},
		{
			// EPSV refused once (500): PASV from then on, no more EPSV.
			name: "no EPSV",
			opts: ftptest.Options{DisableEPSV: true},
			want: []string{
				"EPSV", "PASV", "MLSD /",
				"PASV", "STOR /up.tmp",
				"RNFR /up.tmp", "RNTO /final.txt",
				"MFMT 20240305060708 /final.txt",
				"PASV", "RETR /final.txt",
				"QUIT",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			opts := tc.opts
			opts.Hook = rec.hook
			srv, root := startServer(t, opts)
			writeRootFile(t, root, ".hidden", []byte("dot"))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			c, err := ftp.Dial(ctx, clientConfig(srv, 10*time.Second))
			if err != nil {
				t.Fatalf("Dial: %v", err)
			}
			c.SetPrefetch(tc.prefetch)
			entries, err := c.List(ctx, "/")
			if err != nil || len(entries) != 1 || entries[0].Name != ".hidden" {
				t.Errorf("List = %+v, %v; want .hidden only", entries, err)
			}
			body := []byte(strings.Repeat("transcript\n", 100))
			if n, err := c.Stor(ctx, "/up.tmp", 0, bytes.NewReader(body)); err != nil || n != int64(len(body)) {
				t.Fatalf("Stor = %d, %v", n, err)
			}
			if err := c.Rename(ctx, "/up.tmp", "/final.txt"); err != nil {
				t.Fatalf("Rename: %v", err)
			}
			mtime := time.Date(2024, 3, 5, 6, 7, 8, 0, time.UTC)
			if err := c.SetModTime(ctx, "/final.txt", mtime); err != nil {
				t.Fatalf("SetModTime: %v", err)
			}
			var buf bytes.Buffer
			if _, err := c.Retr(ctx, "/final.txt", 0, &buf); err != nil || !bytes.Equal(buf.Bytes(), body) {
				t.Fatalf("Retr: %v, %d bytes", err, buf.Len())
			}
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
			// QUIT's reply arrived, so the server has seen every command.
			want := append(slices.Clone(login), tc.want...)
			if got := rec.list(); !slices.Equal(got, want) {
				t.Errorf("commands differ\n got: %q\nwant: %q", got, want)
			}
			if st, err := os.Stat(filepath.Join(root, "final.txt")); err != nil || !st.ModTime().Equal(mtime) {
				t.Errorf("final.txt on disk: %v, %v; want mtime %v", st, err, mtime)
			}
		})
	}
}
