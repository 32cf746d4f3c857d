#!/usr/bin/env bash
# start.sh SERVER [--tls] [--port N]
#
# Starts a throwaway FTP server (vsftpd | pure-ftpd | proftpd) on 127.0.0.1,
# serving a fresh empty folder to the test user ferrytest/ferrytest, and prints
# shell-eval-able KEY=VALUE lines (FTP_HOST, FTP_PORT, FTP_ROOT, FTP_STATE, ...).
# Stop it with: stop.sh "$FTP_STATE".
#
# The three Debian packages conflict with each other (all "Provide/Conflict:
# ftp-server"), so a server that is not installed as a package is unpacked from
# its .deb into a private cache (FERRY_FTP_CACHE, default ~/.cache/ferry-ftp-servers)
# and only its libraries are installed with apt-get. A server installed as a
# package is used as it is. No system-wide FTP config is read or changed.
#
# Environment knobs:
#   FERRY_FTP_CACHE   where unpacked server packages live
#   FTP_START_TIMEOUT seconds to wait for the 220 greeting (default 20)
#   FTP_DEBUG=1       protocol logging in the server log ($FTP_STATE/server.log)
#   FTP_EXTRA         extra config lines (vsftpd, proftpd) or extra command-line
#                     arguments (pure-ftpd), e.g. FTP_EXTRA='AllowStoreRestart on'
#   FTP_QUIET=1       no progress messages on stderr
# Every server runs with its stock defaults except what the config below sets
# (see README.md for the list).
set -euo pipefail

die() { echo "start.sh: $*" >&2; exit 1; }
usage() { echo "usage: start.sh vsftpd|pure-ftpd|proftpd [--tls] [--port N]" >&2; exit 2; }

SERVER=""
TLS=0
PORT=""
while [ $# -gt 0 ]; do
  case "$1" in
    vsftpd|pure-ftpd|proftpd) SERVER=$1 ;;
    pureftpd|pure) SERVER=pure-ftpd ;;
    --tls) TLS=1 ;;
    --port) [ $# -ge 2 ] || usage; PORT=$2; shift ;;
    --port=*) PORT=${1#--port=} ;;
    -h|--help) usage ;;
    *) echo "start.sh: unknown argument: $1" >&2; usage ;;
  esac
  shift
done
[ -n "$SERVER" ] || usage
if [ -n "$PORT" ]; then
  [[ "$PORT" =~ ^[0-9]+$ ]] && [ "$PORT" -ge 1 ] && [ "$PORT" -le 65535 ] || die "bad --port: $PORT"
fi
[ "$(id -u)" = 0 ] || die "must run as root (servers chroot and switch users)"

FTP_USER=ferrytest
FTP_PASS=ferrytest
TMPBASE=${TMPDIR:-/tmp}
LOCK="$TMPBASE/ferry-ftp-servers.lock"
SLOTS="$TMPBASE/ferry-ftp-slots"
CACHE=${FERRY_FTP_CACHE:-${XDG_CACHE_HOME:-${HOME:-$TMPBASE}/.cache}/ferry-ftp-servers}
# Control/passive ports come from slots below the kernel's ephemeral range:
# slot k owns ports SLOT_BASE+k*SLOT_SIZE .. +SLOT_SIZE-1 (first = control port).
# 249 passive ports each: busy parallel clients on a narrow range make
# concurrent sessions pick the same port ("425 ... Address already in use").
SLOT_BASE=10000
SLOT_SIZE=250
SLOT_COUNT=90

log() { [ -z "${FTP_QUIET:-}" ] && echo "start.sh: $*" >&2 || true; }

# ---------------------------------------------------------------- install
apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 "$@" >/dev/null 2>&1; }
apt_install() {
  # policy-rc.d 101 keeps packages from starting system services during install.
  local made_policy=0 rc=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt_quiet install --no-install-recommends "$@" || { apt_quiet update || true; apt_quiet install --no-install-recommends "$@"; } || rc=$?
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return $rc
}
need_cmd() { # need_cmd CMD PACKAGE
  command -v "$1" >/dev/null 2>&1 || { log "installing $2"; apt_install "$2" || die "cannot install $2"; }
}
pkg_installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }

# unpack PKG...: download the .debs of PKG... and unpack them into $CACHE/$1_VERSION,
# installing the lib* packages they depend on. Prints the unpack root.
unpack() {
  local first=$1 ver dest dl deb deps
  ver=$(apt-cache policy "$first" 2>/dev/null | awk '/Candidate:/ {print $2}')
  if [ -z "$ver" ] || [ "$ver" = "(none)" ]; then
    apt_quiet update || true
    ver=$(apt-cache policy "$first" 2>/dev/null | awk '/Candidate:/ {print $2}')
  fi
  [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no Debian package $first"
  dest="$CACHE/${first}_${ver//[:~]/_}"
  if [ ! -f "$dest/.complete" ]; then
    log "unpacking $* ($ver) into $dest"
    dl=$(mktemp -d "$TMPBASE/ferry-ftp-deb.XXXXXX")
    chmod 755 "$dl"
    (cd "$dl" && { apt_quiet download "$@" || { apt_quiet update; apt_quiet download "$@"; }; }) || die "apt-get download $* failed"
    rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
    deps=""
    for deb in "$dl"/*.deb; do
      dpkg-deb -x "$deb" "$dest.tmp"
      deps="$deps,$(dpkg-deb -f "$deb" Depends)"
    done
    rm -rf "$dl"
    # shared libraries only: first alternative, no version, names lib*
    deps=$(echo "$deps" | tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' | grep '^lib' | sort -u | tr '\n' ' ')
    local missing=""
    for d in $deps; do pkg_installed "$d" || missing="$missing $d"; done
    if [ -n "$missing" ]; then
      log "installing libraries:$missing"
      # shellcheck disable=SC2086
      apt_install $missing || die "cannot install$missing"
    fi
    rm -rf "$dest" && mv "$dest.tmp" "$dest" && touch "$dest/.complete"
  fi
  echo "$dest"
}

# Sets BIN (the daemon) and for some servers PUREPW / MODDIR.
locate_server() {
  local root=""
  case "$SERVER" in
    vsftpd)
      if pkg_installed vsftpd; then BIN=$(command -v vsftpd || echo /usr/sbin/vsftpd)
      else root=$(unpack vsftpd); BIN="$root/usr/sbin/vsftpd"; fi ;;
    pure-ftpd)
      if pkg_installed pure-ftpd; then BIN=/usr/sbin/pure-ftpd; PUREPW=/usr/bin/pure-pw
      else root=$(unpack pure-ftpd); BIN="$root/usr/sbin/pure-ftpd"; PUREPW="$root/usr/bin/pure-pw"; fi ;;
    proftpd)
      if pkg_installed proftpd-core && pkg_installed proftpd-mod-crypto; then BIN=/usr/sbin/proftpd; MODDIR=/usr/lib/proftpd
      else root=$(unpack proftpd-core proftpd-mod-crypto); BIN="$root/usr/sbin/proftpd"; MODDIR="$root/usr/lib/proftpd"; fi ;;
  esac
  [ -x "$BIN" ] || die "server binary missing: $BIN"
  if ldd "$BIN" 2>/dev/null | grep -q 'not found'; then
    die "$BIN lacks libraries: $(ldd "$BIN" | grep 'not found' | tr -s ' \t\n' ' ')"
  fi
}

ensure_user() {
  if ! id "$FTP_USER" >/dev/null 2>&1; then
    log "creating system user $FTP_USER"
    # Home "/" only because vsftpd chdirs to the home before local_root;
    # every server here is chrooted into the instance's own root.
    useradd --system --user-group --no-create-home --home-dir / \
      --shell /usr/sbin/nologin "$FTP_USER" 2>/dev/null || id "$FTP_USER" >/dev/null 2>&1 || die "useradd $FTP_USER failed"
  fi
  local home
  home=$(getent passwd "$FTP_USER" | cut -d: -f6)
  [ -d "$home" ] || usermod -d / "$FTP_USER" || die "usermod -d / $FTP_USER failed"
  # vsftpd authenticates through PAM; a private service file avoids the
  # distribution's pam_shells/ftpusers rules and touches no existing file.
  if [ "$SERVER" = vsftpd ] && [ ! -f /etc/pam.d/ferry-ftp-test ]; then
    printf '%s\n' '# PAM service for throwaway test FTP servers (ferry bench/ftp-servers/start.sh)' \
      'auth     required pam_unix.so' 'account  required pam_unix.so' 'session  required pam_permit.so' \
      >/etc/pam.d/ferry-ftp-test
  fi
  # (re)set the password each time: cheap, and heals a changed password
  echo "$FTP_USER:$FTP_PASS" | chpasswd || die "chpasswd failed"
  USER_UID=$(id -u "$FTP_USER"); USER_GID=$(id -g "$FTP_USER")
}

# ---------------------------------------------------------------- ports
port_busy() { ss -Htan "( sport = :$1 )" 2>/dev/null | grep -q .; }
range_busy() { # any socket at all on ports $1..$2
  ss -Htan 2>/dev/null | awk -v lo="$1" -v hi="$2" '{n=split($4,a,":"); p=a[n]+0; if (p>=lo && p<=hi) {found=1}} END {exit !found}'
}
slot_alive() { # slot dir is in use when its owner (starter or server pid) lives
  local d=$1 p
  for f in server.pid starter.pid; do
    [ -f "$d/$f" ] || continue
    p=$(cat "$d/$f" 2>/dev/null || true)
    [ -n "$p" ] && kill -0 "$p" 2>/dev/null && return 0
  done
  return 1
}
claim_slot() { # sets SLOT, PASV_LO, PASV_HI and (unless --port) PORT
  mkdir -p "$SLOTS"
  local k lo hi start
  start=$(( (RANDOM + $$) % SLOT_COUNT ))
  for i in $(seq 0 $((SLOT_COUNT - 1))); do
    k=$(( (start + i) % SLOT_COUNT ))
    lo=$((SLOT_BASE + k * SLOT_SIZE)); hi=$((lo + SLOT_SIZE - 1))
    if [ -d "$SLOTS/$k" ]; then
      slot_alive "$SLOTS/$k" && continue
      rm -rf "${SLOTS:?}/$k"
    fi
    range_busy "$lo" "$hi" && continue
    if [ -n "$PORT" ] && [ "$PORT" -ge "$lo" ] && [ "$PORT" -le "$hi" ]; then continue; fi
    mkdir "$SLOTS/$k" || continue
    echo $$ >"$SLOTS/$k/starter.pid"
    SLOT=$k
    if [ -z "$PORT" ]; then PORT=$lo; PASV_LO=$((lo + 1)); else PASV_LO=$lo; fi
    PASV_HI=$hi
    return 0
  done
  die "no free port slot in $SLOT_BASE..$((SLOT_BASE + SLOT_COUNT * SLOT_SIZE))"
}

# ---------------------------------------------------------------- main
need_cmd ss iproute2
need_cmd flock util-linux
need_cmd openssl openssl

exec 9>"$LOCK"
flock 9
locate_server
ensure_user
[ -z "$PORT" ] || ! port_busy "$PORT" || die "port $PORT is in use"
claim_slot
flock -u 9
exec 9>&-

STATE=$(mktemp -d "$TMPBASE/ferry-ftp.XXXXXX")
chmod 755 "$STATE"
touch "$STATE/.ferry-ftp-state"
echo "$SLOTS/$SLOT" >"$STATE/slot"
ln -s "$STATE" "$SLOTS/$SLOT/state" 2>/dev/null || true
ROOT="$STATE/root"
mkdir -m 755 "$ROOT"
chown "$USER_UID:$USER_GID" "$ROOT"
cleanup_on_fail() {
  if [ -n "${SRVPID:-}" ] && kill -0 "$SRVPID" 2>/dev/null; then kill -TERM -- "-$SRVPID" 2>/dev/null || kill -TERM "$SRVPID" 2>/dev/null || true; fi
  [ -n "${SLOT:-}" ] && rm -rf "${SLOTS:?}/$SLOT"
  [ -n "${STATE:-}" ] && [ -f "$STATE/.ferry-ftp-state" ] && rm -rf "$STATE"
}
trap 'rc=$?; [ $rc = 0 ] || cleanup_on_fail' EXIT

CA=""
if [ "$TLS" = 1 ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
    -keyout "$STATE/key.pem" -out "$STATE/cert.pem" -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" >/dev/null 2>&1 || die "openssl req failed"
  chmod 600 "$STATE/key.pem"
  CA="$STATE/cert.pem"
fi

case "$SERVER" in
vsftpd)
  mkdir -m 755 "$STATE/empty"
  CONF="$STATE/vsftpd.conf"
  cat >"$CONF" <<EOF
# private config for a throwaway test instance (ferry bench/ftp-servers)
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$PORT
background=NO
seccomp_sandbox=NO
anonymous_enable=NO
local_enable=YES
write_enable=YES
local_umask=022
file_open_mode=0666
local_root=$ROOT
chroot_local_user=YES
allow_writeable_chroot=YES
pam_service_name=ferry-ftp-test
secure_chroot_dir=$STATE/empty
nopriv_user=$FTP_USER
pasv_enable=YES
pasv_min_port=$PASV_LO
pasv_max_port=$PASV_HI
port_enable=YES
connect_from_port_20=NO
utf8_filesystem=YES
mdtm_write=YES
use_localtime=NO
max_clients=0
max_per_ip=0
tcp_wrappers=NO
dirmessage_enable=NO
ftpd_banner=ferry test vsftpd
xferlog_enable=YES
vsftpd_log_file=$STATE/server.log
log_ftp_protocol=$([ -n "${FTP_DEBUG:-}" ] && echo YES || echo NO)
idle_session_timeout=600
data_connection_timeout=300
EOF
  if [ "$TLS" = 1 ]; then
    cat >>"$CONF" <<EOF
ssl_enable=YES
rsa_cert_file=$STATE/cert.pem
rsa_private_key_file=$STATE/key.pem
force_local_logins_ssl=YES
force_local_data_ssl=YES
ssl_ciphers=HIGH
EOF
    # require_ssl_reuse is left at its default (YES)
  fi
  [ -n "${FTP_EXTRA:-}" ] && printf '%s\n' "$FTP_EXTRA" >>"$CONF"
  CMD=("$BIN" "$CONF")
  ;;
pure-ftpd)
  # Virtual user in a private PureDB. The hash is SHA-512 crypt on purpose:
  # "pure-pw useradd" would write argon2id with t=2047, about 5 s of CPU for
  # every login, which makes parallel transfers and tests crawl.
  HASH=$(openssl passwd -6 -salt ferrytestsalt "$FTP_PASS")
  echo "$FTP_USER:$HASH:$USER_UID:$USER_GID::$ROOT/./::::::::::::" >"$STATE/pureftpd.passwd"
  chmod 600 "$STATE/pureftpd.passwd"
  "$PUREPW" mkdb "$STATE/pureftpd.pdb" -f "$STATE/pureftpd.passwd" >/dev/null 2>&1 || die "pure-pw mkdb failed"
  CMD=("$BIN" -S "127.0.0.1,$PORT" -p "$PASV_LO:$PASV_HI" -l "puredb:$STATE/pureftpd.pdb"
       -A -E -H -4 -c 200 -C 100 -f none -g "$STATE/pure-ftpd.pid"
       -O "clf:$STATE/transfer.log")
  [ -n "${FTP_DEBUG:-}" ] && CMD+=(-d -d)
  # shellcheck disable=SC2206
  [ -n "${FTP_EXTRA:-}" ] && CMD+=($FTP_EXTRA)
  if [ "$TLS" = 1 ]; then
    CMD+=(-Y 3 -2 "$STATE/cert.pem,$STATE/key.pem")
  fi
  ;;
proftpd)
  HASH=$(openssl passwd -6 -salt ferrytestsalt "$FTP_PASS")
  echo "$FTP_USER:$HASH:$USER_UID:$USER_GID::$ROOT:/bin/sh" >"$STATE/ftpd.passwd"
  echo "$FTP_USER:x:$USER_GID:" >"$STATE/ftpd.group"
  chmod 600 "$STATE/ftpd.passwd" "$STATE/ftpd.group"
  CONF="$STATE/proftpd.conf"
  cat >"$CONF" <<EOF
# private config for a throwaway test instance (ferry bench/ftp-servers)
ServerName        "ferry test proftpd"
ServerIdent       on "ferry test proftpd"
ServerType        standalone
DefaultServer     on
UseIPv6           off
DefaultAddress    127.0.0.1
SocketBindTight   on
Port              $PORT
PassivePorts      $PASV_LO $PASV_HI
PidFile           $STATE/proftpd.pid
ScoreboardFile    $STATE/proftpd.scoreboard
DelayTable        $STATE/proftpd.delay
SystemLog         $STATE/server.log
TransferLog       $STATE/xferlog
WtmpLog           off
UseReverseDNS     off
User              $FTP_USER
Group             $FTP_USER
Umask             022 022
MaxInstances      200
MaxLoginAttempts  5
TimeoutIdle       600
AuthOrder         mod_auth_file.c
AuthUserFile      $STATE/ftpd.passwd
AuthGroupFile     $STATE/ftpd.group
RequireValidShell off
UseFtpUsers       off
DefaultRoot       ~
AllowOverwrite    on
# AllowStoreRestart stays at its stock "off": REST before STOR and APPE get
# "451 Append/Restart not permitted" (FTP_EXTRA='AllowStoreRestart on' allows it).
ModulePath        $MODDIR
LoadModule        mod_site_misc.c
<IfModule mod_lang.c>
  LangEngine      on
  UseEncoding     UTF-8 UTF-8
</IfModule>
EOF
  [ -n "${FTP_DEBUG:-}" ] && echo "DebugLevel 10" >>"$CONF"
  [ -n "${FTP_EXTRA:-}" ] && printf '%s\n' "$FTP_EXTRA" >>"$CONF"
  if [ "$TLS" = 1 ]; then
    cat >>"$CONF" <<EOF
LoadModule        mod_tls.c
<IfModule mod_tls.c>
  TLSEngine                on
  TLSLog                   $STATE/tls.log
  TLSProtocol              TLSv1.2 TLSv1.3
  TLSRSACertificateFile    $STATE/cert.pem
  TLSRSACertificateKeyFile $STATE/key.pem
  TLSRequired              on
  TLSVerifyClient          off
  TLSRenegotiate           none
  # TLSOptions NoSessionReuseRequired is deliberately NOT set: data
  # connections must resume the control connection's TLS session (default).
</IfModule>
EOF
  fi
  CMD=("$BIN" -n -q -c "$CONF")
  ;;
esac

# Own session/process group, so stop.sh can end the daemon and its children.
setsid "${CMD[@]}" </dev/null >>"$STATE/stdout.log" 2>&1 &
SRVPID=$!
echo "$SRVPID" >"$STATE/pid"
# The start time (field 22 of /proc/PID/stat) identifies this very process for
# stop.sh even after the daemon rewrites its title or the PID is recycled.
st=$(cat "/proc/$SRVPID/stat" 2>/dev/null || true); st=${st##*) }
read -r -a stf <<<"$st"
echo "${stf[19]:-}" >"$STATE/starttime"
echo "$SRVPID" >"$SLOTS/$SLOT/server.pid"
rm -f "$SLOTS/$SLOT/starter.pid"

# Wait for the 220 greeting.
deadline=$(( $(date +%s) + ${FTP_START_TIMEOUT:-20} ))
greeting=""
while :; do
  if ! kill -0 "$SRVPID" 2>/dev/null; then
    echo "start.sh: $SERVER exited during start-up; its output:" >&2
    tail -n 20 "$STATE/stdout.log" "$STATE/server.log" 2>/dev/null >&2 || true
    exit 1
  fi
  greeting=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && IFS= read -r l <&3 && printf "%s" "$l" && printf "QUIT\r\n" >&3' _ "$PORT" 2>/dev/null || true)
  case "$greeting" in 220*) break ;; esac
  [ "$(date +%s)" -lt "$deadline" ] || { echo "start.sh: no 220 greeting from $SERVER on port $PORT" >&2; tail -n 20 "$STATE/stdout.log" >&2 || true; exit 1; }
  sleep 0.2
done

q() { printf '%q' "$1"; }
{
  echo "FTP_SERVER=$(q "$SERVER")"
  echo "FTP_HOST=127.0.0.1"
  echo "FTP_PORT=$PORT"
  echo "FTP_USER=$(q "$FTP_USER")"
  echo "FTP_PASS=$(q "$FTP_PASS")"
  echo "FTP_ROOT=$(q "$ROOT")"
  echo "FTP_URL=$(q "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$PORT/")"
  echo "FTP_PID=$SRVPID"
  echo "FTP_TLS=$([ "$TLS" = 1 ] && echo explicit || echo off)"
  echo "FTP_CA=$(q "$CA")"
  echo "FTP_PASV_RANGE=$PASV_LO-$PASV_HI"
  echo "FTP_STATE=$(q "$STATE")"
} | tee "$STATE/env"
