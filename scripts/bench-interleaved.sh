#!/bin/bash
# bench-interleaved.sh SERVER ROUNDS [DATASET]: push a dataset with ferry,
# lftp and the benchmark's floor in turn, round after round, on one server
# instance, so that the machine's drift hits all three alike (run.sh runs
# each tool's repetitions back to back). Prints one line per push:
# "SERVER push TOOL MILLISECONDS", then the medians.
#
# Needs root, lftp, Go, and the shared benchmark beside this repository
# (BENCH, default bench/ at the top of the repository); DATASET defaults to run.sh's small
# profile in /tmp/benchwork (run.sh --work /tmp/benchwork makes it).
set -euo pipefail
SERVER=${1:?usage: bench-interleaved.sh vsftpd|pure-ftpd|proftpd ROUNDS [DATASET]}
ROUNDS=${2:?rounds}
DATA=${3:-/tmp/benchwork/data/small}
HERE=$(cd "$(dirname "$0")/.." && pwd)
BENCH=${BENCH:-$HERE/bench}
FERRY=${FERRY:-$HERE/bin/ferry}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# Build the tree's ferry every time (cached, so quick): a binary left from
# older code would be measured in its place.
if [ "$FERRY" = "$HERE/bin/ferry" ]; then (cd "$HERE" && make build >/dev/null); fi
(cd "$BENCH/floor" && go build -o "$WORK/floor" .)

eval "$(FTP_QUIET=1 "$BENCH/../ftp-servers/start.sh" "$SERVER")"
trap '"$BENCH/../ftp-servers/stop.sh" "$FTP_STATE" >/dev/null 2>&1; rm -rf "$WORK"' EXIT
MTIME=MFMT MDTM_SET=no
if [ "$SERVER" = vsftpd ]; then MTIME=MDTM MDTM_SET=yes; fi

ms() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || echo "FAILED: $*" >&2; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
for r in $(seq 1 "$ROUNDS"); do
  for tool in ferry lftp floor; do
    dir=/r$r$tool
    case $tool in
      ferry) t=$(ms "$FERRY" push --parallel 4 --delete --state "$WORK/state$r.db" "$DATA" "$FTP_URL${dir#/}") ;;
      lftp) t=$(ms lftp -u "$FTP_USER,$FTP_PASS" -p "$FTP_PORT" -e "set ftp:ssl-allow no; set ftp:use-mdtm-overloaded $MDTM_SET; set ftp:list-options -a; mirror -R --parallel=4 --delete '$DATA' $dir; quit" 127.0.0.1) ;;
      floor) t=$(ms "$WORK/floor" -addr "127.0.0.1:$FTP_PORT" -user "$FTP_USER" -pass "$FTP_PASS" -remote "$dir" -op push -k 4 -mtime "$MTIME" -local "$DATA") ;;
    esac
    echo "$SERVER push $tool $t"
  done
done | tee "$WORK/out"
sort -k3,3 -k4,4n "$WORK/out" | awk '{v[$3]=v[$3]" "$4; n[$3]++} END {for (k in v) {split(substr(v[k],2),a," "); print k, "median", a[int((n[k]+1)/2)], "ms of", n[k]}}'
