// Package ftpd starts real FTP servers — vsftpd, pure-ftpd and proftpd — on
// loopback for the tests of other ferry packages.
//
// Each [Start] runs a private, throwaway instance: its own configuration,
// its own control port and passive port range on 127.0.0.1, one user
// (ferrytest/ferrytest) chrooted into a fresh empty folder ([Server.Root]),
// optionally explicit FTPS (RFC 4217) with a self-signed certificate. The
// instance is stopped and its files removed when the test ends.
//
// The servers must be made available first, as root, by
// scripts/install-ftp-servers.sh (make test runs it): it unpacks the Debian
// packages into a cache folder (FERRY_FTP_CACHE, default
// $XDG_CACHE_HOME/ferry-ftp-servers or ~/.cache/ferry-ftp-servers), installs
// their libraries, and creates the system user ferrytest and the PAM service
// ferry-ftp-test. When a server is not available, or the test does not run as
// root, Start skips the test, or fails it when the environment variable
// FERRY_REQUIRE_FTP_SERVERS=1 is set.
//
// Options.Env adds to the daemon's environment (e.g. TZ for vsftpd's
// use_localtime=YES), and [Server.Restart] starts the same instance again
// with other options, files kept (a daemon restarted in another zone).
//
// Every server runs with its stock behaviour except what the configuration
// needs: vsftpd seccomp_sandbox=NO, utf8_filesystem=YES,
// allow_writeable_chroot=YES, mdtm_write=YES, ssl_ciphers=HIGH; pure-ftpd -c
// 200 -C 100 and no syslog; proftpd UseEncoding UTF-8, mod_site_misc,
// RequireValidShell off. The quirks that remain (proftpd refuses SIZE in ASCII
// mode and REST before STOR; vsftpd and proftpd require TLS session reuse on
// data connections; pure-ftpd answers 504 to OPTS UTF8 ON and truncates
// listings at 10,000 entries) are what a client meets in the field.
package ftpd
