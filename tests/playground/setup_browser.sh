#!/usr/bin/env bash
# What tests/playground/test_browser.py needs, installed when missing: Debian's Chromium at
# /usr/bin/chromium (apt-get, as root or through sudo) and playwright-core, pinned below, in
# .tools/browser. Idempotent; prints nothing when all is in place.
#
#   tests/playground/setup_browser.sh            install what is missing
#   tests/playground/setup_browser.sh --version  print the pinned playwright-core version
set -euo pipefail

PLAYWRIGHT_CORE_VERSION=1.65.1
CHROMIUM=/usr/bin/chromium

here=$(cd "$(dirname "$0")" && pwd)
prefix="$(cd "$here/../.." && pwd)/.tools/browser"

if [ "${1:-}" = "--version" ]; then
  echo "$PLAYWRIGHT_CORE_VERSION"
  exit 0
fi

fail() {
  echo "setup_browser: $*" >&2
  exit 1
}

if [ ! -x "$CHROMIUM" ]; then
  if [ "$(id -u)" = 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null; then
    as_root=(sudo)
  else
    fail "$CHROMIUM is missing; install Debian's chromium package as root (apt-get install chromium)"
  fi
  command -v apt-get >/dev/null || fail "$CHROMIUM is missing and there is no apt-get to install it"
  export DEBIAN_FRONTEND=noninteractive
  # Refresh the package lists only when they do not know chromium yet.
  if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    "${as_root[@]}" apt-get update -qq >/dev/null || fail "apt-get update failed"
  fi
  log=$(mktemp)
  if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends chromium >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    fail "apt-get install chromium failed"
  fi
  rm -f "$log"
  [ -x "$CHROMIUM" ] || fail "the chromium package did not install $CHROMIUM"
fi

if ! grep -qs "\"version\": \"$PLAYWRIGHT_CORE_VERSION\"" "$prefix/node_modules/playwright-core/package.json"; then
  command -v npm >/dev/null || fail "npm is missing; install Node.js 20 or later"
  log=$(mktemp)
  if ! npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$prefix" \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    fail "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"
  fi
  rm -f "$log"
fi
