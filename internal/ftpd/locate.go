package ftpd

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// Names of the things scripts/install-ftp-servers.sh sets up.
const (
	testUser   = "ferrytest"
	testPass   = "ferrytest"
	pamService = "ferry-ftp-test"
	// passHash is testPass as SHA-512 crypt, made with
	// "openssl passwd -6 -salt ferrytestsalt ferrytest". pure-ftpd's PureDB and
	// proftpd's AuthUserFile take crypt(3) hashes; "pure-pw useradd" would
	// write argon2id with t=2047, about 5 s of CPU for every login.
	passHash = "$6$ferrytestsalt$Nu8K1Eoqwmv0N6ZUdR8Qz.OqZeGATGZP3Flf8dV0UzzGPhVgkAKvVX05a2KceFQ88z3G8KHFwnF0v0qEgn6dH0"
)

// UnavailableError reports that a server cannot be started on this machine
// at all (not installed, not root, test user missing), as opposed to a
// server that is there but failed to start.
type UnavailableError struct {
	Kind   string
	Reason string
}

func (e *UnavailableError) Error() string {
	return e.Kind + " unavailable: " + e.Reason + " (run scripts/install-ftp-servers.sh as root)"
}

// install is where one server's files are.
type install struct {
	daemon string // the server binary
	purePW string // pure-ftpd only: pure-pw, to build the PureDB
	modDir string // proftpd only: the folder of its loadable modules
}

// cacheDir is where scripts/install-ftp-servers.sh unpacks the packages.
func cacheDir() string {
	if d := os.Getenv("FERRY_FTP_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "ferry-ftp-servers")
	}
	return filepath.Join(os.TempDir(), "ferry-ftp-servers")
}

// newestUnpacked returns the newest complete unpack folder of the Debian
// package pkg in the cache ("" if none).
func newestUnpacked(pkg string) string {
	dirs, _ := filepath.Glob(filepath.Join(cacheDir(), pkg+"_*"))
	best, bestTime := "", int64(0)
	for _, d := range dirs {
		fi, err := os.Stat(filepath.Join(d, ".complete"))
		if err != nil {
			continue
		}
		if t := fi.ModTime().UnixNano(); best == "" || t > bestTime {
			best, bestTime = d, t
		}
	}
	return best
}

// locate finds kind's files: first an unpacked copy in the cache, then a
// copy installed as a Debian package.
func locate(kind string) (install, error) {
	var candidates []install
	switch kind {
	case "vsftpd":
		if d := newestUnpacked("vsftpd"); d != "" {
			candidates = append(candidates, install{daemon: filepath.Join(d, "usr/sbin/vsftpd")})
		}
		candidates = append(candidates, install{daemon: "/usr/sbin/vsftpd"})
	case "pure-ftpd":
		if d := newestUnpacked("pure-ftpd"); d != "" {
			candidates = append(candidates, install{
				daemon: filepath.Join(d, "usr/sbin/pure-ftpd"),
				purePW: filepath.Join(d, "usr/bin/pure-pw"),
			})
		}
		candidates = append(candidates, install{daemon: "/usr/sbin/pure-ftpd", purePW: "/usr/bin/pure-pw"})
	case "proftpd":
		if d := newestUnpacked("proftpd-core"); d != "" {
			candidates = append(candidates, install{
				daemon: filepath.Join(d, "usr/sbin/proftpd"),
				modDir: filepath.Join(d, "usr/lib/proftpd"),
			})
		}
		candidates = append(candidates, install{daemon: "/usr/sbin/proftpd", modDir: "/usr/lib/proftpd"})
	default:
		return install{}, fmt.Errorf("ftpd: unknown server kind %q (want one of %v)", kind, Kinds())
	}
	for _, c := range candidates {
		if c.complete() {
			return c, nil
		}
	}
	return install{}, &UnavailableError{Kind: kind, Reason: "no binary in " + cacheDir() + " nor in /usr/sbin"}
}

// complete reports whether all files of the install exist.
func (in install) complete() bool {
	files := []string{in.daemon}
	if in.purePW != "" {
		files = append(files, in.purePW)
	}
	if in.modDir != "" {
		files = append(files, filepath.Join(in.modDir, "mod_tls.so"), filepath.Join(in.modDir, "mod_site_misc.so"))
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			return false
		}
	}
	return true
}

// account is the system user the sessions run as.
type account struct{ uid, gid int }

// lookupAccount checks that this process can run servers (root) and that the
// install script's user (and, for vsftpd, PAM service) exist.
func lookupAccount(kind string) (account, error) {
	if os.Geteuid() != 0 {
		return account{}, &UnavailableError{Kind: kind, Reason: "not running as root (the servers chroot and switch users)"}
	}
	u, err := user.Lookup(testUser)
	if err != nil {
		return account{}, &UnavailableError{Kind: kind, Reason: "no system user " + testUser}
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err := errors.Join(err1, err2); err != nil {
		return account{}, fmt.Errorf("ftpd: user %s: %w", testUser, err)
	}
	if kind == "vsftpd" {
		if _, err := os.Stat(filepath.Join("/etc/pam.d", pamService)); err != nil {
			return account{}, &UnavailableError{Kind: kind, Reason: "no PAM service /etc/pam.d/" + pamService}
		}
	}
	return account{uid: uid, gid: gid}, nil
}
