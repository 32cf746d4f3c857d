#!/usr/bin/env bash
# install-ftp-servers.sh [--refresh] [vsftpd] [pure-ftpd] [proftpd]
#
# Makes the real FTP servers that ferry's tests run against (package
# internal/ftpd) available on a Debian 12 machine. Must run as root. Safe to
# run again: when everything is in place it only checks and prints, in well
# under a second ("make test" runs it every time).
#
# The Debian packages vsftpd, pure-ftpd and proftpd-core all Provide and
# Conflict with "ftp-server", so they cannot be installed side by side. A
# server that is not installed as a package is therefore downloaded with
# "apt-get download", unpacked with "dpkg -x" into
#   ${FERRY_FTP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-ftp-servers}/PACKAGE_VERSION/
# (a ".complete" marker is written last), and only the shared libraries it
# depends on are installed with apt-get, with a temporary policy-rc.d so that
# no service starts. A server already installed as a package is used as is.
# No system FTP configuration is read or changed.
#
# It also creates, once:
#   - the system user "ferrytest" (no login shell, home /), whose password is
#     (re)set to "ferrytest"; vsftpd logs it in through PAM, pure-ftpd and
#     proftpd map their private virtual user onto its uid/gid;
#   - the PAM service /etc/pam.d/ferry-ftp-test (vsftpd's pam_service_name),
#     plain pam_unix, so no distribution rule (ftpusers, shells) applies.
#
# Output: one line per server, "NAME BINARY", e.g.
#   vsftpd /root/.cache/ferry-ftp-servers/vsftpd_3.0.3-13_b2/usr/sbin/vsftpd
#
# --refresh unpacks the current candidate version even if an older unpacked
# copy exists.
set -euo pipefail

die() { echo "install-ftp-servers.sh: $*" >&2; exit 1; }
log() { echo "install-ftp-servers.sh: $*" >&2; }

REFRESH=0
SERVERS=()
for a in "$@"; do
  case "$a" in
    vsftpd|pure-ftpd|proftpd) SERVERS+=("$a") ;;
    --refresh) REFRESH=1 ;;
    -h|--help) sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $a (want vsftpd, pure-ftpd, proftpd, --refresh)" ;;
  esac
done
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=(vsftpd pure-ftpd proftpd)
[ "$(id -u)" = 0 ] || die "must run as root (the servers chroot and switch users)"
command -v apt-get >/dev/null 2>&1 || die "needs a Debian-like system with apt-get"

FTP_USER=ferrytest
FTP_PASS=ferrytest
PAM_SERVICE=/etc/pam.d/ferry-ftp-test
CACHE=${FERRY_FTP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-ftp-servers}
TMPBASE=${TMPDIR:-/tmp}

apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 "$@" >/dev/null 2>&1; }

# apt_install PKG...: installs with no recommends and no service start.
apt_install() {
  local made_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt_quiet install --no-install-recommends "$@" ||
    { apt_quiet update || true; apt_quiet install --no-install-recommends "$@"; } || rc=$?
  [ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
  return $rc
}

pkg_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

candidate() {
  apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2}'
}

# missing_libs FILE...: prints "not found" libraries of the ELF files given.
missing_libs() {
  local f
  for f in "$@"; do ldd "$f" 2>/dev/null | awk '/not found/ {print $1}'; done | sort -u | tr '\n' ' '
}

# newest_unpacked PKG: prints the newest complete unpack folder of PKG, if any.
newest_unpacked() {
  local d best=""
  for d in "$CACHE/$1"_*/; do
    [ -f "$d.complete" ] || continue
    if [ -z "$best" ] || [ "$d" -nt "$best" ]; then best=$d; fi
  done
  [ -z "$best" ] || echo "${best%/}"
}

# unpack PKG...: downloads the .debs of PKG..., unpacks them into
# $CACHE/FIRSTPKG_VERSION and installs the lib* packages they depend on.
# Prints the unpack folder.
unpack() {
  local first=$1 ver dest dl deb deps d missing=""
  if [ "$REFRESH" = 0 ]; then
    dest=$(newest_unpacked "$first")
    if [ -n "$dest" ]; then echo "$dest"; return 0; fi
  fi
  ver=$(candidate "$first")
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    apt_quiet update || true
    ver=$(candidate "$first")
  fi
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "apt knows no package $first"
  dest="$CACHE/${first}_${ver//[:~]/_}"
  if [ -f "$dest/.complete" ]; then echo "$dest"; return 0; fi
  log "unpacking $* ($ver) into $dest"
  mkdir -p "$CACHE"
  dl=$(mktemp -d "$TMPBASE/ferry-ftp-deb.XXXXXX")
  chmod 755 "$dl" # apt's _apt sandbox user writes here
  (cd "$dl" && { apt_quiet download "$@" || { apt_quiet update; apt_quiet download "$@"; }; }) ||
    { rm -rf "$dl"; die "apt-get download $* failed"; }
  rm -rf "$dest.tmp"
  mkdir -p "$dest.tmp"
  deps=""
  for deb in "$dl"/*.deb; do
    dpkg-deb -x "$deb" "$dest.tmp"
    deps="$deps,$(dpkg-deb -f "$deb" Depends)"
  done
  rm -rf "$dl"
  # Shared libraries only: first alternative, no version constraint, lib*.
  deps=$(echo "$deps" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep '^lib' | sort -u | tr '\n' ' ' || true)
  for d in $deps; do pkg_installed "$d" || missing="$missing $d"; done
  if [ -n "$missing" ]; then
    log "installing libraries:$missing"
    # shellcheck disable=SC2086
    apt_install $missing || die "cannot install$missing"
  fi
  rm -rf "$dest"
  mv "$dest.tmp" "$dest"
  touch "$dest/.complete"
  echo "$dest"
}

# locate SERVER: prints the daemon binary, unpacking the server if needed, and
# checks that its binaries (and proftpd's modules) find their libraries.
locate() {
  local root bin check=()
  case "$1" in
    vsftpd)
      if pkg_installed vsftpd; then bin=/usr/sbin/vsftpd; check=("$bin")
      else root=$(unpack vsftpd); bin=$root/usr/sbin/vsftpd; check=("$bin"); fi ;;
    pure-ftpd)
      if pkg_installed pure-ftpd; then bin=/usr/sbin/pure-ftpd; check=("$bin" /usr/bin/pure-pw)
      else root=$(unpack pure-ftpd); bin=$root/usr/sbin/pure-ftpd; check=("$bin" "$root/usr/bin/pure-pw"); fi ;;
    proftpd)
      if pkg_installed proftpd-core && pkg_installed proftpd-mod-crypto; then root=""
      else root=$(unpack proftpd-core proftpd-mod-crypto); fi
      bin=$root/usr/sbin/proftpd
      check=("$bin" "$root/usr/lib/proftpd/mod_tls.so" "$root/usr/lib/proftpd/mod_site_misc.so") ;;
  esac
  local f
  for f in "${check[@]}"; do [ -e "$f" ] || die "$1: $f is missing (try --refresh)"; done
  local missing
  missing=$(missing_libs "${check[@]}")
  [ -z "$missing" ] || die "$1: libraries not found: $missing"
  echo "$bin"
}

ensure_user() {
  if ! id "$FTP_USER" >/dev/null 2>&1; then
    log "creating system user $FTP_USER"
    # Home "/" because vsftpd changes to the home folder before local_root;
    # every server chroots each session into its instance's own root.
    useradd --system --user-group --no-create-home --home-dir / \
      --shell /usr/sbin/nologin "$FTP_USER" 2>/dev/null ||
      id "$FTP_USER" >/dev/null 2>&1 || die "useradd $FTP_USER failed"
  fi
  [ "$(getent passwd "$FTP_USER" | cut -d: -f6)" = / ] || usermod -d / "$FTP_USER" || die "usermod -d / $FTP_USER failed"
  if [ ! -f "$PAM_SERVICE" ]; then
    printf '%s\n' '# PAM service for ferry'"'"'s throwaway test FTP servers (scripts/install-ftp-servers.sh)' \
      'auth     required pam_unix.so' 'account  required pam_unix.so' 'session  required pam_permit.so' \
      >"$PAM_SERVICE"
  fi
  # Cheap, and heals a password changed by someone else.
  echo "$FTP_USER:$FTP_PASS" | chpasswd || die "chpasswd $FTP_USER failed"
}

for s in "${SERVERS[@]}"; do
  bin=$(locate "$s")
  echo "$s $bin"
done
ensure_user
