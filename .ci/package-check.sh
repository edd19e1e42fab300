#!/usr/bin/env bash
# The package as a user gets it: what `npm publish` would upload, `npm pack`, the built code's
# imports against `dependencies`, then `npm install -g` of the tarball into a temp prefix and the
# installed commands run from a temp HOME (demo, replay, start + /health, status, logs, doctor,
# live-status, stop), then install.sh from the checkout into another temp HOME and prefix,
# --uninstall, and nothing left.
#
#   .ci/package-check.sh            pack the checkout as built (CI: npm ci just built it)
#   .ci/package-check.sh --fresh    build a copy of the working tree first (a stale dist/ here)
#
# better-sqlite3: its install script downloads a prebuilt binary from GitHub, else compiles
# (70+ s). GitHub is unreachable on the CI machines, so the binary `npm ci` compiled for this
# Node is handed to it as a local prebuild (a .prebuild-installrc with local-prebuilds=), the
# way an offline mirror would; CLAWPULSE_CI_COMPILE=1 makes the install compile it instead.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
t_all=$(date +%s)
work=$(mktemp -d /tmp/clawpulse-pkg.XXXXXX)
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
stop_daemons() {
  for h in "$work/home" "$work/install-home"; do
    [ -x "$work/prefix/bin/clawpulse" ] && HOME=$h "$work/prefix/bin/clawpulse" stop >/dev/null 2>&1 || true
  done
}
trap 'stop_daemons; rm -rf "$work"' EXIT
t0=$(date +%s)
lap() { # <what>
  local now
  now=$(date +%s)
  echo "   ($1: $((now - t0)) s)"
  t0=$now
}
die() {
  echo "package check FAILED: $*" >&2
  exit 1
}

src=$repo
if [ "${1:-}" = "--fresh" ]; then
  echo "-- building a copy of the working tree (tracked and new files, node_modules linked)"
  src=$work/src
  mkdir -p "$src"
  git ls-files -z --cached --others --exclude-standard | grep -zv '^node_modules/' |
    xargs -0 tar cf - --ignore-failed-read 2>/dev/null | tar xf - -C "$src"
  ln -s "$repo/node_modules" "$src/node_modules"
  (cd "$src" && npm run --silent build >/dev/null && npm run --silent build:plugin >/dev/null)
  lap "fresh build"
fi
cd "$src"
version=$(node -p "require('./package.json').version")

echo "-- the build: present, fresh, plugin tarball"
[ -f dist/cli/main.js ] && [ -f ui/dist/index.html ] || die "not built: run npm run build (npm ci does it)"
stale=$(cd dist && find . -name '*.js' | sed 's|^\./||; s|\.js$||' | while read -r f; do
  [ -f "../src/$f.ts" ] || [ -f "../src/$f.tsx" ] || echo "dist/$f.js"
done)
[ -z "$stale" ] || die "dist/ has files without a source (a stale build): $(echo "$stale" | head -5 | tr '\n' ' ')… rm -rf dist && npm run build"
[ -f mattermost-plugin/dist/com.clawpulse.livestatus.tar.gz ] || npm run --silent build:plugin >/dev/null
lap "build checks"

echo "-- npm publish --dry-run: what would be uploaded"
npm publish --dry-run --ignore-scripts --json 2>/dev/null | node "$repo/.ci/package-contents.mjs"
# the Docker image's own pack step (deploy/docker/build.sh package; the dependencies are in)
sh deploy/docker/build.sh package --no-ci "$work/pack" >"$work/pack.log" 2>&1 || {
  cat "$work/pack.log"
  die "build.sh package failed"
}
tgz=$(ls "$work"/pack/clawpulse-*.tgz)
tar xzf "$tgz" -C "$work/pack"
node "$repo/.ci/runtime-deps.mjs" "$work/pack/package"
lap "publish list, pack, runtime imports"

echo "-- npm install -g $(basename "$tgz") --prefix <tmp> --allow-scripts=better-sqlite3 (the image's install step)"
# prebuild-install reads .prebuild-installrc files in the folders above the one it installs
# into (rc): one here covers the prefixes under $work; test/install-sh/run.sh writes its own
if [ "${CLAWPULSE_CI_COMPILE:-0}" != 1 ] && [ -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  bsq=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
  mkdir -p "$work/prebuilds"
  tar czf "$work/prebuilds/better-sqlite3-v$bsq-node-v$(node -p process.versions.modules)-linux-x64.tar.gz" \
    -C node_modules/better-sqlite3 build/Release/better_sqlite3.node
  printf 'local-prebuilds=%s\n' "$work/prebuilds" >"$work/.prebuild-installrc"
  export CLAWPULSE_CI_PREBUILDS=$work/prebuilds
fi
sh deploy/docker/build.sh install "$tgz" "$work/prefix" >"$work/install.log" 2>&1 ||
  {
    cat "$work/install.log"
    die "npm install -g failed"
  }
grep -q 'install-scripts.*better-sqlite3' "$work/install.log" && die "npm still asks to allow better-sqlite3's install script: $(cat "$work/install.log")"
cp=$work/prefix/bin/clawpulse
[ -x "$cp" ] && [ -x "$work/prefix/bin/live-status" ] && [ -x "$work/prefix/bin/clawpulse-dispatch" ] || die "bins missing in $work/prefix/bin"
pkgdir=$work/prefix/lib/node_modules/clawpulse
if [ -d "$pkgdir/node_modules/better-sqlite3/build/Release/obj.target" ]; then how=compiled; else how="the local prebuild"; fi
echo "   better-sqlite3: $how"
for dev in $(node -p "Object.keys(require('./package.json').devDependencies).join(' ')"); do
  [ ! -e "$pkgdir/node_modules/$dev" ] || die "devDependency $dev was installed"
done
lap "global install"

echo "-- the installed commands, from a temp HOME"
# the real npm cache (a temp HOME would download every dependency again)
export npm_config_cache=${npm_config_cache:-$HOME/.npm}
export HOME=$work/home PATH="$work/prefix/bin:$PATH"
mkdir -p "$HOME"
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
export HEALTH_PORT=$port LOG_LEVEL=info
got=$(clawpulse --version)
[ "$got" = "$version" ] || die "clawpulse --version says $got, package.json $version"
clawpulse --help | grep -q 'doctor' || die "clawpulse --help lists no doctor"
clawpulse-dispatch --help >/dev/null || die "clawpulse-dispatch --help failed"

demo=$(clawpulse demo --once --speed 50 --no-terminal --port 0 2>"$work/demo.log") || {
  tail -20 "$work/demo.log"
  die "clawpulse demo --once failed"
}
echo "   $demo" | tail -1
grep -qE 'sessions seen' <<<"$demo" && ! grep -qE '; 0 sessions seen' <<<"$demo" || die "demo --once saw no sessions: $demo"

fixture=$repo/test/fixtures/openclaw/v2026.7.35
replay=$(clawpulse replay "$fixture/daa6b28a-5388-4104-8e50-89a5a783e4c6.jsonl")
grep -q 'exec: ls /tmp | head -3 \[OK\]' <<<"$replay" || die "replay printed: $replay"

# an OpenClaw state dir with the fixture's sessions, where the daemon looks by default
sessions=$HOME/.openclaw/agents/main/sessions
mkdir -p "$sessions"
cp "$fixture"/*-????-????-????-????????????.jsonl "$sessions/"
rm -f "$sessions"/*.trajectory.jsonl
node -e '
  const fs = require("fs"), path = require("path"), dir = process.argv[1];
  const s = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  for (const e of Object.values(s)) if (e.sessionFile) e.sessionFile = path.join(dir, path.basename(e.sessionFile));
  fs.writeFileSync(path.join(dir, "sessions.json"), JSON.stringify(s));
' "$sessions" "$fixture/sessions.json"

SOURCES=files clawpulse start --fork | grep -q 'clawpulse started' || die "start --fork did not start"
health=$(node -e "fetch('http://127.0.0.1:$port/health').then(async r => { console.log(r.status, JSON.stringify(await r.json()).slice(0, 160)); process.exit(r.status === 200 ? 0 : 1) }, e => { console.log(e.message); process.exit(1) })") ||
  die "/health: $health"
echo "   /health: $health"
clawpulse status | grep -q 'clawpulse is running' || die "status does not say running"
for _ in $(seq 1 50); do
  clawpulse sessions --json | grep -q 'subagent' && break
  sleep 0.2
done
clawpulse sessions --json | grep -q 'subagent' || die "the daemon stored no sessions from ~/.openclaw"
[ -s "$HOME/.clawpulse/clawpulse.log" ] || die "start --fork wrote no ~/.clawpulse/clawpulse.log"
logs=$(clawpulse logs -n 5)
grep -qE '^[0-9:]{8} (INFO|WARN) ' <<<"$logs" || die "clawpulse logs is not readable: $logs"
clawpulse logs --json -n 20 | node -e '
  const rows = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.startsWith("{"));
  if (!rows.length || !rows.every((l) => JSON.parse(l).msg !== undefined)) process.exit(1);
' || die "clawpulse logs --json shows no JSON log lines"
clawpulse logs -n 50 | head -1 >/dev/null || die "clawpulse logs | head failed (EPIPE)"
live-status status >/dev/null || die "live-status status failed while running"
note=$(live-status --channel abcdefghijklmnopqrstuvwxyz create "Task Started" 2>&1 >/dev/null) || die "live-status create failed"
grep -q 'status is automatic now' <<<"$note" || die "live-status create said: $note"
set +e
doctor=$(clawpulse doctor)
doctor_rc=$?
set -e
echo "$doctor" | sed 's/^/   /'
[ "$doctor_rc" -eq 0 ] || die "clawpulse doctor found a problem in this setup (exit $doctor_rc)"
live-status stop-watcher | grep -q 'clawpulse stopped' || die "live-status stop-watcher did not stop it"
set +e
clawpulse status >/dev/null
[ $? -eq 3 ] || die "status after stop should exit 3"
set -e
lap "demo, replay, start, /health, status, sessions, logs, live-status, doctor, stop"

echo "-- the container's start and healthcheck steps (deploy/docker/build.sh), outside Docker"
node "$repo/.ci/dockerfile-check.mjs"
docker_sh=$src/deploy/docker/build.sh
dport=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
denv=(env HOME="$work/dhome" HTTP_HOST=0.0.0.0 HEALTH_PORT="$dport" CLAWPULSE_HOME="$work/dhome/data" OPENCLAW_STATE_DIR="$HOME/.openclaw" SOURCES=files)
mkdir -p "$work/dhome"
set +e
refused=$("${denv[@]}" sh "$docker_sh" start 2>&1)
rc=$?
set -e
[ "$rc" -ne 0 ] && grep -q 'DASHBOARD_TOKEN is required' <<<"$refused" || die "start without DASHBOARD_TOKEN: exit $rc, $refused"
"${denv[@]}" sh "$docker_sh" healthcheck && die "healthcheck passed with nothing running"
"${denv[@]}" DASHBOARD_TOKEN=ci-dashboard-token sh "$docker_sh" start >"$work/docker-start.log" 2>&1 &
dpid=$!
for _ in $(seq 1 100); do
  "${denv[@]}" sh "$docker_sh" healthcheck && break
  kill -0 "$dpid" 2>/dev/null || break
  sleep 0.2
done
"${denv[@]}" sh "$docker_sh" healthcheck || {
  tail -20 "$work/docker-start.log"
  die "the container's start step did not become healthy"
}
node -e "fetch('http://127.0.0.1:$dport/api/sessions').then(r => process.exit(r.status === 401 ? 0 : 1), () => process.exit(1))" ||
  die "the API answered without DASHBOARD_TOKEN"
kill -TERM "$dpid"
wait "$dpid" || die "the container's daemon did not stop cleanly on SIGTERM"
echo "   start refuses without DASHBOARD_TOKEN, healthy with it on 0.0.0.0:$dport, API behind the token, clean stop"
lap "container steps"

echo "-- install.sh from the checkout: temp HOME and prefix, a fake openclaw and systemctl; then --uninstall"
bash "$repo/test/install-sh/run.sh" "$src"
lap "install.sh"
echo "package check passed ($(($(date +%s) - t_all)) s)"
