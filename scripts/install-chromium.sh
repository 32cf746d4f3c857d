#!/usr/bin/env bash
# install-chromium.sh
#
# Makes a headless Chromium available for the agent's status page browser
# test (agent/web, TestBrowser*) on a Debian 12 machine: installs Debian's
# chromium-headless-shell with apt-get when no chromium-headless-shell,
# chromium or headless_shell is on PATH or in /usr/lib/chromium/. Must run
# as root when it has to install. Safe to run again: when a browser is
# there it only prints it ("make test" runs it every time).
#
# Output: one line, "chromium BINARY".
set -euo pipefail

die() { echo "install-chromium.sh: $*" >&2; exit 1; }
log() { echo "install-chromium.sh: $*" >&2; }

# find_browser: prints the first headless-capable Chromium found, the same
# places the test looks.
find_browser() {
  local n p
  for n in chromium-headless-shell chromium headless_shell; do
    if p=$(command -v "$n" 2>/dev/null); then echo "$p"; return 0; fi
  done
  for p in /usr/lib/chromium/chromium-headless-shell /usr/lib/chromium/headless_shell /usr/lib/chromium/chromium; do
    if [ -x "$p" ]; then echo "$p"; return 0; fi
  done
  return 1
}

if bin=$(find_browser); then
  echo "chromium $bin"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "no headless Chromium found, and installing one needs root (apt-get install chromium-headless-shell)"
command -v apt-get >/dev/null 2>&1 || die "no headless Chromium found, and this is not a Debian-like system with apt-get"
log "installing chromium-headless-shell"
apt_install() { DEBIAN_FRONTEND=noninteractive apt-get -y -qq -o Dpkg::Use-Pty=0 install --no-install-recommends chromium-headless-shell >/dev/null; }
apt_install || { DEBIAN_FRONTEND=noninteractive apt-get -qq update >/dev/null || true; apt_install; } ||
  die "apt-get install chromium-headless-shell failed"
bin=$(find_browser) || die "chromium-headless-shell is installed but no browser binary was found"
echo "chromium $bin"
