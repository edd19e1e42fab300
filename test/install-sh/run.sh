#!/usr/bin/env bash
# install.sh end to end, in a temp HOME and a temp npm prefix, with a fake `openclaw` and a fake
# `systemctl` on PATH that record their calls (and keep the state a second run looks at):
#   --dry-run changes nothing; an install from the checkout puts the package, the gateway hook
#   (enabled), the skills and a user unit in place, and the installed hook really starts the
#   daemon; a second run changes nothing; a system unit (into temp /etc); --uninstall --purge
#   leaves nothing behind.
# Usage: test/install-sh/run.sh <clawpulse checkout, built>
# (.ci/package-check.sh runs it; it needs the network or npm's cache for the dependencies.)
set -euo pipefail
src=$(cd "${1:?usage: run.sh <checkout>}" && pwd)
t=$(mktemp -d /tmp/clawpulse-install-sh.XXXXXX)
export npm_config_cache=${npm_config_cache:-$HOME/.npm}
export HOME=$t/home PREFIX=$t/prefix OPENCLAW_STATE_DIR=$t/home/.openclaw
# root installing for another account (sudo) is not what this test is about
unset SUDO_USER
mkdir -p "$HOME" "$t/fakebin"
# .ci/package-check.sh hands better-sqlite3 the binary npm ci compiled (see there)
[ -z "${CLAWPULSE_CI_PREBUILDS:-}" ] || printf 'local-prebuilds=%s\n' "$CLAWPULSE_CI_PREBUILDS" >"$t/.prebuild-installrc"
trap '"$PREFIX/bin/clawpulse" stop >/dev/null 2>&1 || true; rm -rf "$t"' EXIT
fail() {
  echo "install.sh test FAILED: $*" >&2
  exit 1
}
assert_file() { [ -f "$1" ] || fail "missing $1"; }
assert_gone() { [ ! -e "$1" ] || fail "left behind: $1"; }
assert_out() { grep -qE -- "$2" <<<"$1" || fail "output lacks /$2/:
$1"; }

# a fake openclaw: records its calls; `hooks enable|disable` edit openclaw.json as the real one does
cat >"$t/fakebin/openclaw" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$HOME/openclaw-calls.log"
state=${OPENCLAW_STATE_DIR:-$HOME/.openclaw}
if [ "$1 $2" = "hooks enable" ] || [ "$1 $2" = "hooks disable" ]; then
  on=$([ "$2" = enable ] && echo true || echo false)
  mkdir -p "$state"
  printf '{ hooks: { internal: { entries: { %s: { enabled: %s } } } } }\n' "$3" "$on" >"$state/openclaw.json"
  echo "Hook $3 ${2}d"
fi
EOF
# a fake systemctl: records its calls; a user bus that works; is-enabled after enable
cat >"$t/fakebin/systemctl" <<'EOF'
#!/usr/bin/env bash
echo "$*" >>"$HOME/systemctl-calls.log"
case " $* " in
*" is-enabled "*) grep -q 'enable --now' "$HOME/systemctl-calls.log" && ! grep -q 'disable' "$HOME/systemctl-calls.log" ;;
*) exit 0 ;;
esac
EOF
chmod +x "$t/fakebin/openclaw" "$t/fakebin/systemctl"
export PATH="$t/fakebin:$PREFIX/bin:$PATH"
snapshot() { (cd "$t" && find home prefix -path home/.npm -prune -o -print | grep -vE 'calls\.log$|\.openclaw/openclaw\.json$|^prefix/etc$' | sort); }
mkdir -p "$PREFIX" "$HOME/.openclaw/agents"
before=$(snapshot)

echo "  install.sh --dry-run --systemd user"
out=$("$src/install.sh" --prefix "$PREFIX" --systemd user --dry-run)
assert_out "$out" 'would run: npm pack'
assert_out "$out" 'would write: user unit'
assert_out "$out" 'dry run: nothing was changed'
[ "$(snapshot)" = "$before" ] || fail "--dry-run changed files: $(diff <(echo "$before") <(snapshot))"
[ ! -f "$HOME/openclaw-calls.log" ] || fail "--dry-run called openclaw: $(cat "$HOME/openclaw-calls.log")"

echo "  an older clawpulse (--package), then install.sh --systemd user from the checkout upgrades it"
version=$(node -p "require('$src/package.json').version")
mkdir -p "$t/old"
(cd "$src" && npm pack --ignore-scripts --silent --pack-destination "$t/old" >/dev/null)
tar xzf "$t"/old/clawpulse-*.tgz -C "$t/old"
node -e '
  const f = process.argv[1], p = JSON.parse(require("fs").readFileSync(f, "utf8"));
  p.version = "0.0.1-ci";
  require("fs").writeFileSync(f, JSON.stringify(p, null, 2));
' "$t/old/package/package.json"
tar czf "$t/old/clawpulse-0.0.1-ci.tgz" -C "$t/old" package
out=$("$src/install.sh" --prefix "$PREFIX" --package "$t/old/clawpulse-0.0.1-ci.tgz" --no-hook --no-skills)
assert_out "$out" 'installed clawpulse 0.0.1-ci'
[ "$(clawpulse --version)" = 0.0.1-ci ] || fail "the old version is not installed: $(clawpulse --version)"
out=$("$src/install.sh" --prefix "$PREFIX" --systemd user)
echo "$out" | sed 's/^/    /'
assert_out "$out" "installed clawpulse $version in"
[ "$(clawpulse --version)" = "$version" ] || fail "clawpulse --version: $(clawpulse --version)"
for b in clawpulse live-status clawpulse-dispatch; do [ -x "$PREFIX/bin/$b" ] || fail "no $b in $PREFIX/bin"; done
hook=$HOME/.openclaw/hooks/clawpulse
assert_file "$hook/HOOK.md"
assert_file "$hook/handler.js"
assert_file "$(cat "$hook/clawpulse-path")"
grep -qx 'hooks enable clawpulse' "$HOME/openclaw-calls.log" || fail "openclaw hooks enable not called: $(cat "$HOME/openclaw-calls.log")"
if clawpulse skills --help >/dev/null 2>&1; then
  assert_file "$HOME/.openclaw/skills/clawpulse/SKILL.md"
  assert_out "$out" 'installed the skills'
fi
unit=$HOME/.config/systemd/user/clawpulse.service
cmp -s "$unit" "$PREFIX/lib/node_modules/clawpulse/deploy/systemd/user/clawpulse.service" || fail "user unit differs from the package's"
grep -q "^Environment=PATH=$PREFIX/bin:" "$unit.d/install.conf" || fail "drop-in lacks the PATH: $(cat "$unit.d/install.conf")"
[ "$(stat -c %a "$HOME/.config/clawpulse/env")" = 600 ] || fail "settings file is not 0600"
grep -qx -- '--user enable --now clawpulse.service' "$HOME/systemctl-calls.log" || fail "systemctl: $(cat "$HOME/systemctl-calls.log")"
assert_out "$out" 'done:'
assert_out "$out" 'next:'
assert_out "$out" 'clawpulse doctor'

echo "  the installed hook starts the daemon on gateway:startup"
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
HEALTH_PORT=$port SOURCES=files node --input-type=module -e "
  const { default: hook } = await import(process.argv[1]);
  const r = await hook({ type: 'gateway', action: 'startup' }, { ...process.env, PATH: '/usr/bin:/bin' });
  if (!r.started) { console.error(r); process.exit(1); }
" "$hook/handler.js"
for _ in $(seq 1 100); do
  HEALTH_PORT=$port clawpulse status >/dev/null 2>&1 && break
  sleep 0.2
done
HEALTH_PORT=$port clawpulse status | grep -q 'clawpulse is running' || fail "the hook did not start clawpulse"
clawpulse stop >/dev/null

echo "  install.sh again: nothing to do"
calls=$(wc -l <"$HOME/openclaw-calls.log")
out=$("$src/install.sh" --prefix "$PREFIX" --systemd user)
assert_out "$out" 'nothing to do: everything was already in place'
assert_out "$out" "unchanged: clawpulse $version is installed"
[ "$(wc -l <"$HOME/openclaw-calls.log")" = "$calls" ] || fail "the second run called openclaw again"

echo "  install.sh --systemd system (into a temp /etc)"
export CLAWPULSE_SYSTEMD_SYSTEM_DIR=$t/etc/systemd/system CLAWPULSE_ETC_DIR=$t/etc
out=$("$src/install.sh" --prefix "$PREFIX" --systemd system --user nobody --no-hook --no-skills)
sys=$t/etc/systemd/system/clawpulse.service
cmp -s "$sys" "$src/deploy/systemd/system/clawpulse.service" || fail "system unit differs"
grep -qx 'User=nobody' "$sys.d/install.conf" || fail "system drop-in: $(cat "$sys.d/install.conf")"
grep -qx "Environment=OPENCLAW_STATE_DIR=$HOME/.openclaw" "$sys.d/install.conf" || fail "system drop-in lacks the state dir"
[ "$(stat -c %a "$t/etc/clawpulse.env")" = 640 ] || fail "/etc/clawpulse.env is not 0640"
assert_out "$out" 'systemctl daemon-reload && systemctl enable --now clawpulse'

echo "  install.sh --uninstall --dry-run, then --uninstall --purge"
out=$("$src/install.sh" --prefix "$PREFIX" --uninstall --dry-run)
assert_out "$out" 'would remove: user unit'
assert_out "$out" 'would run: npm_g uninstall -g'
assert_file "$unit"
out=$("$src/install.sh" --prefix "$PREFIX" --uninstall --purge)
echo "$out" | sed 's/^/    /'
grep -qx 'hooks disable clawpulse' "$HOME/openclaw-calls.log" || fail "openclaw hooks disable not called"
grep -qx -- '--user disable --now clawpulse.service' "$HOME/systemctl-calls.log" || fail "systemctl disable not called"
for f in "$unit" "$unit.d" "$HOME/.config/clawpulse" "$hook" "$HOME/.openclaw/skills/clawpulse" "$sys" "$sys.d" \
  "$t/etc/clawpulse.env" "$HOME/.clawpulse" "$PREFIX/bin/clawpulse" "$PREFIX/lib/node_modules/clawpulse"; do
  assert_gone "$f"
done
after=$(snapshot)
# npm leaves its own empty lib/node_modules; systemd dirs and ~/.config stay (not ours to remove)
left=$(comm -13 <(echo "$before") <(echo "$after") | grep -vE '^(prefix/lib|prefix/lib/node_modules|prefix/bin|home/\.config|home/\.config/systemd|home/\.config/systemd/user|home/\.openclaw/hooks|home/\.openclaw/skills)$' || true)
[ -z "$left" ] || fail "left behind after --uninstall: $left"
echo "  install.sh: ok (nothing left after --uninstall)"
