package sync

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ferrysync/ferry/sync/ftp"
)

// UsageError is a problem with what the user asked for (a flag, a URL, a
// config field): the run did not start and nothing was touched. Front ends
// map it to exit status 2.
type UsageError struct {
	// Field is the neutral name of the option at fault: remote, local,
	// exclude, tls, ca_file, bwlimit, backup_dir, parallel, ... Each front
	// end renders it in its own terms (--exclude, jobs[2].exclude).
	Field string
	Err   error
}

func (e *UsageError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

func usageErr(field, format string, args ...any) error {
	return &UsageError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Remote is a parsed REMOTE_URL: where the server is, how to log in and
// which folder is synced.
type Remote struct {
	Config ftp.Config
	Dir    string // absolute folder on the server, "/" for the root, no trailing slash otherwise
	// Redacted is the URL without password, for logs and the state cache.
	Redacted string
}

// RemoteOptions are the flags that shape a connection.
type RemoteOptions struct {
	TLS      string // "", "off", "explicit", "implicit"
	Insecure bool
	CAFile   string
	Active   bool
	// Password sources after the URL: the environment variable's value
	// (FERRY_PASSWORD or a job's password_env) and the netrc file path.
	PasswordEnv string
	NetrcPath   string
}

// ParseRemote parses ftp://[user[:password]@]host[:port]/path or ftps://…
// (implicit TLS, port 990). The password is taken, first found wins, from the
// URL, from opts.PasswordEnv, or from the netrc file.
func ParseRemote(raw string, opts RemoteOptions) (*Remote, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, usageErr("remote", "%q is not a URL: %v", redactRaw(raw), errors.Unwrap(err))
	}
	var mode ftp.TLSMode
	port := "21"
	switch u.Scheme {
	case "ftp":
	case "ftps":
		mode, port = ftp.TLSImplicit, "990"
	default:
		return nil, usageErr("remote", "%q: scheme must be ftp:// or ftps://", redactRaw(raw))
	}
	switch opts.TLS {
	case "":
	case "off":
		if u.Scheme == "ftps" {
			return nil, usageErr("tls", "off contradicts the ftps:// URL")
		}
		mode = ftp.TLSOff
	case "explicit":
		mode = ftp.TLSExplicit
	case "implicit":
		mode = ftp.TLSImplicit
	default:
		return nil, usageErr("tls", "%q: must be off, explicit or implicit", opts.TLS)
	}
	host := u.Hostname()
	if host == "" {
		return nil, usageErr("remote", "%q has no host", redactRaw(raw))
	}
	if p := u.Port(); p != "" {
		// url.Parse takes any run of digits; the dial would refuse it
		// only after the run started.
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, usageErr("remote", "%q: port %s is out of range (1..65535)", redactRaw(raw), p)
		}
		port = p
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return nil, usageErr("remote", "%q: query strings and fragments are not supported", redactRaw(raw))
	}
	// Every part that goes into an FTP command (USER, PASS, CWD, MLSD)
	// must stay on its line: a decoded CR, LF or NUL would end the
	// command and start another.
	if hasControl(host) {
		return nil, usageErr("remote", "host %q contains a control character", host)
	}
	if u.User != nil {
		pw, _ := u.User.Password()
		if hasControl(u.User.Username()) {
			return nil, usageErr("remote", "user name %q contains a control character", u.User.Username())
		}
		if hasControl(pw) {
			return nil, usageErr("remote", "%q: the password contains a control character", redactRaw(raw))
		}
	}
	if hasControl(u.Path) {
		return nil, usageErr("remote", "path %q contains a control character", u.Path)
	}
	dir := path.Clean("/" + u.Path)
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == ".." {
			return nil, usageErr("remote", "path %q contains ..", u.Path)
		}
	}
	r := &Remote{Dir: dir}
	r.Config.Addr = net.JoinHostPort(host, port)
	r.Config.TLS = mode
	r.Config.Active = opts.Active
	if u.User != nil {
		r.Config.User = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			r.Config.Password = pw
		}
	}
	if r.Config.User == "" {
		r.Config.User = "anonymous"
	}
	if _, ok := u.User.Password(); !ok {
		if opts.PasswordEnv != "" {
			r.Config.Password = opts.PasswordEnv
		} else if pw, ok, err := netrcPassword(opts.NetrcPath, host, r.Config.User); err != nil {
			return nil, err
		} else if ok {
			r.Config.Password = pw
		}
	}
	if mode != ftp.TLSOff {
		conf := &tls.Config{InsecureSkipVerify: opts.Insecure, MinVersion: tls.VersionTLS12}
		if opts.CAFile != "" {
			pem, err := os.ReadFile(opts.CAFile)
			if err != nil {
				return nil, usageErr("ca_file", "%v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, usageErr("ca_file", "%s holds no PEM certificate", opts.CAFile)
			}
			conf.RootCAs = pool
		}
		r.Config.TLSConfig = conf
	} else if opts.CAFile != "" || opts.Insecure {
		return nil, usageErr("ca_file", "a CA file or insecure only apply with TLS (explicit, implicit or an ftps:// URL)")
	}
	red := *u
	if u.User != nil {
		red.User = url.User(u.User.Username())
	}
	r.Redacted = red.String()
	return r, nil
}

// hasControl reports whether s holds a character that cannot travel in an
// FTP command: CR or LF (the end of a command, RFC 959 section 4.1.3) or
// NUL (the end of a C string to the server). Tabs and other control
// characters are legal in names and pass.
func hasControl(s string) bool { return strings.ContainsAny(s, "\x00\r\n") }

// redactRaw hides a password in a URL that did not parse.
func redactRaw(raw string) string {
	at := strings.LastIndexByte(raw, '@')
	scheme := strings.Index(raw, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return raw
	}
	userinfo := raw[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return raw[:scheme+3] + userinfo[:i] + ":****" + raw[at:]
	}
	return raw
}

// netrcPassword looks up host and user in a netrc file (path "" means
// $NETRC, else ~/.netrc). A missing file is not an error.
func netrcPassword(path, host, user string) (string, bool, error) {
	if path == "" {
		path = os.Getenv("NETRC")
	}
	if path == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", false, nil
		}
		path = filepath.Join(home, ".netrc")
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("netrc: %w", err)
	}
	defer f.Close()
	return parseNetrc(bufio.NewScanner(f), host, user)
}

// parseNetrc reads "machine M login L password P" tokens (and "default").
// The first machine (or default) entry whose login matches user wins; an
// entry without login matches any user.
func parseNetrc(sc *bufio.Scanner, host, user string) (string, bool, error) {
	sc.Split(bufio.ScanWords)
	var toks []string
	for sc.Scan() {
		toks = append(toks, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return "", false, fmt.Errorf("netrc: %w", err)
	}
	type entry struct{ machine, login, password string }
	var entries []entry
	var cur *entry
	for i := 0; i < len(toks); i++ {
		next := func() string {
			if i+1 < len(toks) {
				i++
				return toks[i]
			}
			return ""
		}
		switch toks[i] {
		case "machine":
			entries = append(entries, entry{machine: next()})
			cur = &entries[len(entries)-1]
		case "default":
			entries = append(entries, entry{machine: "*"})
			cur = &entries[len(entries)-1]
		case "login":
			if v := next(); cur != nil {
				cur.login = v
			}
		case "password":
			if v := next(); cur != nil {
				cur.password = v
			}
		case "macdef":
			cur = nil
		}
	}
	for _, e := range entries {
		if (e.machine == host || e.machine == "*") && (e.login == "" || e.login == user) && e.password != "" {
			return e.password, true, nil
		}
	}
	return "", false, nil
}
