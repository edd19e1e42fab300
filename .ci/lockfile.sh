#!/usr/bin/env bash
# The lockfile is portable (every platform's optional packages locked) and stable: a clean
# `npm install` in a copy of package.json + package-lock.json leaves the lock byte for byte.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
node .ci/lockfile-check.mjs
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp package.json package-lock.json .npmrc "$tmp/"
# the lock a clean install writes (--package-lock-only: the same tree, without downloading it)
(cd "$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
if ! cmp -s package-lock.json "$tmp/package-lock.json"; then
  echo "a clean npm install changes package-lock.json (regenerate it: npm install --package-lock-only, and commit it):"
  diff -u package-lock.json "$tmp/package-lock.json" | head -80 || true
  exit 1
fi
echo "a clean npm install leaves package-lock.json unchanged ($(($(date +%s) - t0)) s)"
