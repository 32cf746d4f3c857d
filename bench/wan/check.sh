#!/usr/bin/env bash
# wan/check.sh [SERVER] [RTT_MS]   (defaults: vsftpd 20; needs root and Go)
#
# Validates the delay line against a real server from ../ftp-servers:
# the NOOP round trip through the proxy (median of 20, should be about
# RTT_MS) and without it, and a 64 MiB RETR and STOR with curl (EPSV) direct
# and through the proxy (should be close: the delay line adds latency, not a
# throughput limit), then the proxy's session counters (all closed).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRVDIR=$(cd "$HERE/../ftp-servers" && pwd)
SERVER=${1:-vsftpd} RTT=${2:-20}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/wan-check.XXXXXX")
WAN_PID="" STATE=""
cleanup() {
  [ -n "$WAN_PID" ] && kill "$WAN_PID" 2>/dev/null && wait "$WAN_PID" 2>/dev/null
  [ -n "$STATE" ] && "$SRVDIR/stop.sh" "$STATE" >/dev/null 2>&1
  rm -rf "$TMP"
}
trap cleanup EXIT
(cd "$HERE" && GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 go build -o "$TMP/wan" .)
eval "$(FTP_QUIET=1 "$SRVDIR/start.sh" "$SERVER")"
STATE=$FTP_STATE
"$TMP/wan" -listen 127.0.0.1:0 -server "127.0.0.1:$FTP_PORT" -rtt "${RTT}ms" -addr-file "$TMP/addr" 2>"$TMP/wan.log" &
WAN_PID=$!
for _ in $(seq 1 100); do [ -s "$TMP/addr" ] && break; sleep 0.1; done
PX=$(sed 's/.*://' "$TMP/addr")
head -c $((64 << 20)) /dev/urandom >"$FTP_ROOT/big.bin"
chown --reference="$FTP_ROOT" "$FTP_ROOT/big.bin"
cp "$FTP_ROOT/big.bin" "$TMP/big.bin"

noop() { # noop PORT: median NOOP round trip in ms
  python3 - "$1" "$FTP_USER" "$FTP_PASS" <<'EOF'
import ftplib, statistics, sys, time
f = ftplib.FTP()
f.connect("127.0.0.1", int(sys.argv[1]))
f.login(sys.argv[2], sys.argv[3])
ts = []
for _ in range(20):
    t = time.perf_counter(); f.voidcmd("NOOP"); ts.append(time.perf_counter() - t)
f.quit()
print("%.2f" % (statistics.median(ts) * 1000))
EOF
}
xfer() { # xfer PORT get|put: "TOTAL s (data DATA s)" of one 64 MiB transfer
  local url="ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$1" w='%{time_total} %{time_starttransfer}'
  if [ "$2" = get ]; then w=$(curl -sS --fail -o "$TMP/got.bin" -w "$w" "$url/big.bin"); cmp "$TMP/got.bin" "$TMP/big.bin"
  else w=$(curl -sS --fail -T "$TMP/big.bin" -w "$w" "$url/up.bin"); cmp "$FTP_ROOT/up.bin" "$TMP/big.bin"; fi
  awk '{ printf "%.3f s (after the first byte %.3f s)", $1, $1 - $2 }' <<<"$w"
}
echo "$SERVER, rtt ${RTT} ms"
echo "NOOP round trip, median of 20: direct $(noop "$FTP_PORT") ms, through wan $(noop "$PX") ms"
for op in get put; do
  d=$(xfer "$FTP_PORT" $op) p=$(xfer "$PX" $op)
  echo "64 MiB $([ $op = get ] && echo RETR || echo STOR) with curl, login included: direct $d; through wan $p"
done
kill -USR1 "$WAN_PID"; sleep 0.3
grep -o 'control sessions.*' "$TMP/wan.log" | tail -n 1
