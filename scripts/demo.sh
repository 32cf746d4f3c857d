#!/bin/sh
# demo.sh: ferry end to end with nothing but Go. Starts ferry's own test FTP
# server (sync/ftp/ftptest) on 127.0.0.1 over a temporary folder, pushes a
# sample folder to it, lists the result, pulls it back into a second folder,
# compares, and stops the server.
set -eu
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-demo.XXXXXX")
pid=""
cleanup() {
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
