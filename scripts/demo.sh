#!/bin/sh
# demo.sh: ferry end to end with nothing but Go. Starts ferry's own test FTP
# server (sync/ftp/ftptest) on 127.0.0.1 over a temporary folder, pushes a
# sample folder to it, lists the result, pulls it back into a second folder,
# compares; then runs the agent on the sample folder (watching it), edits a
# file and creates one, shows each arriving on the server, prints ferry
# status, stops the agent with SIGTERM, and stops the server.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
pid=""
agent=""
cleanup() {
  if [ -n "$agent" ]; then kill "$agent" 2>/dev/null || true; wait "$agent" 2>/dev/null || true; fi
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

echo "== building ferry and the test server"
go build -o "$work/ferry" ./cmd/ferry
go build -o "$work/ftptestd" ./internal/cmd/ftptestd

mkdir -p "$work/server" "$work/sample/docs/empty folder" "$work/sample/.well-known"
printf 'hello from ferry\n' >"$work/sample/README.txt"
printf 'Options -Indexes\n' >"$work/sample/.htaccess"
printf 'naïve café ✓\n' >"$work/sample/docs/unicode ✓.txt"
: >"$work/sample/docs/empty file"
printf 'x\n' >"$work/sample/.well-known/security.txt"
printf 'dash\n' >"$work/sample/-leading dash"

"$work/ftptestd" -root "$work/server" -addr-file "$work/url" >"$work/server.log" 2>&1 &
pid=$!
i=0
while [ ! -s "$work/url" ]; do
  i=$((i + 1)); [ $i -le 100 ] || { echo "test server did not start:"; cat "$work/server.log"; exit 1; }
  sleep 0.1
done
url=$(cat "$work/url")
echo "== test FTP server at $url (pid $pid, serving $work/server)"

echo "== ferry push $work/sample ${url}site"
"$work/ferry" push --state "$work/state.db" "$work/sample" "${url}site"
echo "== ferry ls -R ${url}"
"$work/ferry" ls -R "$url"
echo "== ferry push again: nothing to do"
"$work/ferry" push --state "$work/state.db" "$work/sample" "${url}site"
echo "== ferry pull ${url}site $work/copy"
"$work/ferry" pull --state "$work/state.db" "${url}site" "$work/copy"
diff -r "$work/sample" "$work/copy" && echo "== the pulled copy is identical to the sample"

# await FILE CONTENT: wait (up to 10 s) until FILE holds CONTENT; prints how
# long it took.
await() {
  start=$(date +%s%N)
  i=0
  while [ "$(cat "$1" 2>/dev/null)" != "$2" ]; do
    i=$((i + 1)); [ $i -le 1000 ] || { echo "timed out waiting for $1"; cat "$work/agent.log"; exit 1; }
    sleep 0.01
  done
  echo "   arrived after $(( ($(date +%s%N) - start) / 1000000 )) ms: $1"
}

echo
echo "== ferry agent: watching $work/sample, pushing to ${url}live"
cat >"$work/ferry.json" <<EOF
{
  "state": "$work/agent-state.db",
  "log": {"level": "info", "format": "text"},
  "jobs": [
    {"name": "live", "local": "$work/sample", "remote": "${url}live",
     "mode": "push", "delete": true, "watch": true, "debounce": "200ms"}
  ]
}
EOF
cat "$work/ferry.json"
"$work/ferry" agent --config "$work/ferry.json" >"$work/agent.log" 2>&1 &
agent=$!
await "$work/server/live/README.txt" "hello from ferry"
echo "== editing README.txt and creating news.txt in the watched folder"
printf 'edited while the agent watches\n' >"$work/sample/README.txt"
await "$work/server/live/README.txt" "edited while the agent watches"
printf 'a new file\n' >"$work/sample/news.txt"
await "$work/server/live/news.txt" "a new file"
echo "== ferry status --config $work/ferry.json"
"$work/ferry" status --config "$work/ferry.json"
echo "== stopping the agent with SIGTERM"
kill -TERM "$agent"
status=0
wait "$agent" || status=$?
agent=""
echo "   the agent exited with status $status; its log:"
sed 's/^/   /' "$work/agent.log"
[ "$status" -eq 0 ]
