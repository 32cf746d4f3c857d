package sync

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/sync/ftp"
)

func TestParseRemote(t *testing.T) {
	cases := []struct {
		name, url  string
		opts       RemoteOptions
		addr, dir  string
		user, pass string
		tls        ftp.TLSMode
		redacted   string
	}{
		{"defaults", "ftp://host/", RemoteOptions{}, "host:21", "/", "anonymous", "", ftp.TLSOff, "ftp://host/"},
		{"user and password, port, path", "ftp://bob:s%40cret@127.0.0.1:2121/www/site/", RemoteOptions{}, "127.0.0.1:2121", "/www/site", "bob", "s@cret", ftp.TLSOff, "ftp://bob@127.0.0.1:2121/www/site/"},
		{"ftps means implicit TLS on 990", "ftps://u:pw9@h/x", RemoteOptions{}, "h:990", "/x", "u", "pw9", ftp.TLSImplicit, "ftps://u@h/x"},
		{"explicit TLS flag", "ftp://u:pw9@h/x", RemoteOptions{TLS: "explicit"}, "h:21", "/x", "u", "pw9", ftp.TLSExplicit, "ftp://u@h/x"},
		{"URL password beats the environment", "ftp://u:url@h/", RemoteOptions{PasswordEnv: "env"}, "h:21", "/", "u", "url", ftp.TLSOff, "ftp://u@h/"},
		{"environment when the URL has none", "ftp://u@h/", RemoteOptions{PasswordEnv: "env", NetrcPath: "/nonexistent"}, "h:21", "/", "u", "env", ftp.TLSOff, "ftp://u@h/"},
		{"IPv6 host", "ftp://[::1]:21/a", RemoteOptions{}, "[::1]:21", "/a", "anonymous", "", ftp.TLSOff, "ftp://[::1]:21/a"},
		{"lowest port", "ftp://h:1/", RemoteOptions{}, "h:1", "/", "anonymous", "", ftp.TLSOff, "ftp://h:1/"},
		{"highest port", "ftp://h:65535/", RemoteOptions{}, "h:65535", "/", "anonymous", "", ftp.TLSOff, "ftp://h:65535/"},
		{"spaces and unicode in the path", "ftp://h/dir%20one/caf%C3%A9", RemoteOptions{}, "h:21", "/dir one/café", "anonymous", "", ftp.TLSOff, "ftp://h/dir%20one/caf%C3%A9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.NetrcPath == "" {
				tc.opts.NetrcPath = "/nonexistent"
			}
			r, err := ParseRemote(tc.url, tc.opts)
			if err != nil {
				t.Fatalf("ParseRemote(%q): %v", tc.url, err)
			}
			if r.Config.Addr != tc.addr || r.Dir != tc.dir || r.Config.User != tc.user || r.Config.Password != tc.pass || r.Config.TLS != tc.tls || r.Redacted != tc.redacted {
				t.Errorf("got addr %q dir %q user %q pass %q tls %v redacted %q", r.Config.Addr, r.Dir, r.Config.User, r.Config.Password, r.Config.TLS, r.Redacted)
			}
			if strings.Contains(r.Redacted, tc.pass) && tc.pass != "" {
				t.Errorf("redacted URL %q shows the password", r.Redacted)
			}
		})
	}
}

func TestParseRemoteRejects(t *testing.T) {
	cases := []struct {
		url  string
		opts RemoteOptions
		what string // the flag or argument named
	}{
		{"http://host/", RemoteOptions{}, "remote"},
		{"ftp:///path", RemoteOptions{}, "remote"},
		{"ftp://host/a/../../etc", RemoteOptions{}, "remote"},
		{"ftp://host/?x=1", RemoteOptions{}, "remote"},
		{"ftp://host/", RemoteOptions{TLS: "bogus"}, "tls"},
		{"ftps://host/", RemoteOptions{TLS: "off"}, "tls"},
		{"ftp://host/", RemoteOptions{CAFile: "/x.pem"}, "ca_file"},
		{"ftp://host/", RemoteOptions{TLS: "explicit", CAFile: "/nonexistent.pem"}, "ca_file"},
		{"ftp://u:secret@host:bad/", RemoteOptions{}, "remote"},
		// A port out of range was only refused when dialling (exit 1):
		// the URL is checked whole before anything connects.
		{"ftp://u:secret@host:99999/", RemoteOptions{}, "remote"},
		{"ftp://host:65536/", RemoteOptions{}, "remote"},
		{"ftp://host:0/", RemoteOptions{}, "remote"},
		{"ftp://host:00/", RemoteOptions{}, "remote"},
		// Control characters would end the FTP command they are sent in
		// (CWD, MLSD, USER, PASS) and start another one.
		{"ftp://host/a%0Ab", RemoteOptions{}, "remote"},
		{"ftp://host/a%0Db", RemoteOptions{}, "remote"},
		{"ftp://host/a%00b", RemoteOptions{}, "remote"},
		{"ftp://u%0D%0ADELE%20x@host/", RemoteOptions{}, "remote"},
		{"ftp://u:secret%0A@host/", RemoteOptions{}, "remote"},
		{"ftp://host/a/..", RemoteOptions{}, "remote"},
		{"ftp://host/..", RemoteOptions{}, "remote"},
	}
	for _, tc := range cases {
		_, err := ParseRemote(tc.url, tc.opts)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Field != tc.what {
			t.Errorf("ParseRemote(%q, %+v) = %v; want a *UsageError naming %s", tc.url, tc.opts, err, tc.what)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error %q shows the password", err)
		}
	}
}

func TestNetrc(t *testing.T) {
	netrc := `machine other.example login bob password nope
machine h.example login alice password first
macdef init
  cd /x

machine h.example login bob password second
default login anonymous password guest@
`
	p := filepath.Join(t.TempDir(), "netrc")
	if err := os.WriteFile(p, []byte(netrc), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ host, user, want string }{
		{"h.example", "alice", "first"},
		{"h.example", "bob", "second"},
		{"elsewhere", "anonymous", "guest@"},
		{"elsewhere", "carol", ""},
	}
	for _, tc := range cases {
		got, ok, err := netrcPassword(p, tc.host, tc.user)
		if err != nil || got != tc.want || ok != (tc.want != "") {
			t.Errorf("netrc %s/%s = %q, %v, %v; want %q", tc.host, tc.user, got, ok, err, tc.want)
		}
	}
	if _, ok, err := netrcPassword(filepath.Join(t.TempDir(), "missing"), "h", "u"); ok || err != nil {
		t.Errorf("a missing netrc: ok=%v err=%v, want neither", ok, err)
	}
	if _, _, err := parseNetrc(bufio.NewScanner(strings.NewReader("machine")), "h", "u"); err != nil {
		t.Errorf("truncated netrc: %v", err)
	}
}
