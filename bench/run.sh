#!/usr/bin/env bash
# run.sh [--tool ferry|lftp|rclone|limit|floor|all] [--server vsftpd|pure-ftpd|proftpd]
#        [--profile small|large|mixed|huge-tree|wan-small] [--parallel N] [--repeat N]
#        [--rtt MS] [--timeout S] [--work DIR] [--md FILE] [--keep]
#
# Benchmarks one-way folder mirroring over FTP on loopback. Per tool and
# repetition, against a fresh server (ftp-servers/start.sh beside this script):
#   1 push      initial push of the dataset into an empty remote folder
#   2 re-push   the same push again, nothing changed (change detection)
#   3 incr      push after rewriting 10 files (same size, new mtime) and adding 10
#   4 pull      initial pull into an empty local folder
#   5 re-pull   the same pull again, nothing changed
# Each result is verified (file list, sizes, empty folders, checksums of the
# changed files and a sample); a wrong result is reported as WRONG, not timed.
# Prints a table of median wall seconds plus peak RSS and peak FTP sessions.
# --server, --profile and --tool take comma-separated lists too.
# FERRY=/path/to/ferry enables the ferry rows (n/a otherwise).
# floor (small and mixed only; needs Go): the least protocol work a correct,
# atomic, mtime-preserving sync needs (floor/main.go), built once per run.
# FLOOR_BATCH=1 makes its push commit in one batch at the end (floor -batch).
# --rtt MS (> 0) puts wan/ (a userspace FTP-aware delay line, built once per
# run; needs Go) in front of every server instance: all FTP traffic of every
# tool then sees MS ms of round-trip time. wan-small: 500 x 4 KiB files.
# --work DIR keeps generated datasets there for reuse; --md FILE appends the
# tables (markdown) to FILE; --keep keeps all scratch files and logs.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SRVDIR=$(cd "$HERE/ftp-servers" && pwd)
LIB="$HERE/lib"

TOOLS=all SERVERS=vsftpd PROFILES=small PAR=4 REPEAT=3 TIMEOUT=1200 WORK="" KEEP=0 MD="" RTT=0
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --tool) TOOLS=$2; shift ;;
    --server) SERVERS=$2; shift ;;
    --profile) PROFILES=$2; shift ;;
    --parallel) PAR=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --timeout) TIMEOUT=$2; shift ;;
    --rtt) RTT=$2; shift ;;
    --work) WORK=$2; shift ;;
    --md) MD=$2; shift ;;
    --keep) KEEP=1 ;;
    -h|--help) usage ;;
    *) echo "run.sh: unknown argument $1" >&2; usage ;;
  esac
  shift
done
[[ "$PAR" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --parallel $PAR" >&2; exit 2; }
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: bad --repeat $REPEAT" >&2; exit 2; }
[[ "$RTT" =~ ^[0-9]+$ ]] || { echo "run.sh: bad --rtt $RTT (whole milliseconds)" >&2; exit 2; }
RTT=$((10#$RTT))
export BENCH_RTT_MS=$RTT   # table.py puts it in the table headings
TOOLS=${TOOLS//all/lftp,rclone,ferry,limit,floor}
IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
IFS=, read -r -a SERVER_LIST <<<"$SERVERS"
IFS=, read -r -a PROFILE_LIST <<<"$PROFILES"
for t in "${TOOL_LIST[@]}"; do case "$t" in ferry|lftp|rclone|limit|floor) ;; *) echo "run.sh: unknown tool $t" >&2; exit 2 ;; esac; done
for s in "${SERVER_LIST[@]}"; do case "$s" in vsftpd|pure-ftpd|proftpd) ;; *) echo "run.sh: unknown server $s" >&2; exit 2 ;; esac; done
for p in "${PROFILE_LIST[@]}"; do case "$p" in small|large|mixed|huge-tree|wan-small) ;; *) echo "run.sh: unknown profile $p" >&2; exit 2 ;; esac; done

# ---------------------------------------------------------------- tools
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq "$@" >/dev/null 2>&1; }
need() { # need CMD PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "run.sh: installing $2" >&2
  apt_get install "$2" || { apt_get update; apt_get install "$2"; } || { echo "run.sh: cannot install $2" >&2; exit 1; }
}
need python3 python3
need curl curl
need ss iproute2
[ -x /usr/bin/time ] || { apt_get install time || { apt_get update; apt_get install time; }; } || { echo "run.sh: cannot install time" >&2; exit 1; }
for t in "${TOOL_LIST[@]}"; do
  case "$t" in lftp) need lftp lftp ;; rclone) need rclone rclone ;; esac
done
FERRY_OK=0
if [ -n "${FERRY:-}" ] && [ -x "${FERRY}" ]; then FERRY_OK=1; FERRY=$(cd "$(dirname "$FERRY")" && pwd)/$(basename "$FERRY"); fi

version_of() {
  case "$1" in
    lftp) lftp --version 2>/dev/null | head -1 | sed -n 's/.*Version \([0-9.]*\).*/lftp \1/p' ;;
    rclone) rclone version 2>/dev/null | head -1 | sed 's/^rclone v/rclone /' ;;
    ferry) if [ "$FERRY_OK" = 1 ]; then "$FERRY" version 2>/dev/null | head -1 | tr '\t' ' '; else echo ferry; fi ;;
    floor) echo floor ;;
  esac
}

# ---------------------------------------------------------------- scratch
AUTO_WORK=0
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench.XXXXXX"); AUTO_WORK=1; fi
mkdir -p "$WORK/data" "$WORK/logs"
WORK=$(cd "$WORK" && pwd)
RESULTS="$WORK/results.tsv"
: >"$RESULTS"
: >"$WORK/rclone.conf"
export RCLONE_CONFIG="$WORK/rclone.conf"
CUR_STATE="" SAMPLER=""
BAD=0

# floor: build the measuring instrument once per invocation (stdlib only, no
# network needed); without Go its rows are n/a.
FLOOR_OK=0 FLOOR_BIN="$WORK/floor-bin"
if [[ ",$TOOLS," == *,floor,* ]]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "run.sh: go not found: skipping the floor tool (its rows show n/a)" >&2
  elif (cd "$HERE/floor" && GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 go build -o "$FLOOR_BIN" .) >"$WORK/logs/floor-build.log" 2>&1; then
    FLOOR_OK=1
  else
    echo "run.sh: building floor failed (see $WORK/logs/floor-build.log): skipping the floor tool" >&2
    BAD=1
  fi
fi
# wan: the delay-line proxy for --rtt (stdlib only, built once per run).
WAN_BIN="$WORK/wan-bin" WAN_PID="" WAN_N=0
if [ "$RTT" -gt 0 ]; then
  command -v go >/dev/null 2>&1 || { echo "run.sh: --rtt needs Go (to build wan/)" >&2; exit 1; }
  (cd "$HERE/wan" && GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=0 go build -o "$WAN_BIN" .) >"$WORK/logs/wan-build.log" 2>&1 ||
    { echo "run.sh: building wan failed (see $WORK/logs/wan-build.log)" >&2; BAD=1; exit 1; }
fi
stop_wan() { # by PID: TERM makes it log its session counters, then exit
  [ -n "$WAN_PID" ] || return 0
  kill "$WAN_PID" 2>/dev/null
  wait "$WAN_PID" 2>/dev/null
  WAN_PID=""
}
cleanup() {
  [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
  stop_wan
  [ -n "$CUR_STATE" ] && "$SRVDIR/stop.sh" "$CUR_STATE" >/dev/null 2>&1
  rm -rf "$WORK/run"
  if [ "$KEEP" = 0 ] && [ "$AUTO_WORK" = 1 ] && [ "$BAD" = 0 ]; then
    rm -rf "$WORK"
  else
    echo "run.sh: raw results and logs kept in $WORK" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() { # start_server NAME -> sets FTP_* and CUR_STATE
  local env
  env=$(FTP_QUIET=1 "$SRVDIR/start.sh" "$1") || { echo "run.sh: cannot start $1" >&2; exit 1; }
  eval "$env"
  CUR_STATE=$FTP_STATE
  FTP_SRV_PORT=$FTP_PORT
  [ "$RTT" -gt 0 ] && start_wan
}
# start_wan: the delay line in front of the server just started; every tool
# (and the sampler) then uses the proxy's port as FTP_PORT.
start_wan() {
  local af="$WORK/wan.addr" i
  WAN_N=$((WAN_N + 1))
  rm -f "$af"
  "$WAN_BIN" -listen 127.0.0.1:0 -server "127.0.0.1:$FTP_SRV_PORT" -rtt "${RTT}ms" -addr-file "$af" \
    >"$WORK/logs/wan.$FTP_SERVER.$WAN_N.log" 2>&1 &
  WAN_PID=$!
  for i in $(seq 1 100); do [ -s "$af" ] && break; sleep 0.1; done
  [ -s "$af" ] || { echo "run.sh: wan did not start (see $WORK/logs/wan.$FTP_SERVER.$WAN_N.log)" >&2; BAD=1; exit 1; }
  FTP_PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$af")
}
stop_server() { stop_wan; [ -n "$CUR_STATE" ] && "$SRVDIR/stop.sh" "$CUR_STATE"; CUR_STATE=""; }

dataset() { # dataset PROFILE -> path of the pristine generated tree
  local d="$WORK/data/$1"
  if [ ! -f "$WORK/data/$1.done" ]; then
    rm -rf "$d"
    echo "run.sh: generating $1 dataset" >&2
    python3 "$LIB/gen.py" "$d" "$1" >"$WORK/data/$1.info" || { echo "run.sh: gen failed" >&2; exit 1; }
    touch "$WORK/data/$1.done"
  fi
  echo "$d"
}

# Peak number of client control connections to the server during a command:
# a 0.2 s sampler of ss. (Data connections are not counted.)
sampler_start() {
  local port=$1 out=$2
  ( max=0
    while :; do
      n=$(ss -Htn state established "( dport = :$port )" 2>/dev/null | wc -l)
      [ "$n" -gt "$max" ] && { max=$n; echo "$max" >"$out"; }
      sleep 0.2
    done ) &
  SAMPLER=$!
  echo 0 >"$out"
}
sampler_stop() { [ -n "$SAMPLER" ] && { kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null; }; SAMPLER=""; }

# timed LOG CMD... -> SECS, RSS_KB, RC, SESS
timed() {
  local log=$1; shift
  local tf="$log.time" sf="$log.sess" t0 t1
  sampler_start "$FTP_PORT" "$sf"
  t0=$(date +%s%N)
  /usr/bin/time -f '%M' -o "$tf" timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
  RC=$?
  t1=$(date +%s%N)
  sampler_stop
  SECS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
  RSS_KB=$(tail -n 1 "$tf" 2>/dev/null | tr -dc '0-9')
  SESS=$(cat "$sf" 2>/dev/null || echo 0)
}

# record SERVER PROFILE TOOL REP SCEN VERIFY_JSON_FILE
record() {
  local status=OK
  if [ "$RC" = 124 ] || [ "$RC" = 137 ]; then status=TIMEOUT
  elif ! python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["ok"] else 1)' "$6" 2>/dev/null; then status=WRONG
  elif [ "$RC" != 0 ]; then status=ERR
  fi
  [ "$status" = OK ] || BAD=1
  python3 - "$1" "$2" "$3" "$4" "$5" "$SECS" "${RSS_KB:-0}" "$status" "${SESS:-0}" "$6" "$RC" >>"$RESULTS" <<'EOF'
import json, sys
srv, prof, tool, rep, scen, secs, rss, status, sess, vf, rc = sys.argv[1:]
try:
    v = json.load(open(vf))
except Exception:
    v = {"problems": ["verify did not run"]}
t = v.get("touched")
print("\t".join([srv, prof, tool, rep, scen, secs, rss, status, sess,
                 "" if t is None else str(t), str(v.get("mtime_diff", "")),
                 str(v.get("files", "")), str(v.get("bytes", "")), rc,
                 " | ".join(v.get("problems", []))[:300]]))
EOF
  if [ "$status" != OK ]; then
    echo "run.sh: $1/$2/$3 run $4 scenario $5: $status (rc=$RC) $(python3 -c 'import json,sys; print("; ".join(json.load(open(sys.argv[1])).get("problems", [])[:3]))' "$6" 2>/dev/null)" >&2
  fi
}

# ---------------------------------------------------------------- tool commands
# push_cmd TOOL SRC / pull_cmd TOOL DST fill the array CMD.
tool_setup() { # per server instance
  URL_BASE="ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$FTP_PORT"
  # vsftpd quirks (see README.md, "Fairness choices"): it sets mtimes only
  # with "MDTM time path" (lftp: ftp:use-mdtm-overloaded, rclone:
  # --ftp-writing-mdtm) and has no MLSD, and its plain LIST hides dot files
  # (lftp: ftp:list-options -a everywhere, rclone: --ftp-force-list-hidden).
  # Without these both tools miss same-size changes and dot files there.
  LFTP_MDTM=no RCLONE_EXTRA=()
  if [ "$FTP_SERVER" = vsftpd ]; then LFTP_MDTM=yes; RCLONE_EXTRA=(--ftp-writing-mdtm --ftp-force-list-hidden); fi
  LFTP_SET="set ftp:ssl-allow no; set cmd:fail-exit yes; set net:max-retries 3; set net:timeout 30; set net:reconnect-interval-base 1; set ftp:use-mdtm-overloaded $LFTP_MDTM; set ftp:list-options -a;"
  RCLONE_REMOTE=":ftp,host=127.0.0.1,port=$FTP_PORT,user=$FTP_USER,pass=$(rclone obscure "$FTP_PASS" 2>/dev/null):bench"
  # --multi-thread-streams 0: rclone 1.60's multi-stream download (default for
  # files >= 250 MiB) fails over FTP on all three servers (426, or a truncated
  # file on pure-ftpd); see README.md.
  RCLONE_FLAGS=(--transfers "$PAR" --checkers "$PAR" --ftp-concurrency $((2 * PAR + 1)) --create-empty-src-dirs
                --multi-thread-streams 0 -q "${RCLONE_EXTRA[@]}")
  # floor: vsftpd sets mtimes only with "MDTM time path" and has no MLSD. The
  # no-op walks use the listing the floor measurements (docs/benchmarks.md) found cheapest per
  # server ("LIST -a" on vsftpd and proftpd, MLSD on pure-ftpd); the pull
  # lists with MLSD where there is one (its modify fact gives the mtime),
  # "LIST -a" plus one MDTM per file on vsftpd.
  FLOOR=("$FLOOR_BIN" -addr "127.0.0.1:$FTP_PORT" -user "$FTP_USER" -pass "$FTP_PASS" -remote /bench)
  FLOOR_MTIME=MFMT FLOOR_WALK=MLSD FLOOR_PULL_LIST=MLSD
  case "$FTP_SERVER" in
    vsftpd) FLOOR_MTIME=MDTM FLOOR_WALK="LIST -a" FLOOR_PULL_LIST="LIST -a" ;;
    proftpd) FLOOR_WALK="LIST -a" ;;
  esac
}
push_cmd() {
  case "$1" in
    lftp) CMD=(lftp -u "$FTP_USER,$FTP_PASS" -p "$FTP_PORT" -e "$LFTP_SET mirror -R --parallel=$PAR --delete '$2' /bench; quit" 127.0.0.1) ;;
    rclone) CMD=(rclone sync "$2" "$RCLONE_REMOTE" "${RCLONE_FLAGS[@]}") ;;
    ferry) CMD=("$FERRY" push --parallel "$PAR" --delete --state "$STATE_DB.push" "$2" "$URL_BASE/bench") ;;
    floor) CMD=("${FLOOR[@]}" -op push -k "$PAR" -mtime "$FLOOR_MTIME" -local "$2" ${FLOOR_BATCH:+-batch}) ;;
  esac
}
pull_cmd() {
  case "$1" in
    lftp) CMD=(lftp -u "$FTP_USER,$FTP_PASS" -p "$FTP_PORT" -e "$LFTP_SET mirror --parallel=$PAR --delete /bench '$2'; quit" 127.0.0.1) ;;
    rclone) CMD=(rclone sync "$RCLONE_REMOTE" "$2" "${RCLONE_FLAGS[@]}") ;;
    ferry) CMD=("$FERRY" pull --parallel "$PAR" --delete --state "$STATE_DB.pull" "$URL_BASE/bench" "$2") ;;
    floor) CMD=("${FLOOR[@]}" -op pull -k "$PAR" -list "$FLOOR_PULL_LIST" -local "$2") ;;
  esac
}
# repush_cmd TOOL SRC / repull_cmd TOOL DST: the no-op runs (scenarios 2, 5).
# floor does only what a no-op needs: one walk of the remote tree on one
# connection, compared with a scan of the local one.
repush_cmd() { if [ "$1" = floor ]; then CMD=("${FLOOR[@]}" -op walk -k 1 -list "$FLOOR_WALK" -local "$2"); else push_cmd "$@"; fi; }
repull_cmd() { if [ "$1" = floor ]; then CMD=("${FLOOR[@]}" -op walk -k 1 -list "$FLOOR_WALK" -local "$2"); else pull_cmd "$@"; fi; }

# ---------------------------------------------------------------- runs
bench_tool() { # bench_tool SERVER PROFILE TOOL
  local server=$1 profile=$2 tool=$3 data rep run src dst logs
  data=$(dataset "$profile")
  for rep in $(seq 1 "$REPEAT"); do
    run="$WORK/run/$tool.$rep"; rm -rf "$run"; mkdir -p "$run"
    logs="$WORK/logs/$server.$profile.$tool.$rep"; mkdir -p "$logs"
    src="$run/src"; dst="$run/dst"; STATE_DB="$run/ferry-state.db"
    cp -a "$data" "$src"
    start_server "$server"
    tool_setup
    local remote="$FTP_ROOT/bench"
    echo "run.sh: $server/$profile/$tool run $rep/$REPEAT" >&2

    push_cmd "$tool" "$src"; timed "$logs/1-push.log" "${CMD[@]}"
    python3 "$LIB/verify.py" "$src" "$remote" --snap-out "$run/snap.remote" >"$logs/1-push.verify"
    record "$server" "$profile" "$tool" "$rep" 1 "$logs/1-push.verify"

    repush_cmd "$tool" "$src"; timed "$logs/2-repush.log" "${CMD[@]}"
    python3 "$LIB/verify.py" "$src" "$remote" --snap-before "$run/snap.remote" --snap-out "$run/snap.remote" >"$logs/2-repush.verify"
    record "$server" "$profile" "$tool" "$rep" 2 "$logs/2-repush.verify"

    if [ "$tool" = floor ]; then
      # not timed: the floor of an incremental push is not modelled (the
      # remote keeps the initial tree, so its pull moves 10 files fewer).
      : >"$run/changed"
      printf '%s\t%s\tfloor\t%s\t3\t\t\tN/A\t\t\t\t\t\t\t\n' "$server" "$profile" "$rep" >>"$RESULTS"
    else
      python3 "$LIB/gen.py" modify "$src" "$profile" >"$run/changed"
      push_cmd "$tool" "$src"; timed "$logs/3-incr.log" "${CMD[@]}"
      python3 "$LIB/verify.py" "$src" "$remote" --must "$run/changed" --snap-before "$run/snap.remote" --snap-out "$run/snap.remote" >"$logs/3-incr.verify"
      record "$server" "$profile" "$tool" "$rep" 3 "$logs/3-incr.verify"
    fi

    mkdir -p "$dst"
    pull_cmd "$tool" "$dst"; timed "$logs/4-pull.log" "${CMD[@]}"
    python3 "$LIB/verify.py" "$remote" "$dst" --must "$run/changed" --snap-out "$run/snap.local" >"$logs/4-pull.verify"
    record "$server" "$profile" "$tool" "$rep" 4 "$logs/4-pull.verify"

    repull_cmd "$tool" "$dst"; timed "$logs/5-repull.log" "${CMD[@]}"
    python3 "$LIB/verify.py" "$remote" "$dst" --snap-before "$run/snap.local" --snap-out "$run/snap.local" >"$logs/5-repull.verify"
    record "$server" "$profile" "$tool" "$rep" 5 "$logs/5-repull.verify"

    stop_server
    rm -rf "$run"
  done
}

bench_limit() { # bench_limit SERVER PROFILE: single-stream floors for the large file
  local server=$1 profile=$2 data file rep run logs
  data=$(dataset "$profile")
  file=$(find "$data" -type f | head -n 1)
  run="$WORK/run/limit"; rm -rf "$run"; mkdir -p "$run"
  for rep in $(seq 1 "$REPEAT"); do
    logs="$WORK/logs/$server.$profile.limit.$rep"; mkdir -p "$logs"
    # raw TCP: file -> one loopback TCP stream -> file
    mkdir -p "$run/tcp-src" "$run/tcp-dst"; ln -f "$file" "$run/tcp-src/f" 2>/dev/null || cp "$file" "$run/tcp-src/f"
    FTP_PORT=1 timed "$logs/tcp.log" python3 "$LIB/tcplimit.py" "$run/tcp-src/f" "$run/tcp-dst/f"
    SECS=$(tail -n 1 "$logs/tcp.log" | tr -dc '0-9.'); SESS=1
    python3 "$LIB/verify.py" "$run/tcp-src" "$run/tcp-dst" >"$logs/tcp.verify"
    record "$server" "$profile" "limit-tcp" "$rep" 1 "$logs/tcp.verify"
    record "$server" "$profile" "limit-tcp" "$rep" 4 "$logs/tcp.verify"
    rm -rf "$run/tcp-src" "$run/tcp-dst"
    # curl: one FTP STOR and one RETR of the file against the same server
    start_server "$server"
    mkdir -p "$run/c-src" "$run/c-dst" "$FTP_ROOT/bench"; chown --reference="$FTP_ROOT" "$FTP_ROOT/bench"
    ln -f "$file" "$run/c-src/f" 2>/dev/null || cp "$file" "$run/c-src/f"
    timed "$logs/curl-push.log" curl -sS --fail -T "$run/c-src/f" "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$FTP_PORT/bench/f"
    python3 "$LIB/verify.py" "$run/c-src" "$FTP_ROOT/bench" >"$logs/curl-push.verify"
    record "$server" "$profile" "limit-curl" "$rep" 1 "$logs/curl-push.verify"
    timed "$logs/curl-pull.log" curl -sS --fail -o "$run/c-dst/f" "ftp://$FTP_USER:$FTP_PASS@127.0.0.1:$FTP_PORT/bench/f"
    python3 "$LIB/verify.py" "$FTP_ROOT/bench" "$run/c-dst" >"$logs/curl-pull.verify"
    record "$server" "$profile" "limit-curl" "$rep" 4 "$logs/curl-pull.verify"
    stop_server
    rm -rf "$run/c-src" "$run/c-dst"
  done
  rm -rf "$run"
}

T_START=$(date +%s)
for server in "${SERVER_LIST[@]}"; do
  for profile in "${PROFILE_LIST[@]}"; do
    for tool in "${TOOL_LIST[@]}"; do
      case "$tool" in
        ferry)
          if [ "$FERRY_OK" = 1 ]; then bench_tool "$server" "$profile" ferry
          else printf '%s\t%s\tferry\t-\t-\t\t\tN/A\t\t\t\t\t\t\t\n' "$server" "$profile" >>"$RESULTS"; fi ;;
        limit) [ "$profile" = large ] && bench_limit "$server" "$profile" ;;
        floor)
          case "$profile" in small|mixed|wan-small) ;; *) continue ;; esac
          if [ "$FLOOR_OK" = 1 ]; then bench_tool "$server" "$profile" floor
          else printf '%s\t%s\tfloor\t-\t-\t\t\tN/A\t\t\t\t\t\t\t\n' "$server" "$profile" >>"$RESULTS"; fi ;;
        *) bench_tool "$server" "$profile" "$tool" ;;
      esac
    done
    {
      echo
      python3 "$LIB/table.py" "$RESULTS" "$server" "$profile" "$PAR" "$REPEAT" "$WORK/data/$profile.info" \
        "lftp=$(version_of lftp)" "rclone=$(version_of rclone)" "ferry=$(version_of ferry)" "floor=$(version_of floor)"
    } | tee -a "${MD:-/dev/null}"
  done
done
echo
echo "run.sh: total $(( $(date +%s) - T_START )) s; rtt ${RTT} ms$([ "$RTT" -gt 0 ] && echo ' (wan/ delay line)'); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
