#!/usr/bin/env bash
# Installs clawpulse (live view of OpenClaw agents) the way the original Live Status install.sh
# did, and more: the package (from the npm registry, or from the checkout this script sits in),
# the OpenClaw gateway:startup hook (when `openclaw` is on PATH), the skills, and optionally a
# systemd unit. Safe to run again (what is in place is left alone); --dry-run shows what it
# would do; --uninstall takes it all away again (your settings and history are kept unless
# --purge).
#
#   curl -fsSL <raw url>/install.sh | bash                    # from the registry
#   ./install.sh                                              # from this checkout
#   ./install.sh --systemd user                               # + a user service
#   sudo ./install.sh --systemd system                        # + a hardened system service
#   ./install.sh --uninstall [--purge]
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: install.sh [options]

  --systemd user|system  also install and start a systemd unit (system: run as root)
  --from registry|checkout
                         where clawpulse comes from (default: this checkout when install.sh
                         sits in one, else the npm registry)
  --version V            the registry version (default latest)
  --package FILE.tgz     install this npm pack tarball
  --prefix DIR           npm's global prefix (default: npm's own, `npm prefix -g`)
  --user NAME            the account that runs OpenClaw, when root installs (default:
                         $SUDO_USER): the system unit runs as it, the hook and the skills go
                         into its state dir as it (else the owner of the state dir)
  --no-hook              do not install the OpenClaw gateway:startup hook
  --no-skills            do not install the OpenClaw skills
  --force                reinstall the package even when this version is installed
  --dry-run              print what would be done, change nothing
  --uninstall            remove what install.sh installed (--purge: also ~/.clawpulse)
  -h, --help             this help

Environment: OPENCLAW_STATE_DIR (default ~/.openclaw).
EOF
}

DRY=0
UNINSTALL=0
PURGE=0
SYSTEMD=""
FROM=""
VERSION="latest"
PACKAGE=""
PREFIX=""
UNIT_USER=""
HOOK=1
SKILLS=1
FORCE=0
while [ $# -gt 0 ]; do
  case "$1" in
  --systemd)
    SYSTEMD=${2:-}
    shift
    ;;
  --systemd=*) SYSTEMD=${1#*=} ;;
  --from)
    FROM=${2:-}
    shift
    ;;
  --from=*) FROM=${1#*=} ;;
  --version)
    VERSION=${2:-}
    shift
    ;;
  --package)
    PACKAGE=${2:-}
    shift
    ;;
  --prefix)
    PREFIX=${2:-}
    shift
    ;;
  --prefix=*) PREFIX=${1#*=} ;;
  --user)
    UNIT_USER=${2:-}
    shift
    ;;
  --no-hook) HOOK=0 ;;
  --no-skills) SKILLS=0 ;;
  --force) FORCE=1 ;;
  --dry-run) DRY=1 ;;
  --uninstall) UNINSTALL=1 ;;
  --purge) PURGE=1 ;;
  -h | --help)
    usage
    exit 0
    ;;
  *)
    echo "install.sh: unknown option $1" >&2
    usage >&2
    exit 2
    ;;
  esac
  shift
done
case "$SYSTEMD" in "" | user | system) ;; *)
  echo "install.sh: --systemd wants user or system, got '$SYSTEMD'" >&2
  exit 2
  ;;
esac
case "$FROM" in "" | registry | checkout) ;; *)
  echo "install.sh: --from wants registry or checkout, got '$FROM'" >&2
  exit 2
  ;;
esac

# the folder this script is in; none when it comes through a pipe (curl … | bash)
HERE=""
if [ -n "${BASH_SOURCE[0]:-}" ] && [ -f "${BASH_SOURCE[0]}" ]; then HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); fi
# root (sudo) installs for the account that runs OpenClaw: --user, else $SUDO_USER. The hook
# and the skills go into that account's state dir, written as that account.
OWNER=""
if [ "$(id -u)" = 0 ]; then OWNER=${UNIT_USER:-${SUDO_USER:-}}; fi
[ "$OWNER" != root ] || OWNER=""
owner_home=""
[ -z "$OWNER" ] || owner_home=$(getent passwd "$OWNER" | cut -d: -f6)
STATE_DIR=${OPENCLAW_STATE_DIR:-${owner_home:-$HOME}/.openclaw}
# a command as the OpenClaw account (when root installs for it)
as_owner() {
  if [ -n "$OWNER" ]; then
    runuser -u "$OWNER" -- env HOME="$owner_home" PATH="$PATH" OPENCLAW_STATE_DIR="$STATE_DIR" "$@"
  else "$@"; fi
}
# where units and /etc files go; overridable for packaging and tests
SYSTEMD_SYSTEM_DIR=${CLAWPULSE_SYSTEMD_SYSTEM_DIR:-/etc/systemd/system}
ETC_DIR=${CLAWPULSE_ETC_DIR:-/etc}
USER_UNIT_DIR=${XDG_CONFIG_HOME:-$HOME/.config}/systemd/user
USER_ENV=${XDG_CONFIG_HOME:-$HOME/.config}/clawpulse/env

done_list=()
next_list=()
did() {
  done_list+=("$1")
  echo "  $1"
}
next() { next_list+=("$1"); }
say() { echo "install.sh: $*"; }
die() {
  echo "install.sh: $*" >&2
  exit 1
}
# run a command, or in --dry-run print it
run() {
  if [ "$DRY" = 1 ]; then
    echo "  would run: $*"
  else
    "$@"
  fi
}
# write stdin to a file (mode), unless it already has exactly that content; says which
put_file() { # <file> <mode> <label>
  local file=$1 mode=$2 label=$3 tmp
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then
    rm -f "$tmp"
    echo "  unchanged: $label ($file)"
    return 0
  fi
  if [ "$DRY" = 1 ]; then
    rm -f "$tmp"
    echo "  would write: $label ($file)"
    return 0
  fi
  mkdir -p "$(dirname "$file")"
  install -m "$mode" "$tmp" "$file"
  # files in the OpenClaw state dir belong to its account
  case "$file" in "$STATE_DIR"/*) [ -z "$OWNER" ] || chown -R "$OWNER": "$(dirname "$file")" ;; esac
  rm -f "$tmp"
  did "wrote $label: $file"
}
remove_path() { # <path> <label>
  [ -e "$1" ] || [ -L "$1" ] || return 0
  if [ "$DRY" = 1 ]; then
    echo "  would remove: $2 ($1)"
  else
    rm -rf "$1"
    did "removed $2: $1"
  fi
}

npm_g() { # npm with the chosen global prefix
  if [ -n "$PREFIX" ]; then npm --prefix "$PREFIX" "$@"; else npm "$@"; fi
}
global_root() { npm_g root -g; }
global_bin() {
  if [ -n "$PREFIX" ]; then echo "$PREFIX/bin"; else echo "$(npm prefix -g)/bin"; fi
}
installed_version() {
  local pj
  pj="$(global_root)/clawpulse/package.json"
  [ -f "$pj" ] && node -p "require(process.argv[1]).version" "$pj" 2>/dev/null || true
}
in_checkout() {
  [ -n "$HERE" ] && [ -f "$HERE/package.json" ] && [ -d "$HERE/src" ] &&
    grep -q '"name": "clawpulse"' "$HERE/package.json"
}

check_node() {
  command -v node >/dev/null 2>&1 || die "Node.js is not installed: install Node 24 (or 20.19+) first, e.g. from https://nodejs.org"
  command -v npm >/dev/null 2>&1 || die "npm is not installed (it comes with Node.js)"
  node -e '
    const [a, b] = process.versions.node.split(".").map(Number);
    if (a < 20 || (a === 20 && b < 19)) { console.error(`Node ${process.versions.node} is too old: clawpulse needs 20.19 or later (OpenClaw itself needs 24)`); process.exit(1); }
  ' || exit 1
}

# ---------------------------------------------------------------- the package
install_package() {
  local spec want have tmp
  if [ -n "$PACKAGE" ]; then
    [ -f "$PACKAGE" ] || die "--package $PACKAGE: no such file"
    spec=$(cd "$(dirname "$PACKAGE")" && pwd)/$(basename "$PACKAGE")
    want=$(tar xzf "$spec" -O package/package.json | node -p "JSON.parse(require('fs').readFileSync(0,'utf8')).version")
    echo "- clawpulse $want from $spec"
  elif [ "$FROM" = checkout ] || { [ -z "$FROM" ] && in_checkout; }; then
    in_checkout || die "--from checkout: $HERE is not a clawpulse checkout"
    want=$(node -p "require(process.argv[1]).version" "$HERE/package.json")
    echo "- clawpulse $want from the checkout $HERE"
    # the checkout's package.json allows better-sqlite3's and esbuild's install scripts (allowScripts)
    [ -d "$HERE/node_modules" ] || (cd "$HERE" && run npm ci --no-audit --no-fund)
    [ -f "$HERE/dist/cli/main.js" ] || (cd "$HERE" && run npm run --silent build)
    [ -f "$HERE/mattermost-plugin/dist/com.clawpulse.livestatus.tar.gz" ] || (cd "$HERE" && run npm run --silent build:plugin)
    spec=checkout
  else
    want=$VERSION
    if [ "$VERSION" = latest ]; then want=$(npm view clawpulse version 2>/dev/null || echo latest); fi
    echo "- clawpulse $want from the npm registry"
    spec="clawpulse@$want"
  fi
  have=$(installed_version)
  if [ "$have" = "$want" ] && [ "$FORCE" = 0 ]; then
    echo "  unchanged: clawpulse $have is installed in $(global_root)"
    return 0
  fi
  if [ "$spec" = checkout ]; then
    if [ "$DRY" = 1 ]; then
      echo "  would run: npm pack $HERE, then npm install -g <that tarball>"
      return 0
    fi
    tmp=$(mktemp -d)
    spec="$tmp/$(cd "$HERE" && npm pack --ignore-scripts --silent --pack-destination "$tmp" | tail -1)"
  fi
  # better-sqlite3 builds its native module in an install script: npm 11 asks for consent
  run npm_g install -g --no-audit --no-fund --loglevel=error --allow-scripts=better-sqlite3 "$spec"
  [ -n "${tmp:-}" ] && rm -rf "$tmp"
  [ "$DRY" = 1 ] || did "installed clawpulse $(installed_version) in $(global_root) (commands in $(global_bin))"
}

# ---------------------------------------------------------------- the gateway hook
install_hook() {
  [ "$HOOK" = 1 ] || return 0
  echo "- OpenClaw gateway:startup hook"
  if ! command -v openclaw >/dev/null 2>&1; then
    echo "  skipped: openclaw is not on PATH (run install.sh again where OpenClaw runs, or see hooks/clawpulse/HOOK.md)"
    next "OpenClaw's gateway can start clawpulse by itself: run install.sh where openclaw is on PATH"
    return 0
  fi
  local src dst
  src="$(global_root)/clawpulse/hooks/clawpulse"
  [ "$DRY" = 1 ] && [ ! -d "$src" ] && src="$HERE/hooks/clawpulse"
  dst="$STATE_DIR/hooks/clawpulse"
  local before=${#done_list[@]}
  if [ -d "$src" ]; then
    put_file "$dst/HOOK.md" 0644 "hook description" <"$src/HOOK.md"
    put_file "$dst/handler.js" 0644 "hook handler" <"$src/handler.js"
  fi
  # the gateway's PATH may not have npm's bin dir: the hook runs this script with the gateway's node
  put_file "$dst/clawpulse-path" 0644 "hook: where clawpulse is" < <(echo "$(global_root)/clawpulse/bin/clawpulse.js")
  if hook_enabled; then
    echo "  unchanged: the hook is enabled in $STATE_DIR/openclaw.json"
  else
    run as_owner openclaw hooks enable clawpulse >/dev/null
    [ "$DRY" = 1 ] || did "enabled the hook: openclaw hooks enable clawpulse"
  fi
  [ ${#done_list[@]} -eq "$before" ] ||
    next "restart the OpenClaw gateway: on gateway:startup the hook runs clawpulse start --fork"
}

# hooks.internal.entries.clawpulse.enabled in openclaw.json (JSON5), read with the installed json5
hook_enabled() {
  local json5="$(global_root)/clawpulse/node_modules/json5"
  [ -f "$STATE_DIR/openclaw.json" ] && [ -d "$json5" ] || return 1
  node -e '
    const cfg = require(process.argv[1]).parse(require("fs").readFileSync(process.argv[2], "utf8"));
    process.exit(cfg?.hooks?.internal?.entries?.clawpulse?.enabled === true ? 0 : 1);
  ' "$json5" "$STATE_DIR/openclaw.json" 2>/dev/null
}

# ---------------------------------------------------------------- the skills
install_skills() {
  [ "$SKILLS" = 1 ] || return 0
  echo "- OpenClaw skills"
  local cp
  cp="$(global_bin)/clawpulse"
  if [ "$DRY" = 1 ] && [ ! -x "$cp" ]; then
    echo "  would run: clawpulse skills install (when this clawpulse has that command)"
    return 0
  fi
  if ! "$cp" skills --help >/dev/null 2>&1; then
    echo "  skipped: this clawpulse has no \`skills\` command"
    return 0
  fi
  local out
  if [ "$DRY" = 1 ]; then
    run "$cp" skills install
    return 0
  fi
  out=$(OPENCLAW_STATE_DIR=$STATE_DIR as_owner "$cp" skills install 2>&1) || say "clawpulse skills install: $out"
  echo "$out" | sed 's/^/  /'
  if grep -qE ': (installed|updated|replaced)' <<<"$out"; then did "installed the skills into $STATE_DIR/skills"; fi
}

# ---------------------------------------------------------------- systemd
path_line() { # PATH for the unit: the clawpulse bin dir and node's
  local nodedir
  nodedir=$(dirname "$(command -v node)")
  echo "Environment=PATH=$(global_bin):$nodedir:/usr/local/bin:/usr/bin:/bin"
}
env_template() { # <unit kind>
  cat <<EOF
# clawpulse settings ($1 unit), one VAR=value a line; see the README's Configuration table.
# Check them with: clawpulse doctor. Apply with: systemctl $([ "$1" = user ] && echo "--user ")restart clawpulse
#MM_URL=https://chat.example.com
#MM_TOKEN=
#DEFAULT_CHANNEL=
#OPENCLAW_STATE_DIR=$STATE_DIR
#HEALTH_PORT=9090
EOF
}
systemd_running() { [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

install_systemd() {
  [ -n "$SYSTEMD" ] || return 0
  local pkg unit
  pkg="$(global_root)/clawpulse"
  [ -d "$pkg/deploy/systemd" ] || pkg=$HERE
  echo "- systemd $SYSTEMD unit"
  local before=${#done_list[@]}
  changed_units=0
  if [ "$SYSTEMD" = user ]; then
    put_file "$USER_UNIT_DIR/clawpulse.service" 0644 "user unit" <"$pkg/deploy/systemd/user/clawpulse.service"
    put_file "$USER_UNIT_DIR/clawpulse.service.d/install.conf" 0644 "unit drop-in" \
      < <(printf '# written by install.sh: the PATH of this install\n[Service]\n%s\n' "$(path_line)")
    [ ${#done_list[@]} -eq "$before" ] || changed_units=1
    [ -f "$USER_ENV" ] || put_file "$USER_ENV" 0600 "settings file" < <(env_template user)
    if command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; then
      if [ "$changed_units" = 1 ] || ! systemctl --user is-enabled --quiet clawpulse.service 2>/dev/null; then
        run systemctl --user daemon-reload
        run systemctl --user enable --now clawpulse.service
        [ "$DRY" = 1 ] || did "enabled and started: systemctl --user enable --now clawpulse"
        next "keep it running after you log out: loginctl enable-linger ${USER:-$(id -un)}"
      else
        echo "  unchanged: clawpulse.service is enabled (systemctl --user restart clawpulse applies new settings)"
      fi
    else
      next "start it: systemctl --user daemon-reload && systemctl --user enable --now clawpulse"
    fi
    next "settings: $USER_ENV, then systemctl --user restart clawpulse; logs: journalctl --user-unit clawpulse"
  else
    [ "$(id -u)" = 0 ] || [ "$DRY" = 1 ] || [ -n "${CLAWPULSE_SYSTEMD_SYSTEM_DIR:-}" ] ||
      die "--systemd system writes $SYSTEMD_SYSTEM_DIR: run it with sudo"
    local who group
    who=${UNIT_USER:-${SUDO_USER:-}}
    [ -n "$who" ] || who=$(stat -c %U "$STATE_DIR" 2>/dev/null || id -un)
    [ "$who" != root ] || say "note: the service will run as root (no --user, no \$SUDO_USER); pass --user <who runs OpenClaw>"
    group=$(id -gn "$who" 2>/dev/null || echo "$who")
    put_file "$SYSTEMD_SYSTEM_DIR/clawpulse.service" 0644 "system unit" <"$pkg/deploy/systemd/system/clawpulse.service"
    put_file "$SYSTEMD_SYSTEM_DIR/clawpulse.service.d/install.conf" 0644 "unit drop-in" < <(
      printf '# written by install.sh: who runs it (the OpenClaw account) and the PATH of this install\n[Service]\nUser=%s\nGroup=%s\nEnvironment=OPENCLAW_STATE_DIR=%s\n%s\n' \
        "$who" "$group" "$STATE_DIR" "$(path_line)"
    )
    [ ${#done_list[@]} -eq "$before" ] || changed_units=1
    [ -f "$ETC_DIR/clawpulse.env" ] || put_file "$ETC_DIR/clawpulse.env" 0640 "settings file" < <(env_template system)
    [ -f "$ETC_DIR/status-watcher.env" ] && echo "  note: $ETC_DIR/status-watcher.env (Live Status) is read too; $ETC_DIR/clawpulse.env wins"
    if systemd_running && [ -z "${CLAWPULSE_SYSTEMD_SYSTEM_DIR:-}" ]; then
      if [ "$changed_units" = 1 ] || ! systemctl is-enabled --quiet clawpulse.service 2>/dev/null; then
        run systemctl daemon-reload
        run systemctl enable --now clawpulse.service
        [ "$DRY" = 1 ] || did "enabled and started: systemctl enable --now clawpulse"
      else
        echo "  unchanged: clawpulse.service is enabled (systemctl restart clawpulse applies new settings)"
      fi
    else
      next "start it: systemctl daemon-reload && systemctl enable --now clawpulse"
    fi
    next "settings: $ETC_DIR/clawpulse.env, then systemctl restart clawpulse; logs: journalctl -u clawpulse"
  fi
}

# ---------------------------------------------------------------- uninstall
uninstall() {
  local cp
  cp="$(global_bin)/clawpulse"
  echo "- the daemon"
  if [ -x "$cp" ] && [ "$DRY" = 0 ]; then "$cp" stop 2>/dev/null | sed 's/^/  /' || true; fi
  echo "- systemd units"
  if [ -f "$USER_UNIT_DIR/clawpulse.service" ]; then
    if command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; then
      run systemctl --user disable --now clawpulse.service || true
    fi
    remove_path "$USER_UNIT_DIR/clawpulse.service" "user unit"
    remove_path "$USER_UNIT_DIR/clawpulse.service.d" "unit drop-in"
    [ "$DRY" = 1 ] || ! command -v systemctl >/dev/null 2>&1 || systemctl --user daemon-reload 2>/dev/null || true
  fi
  if [ -f "$USER_ENV" ]; then
    if [ "$PURGE" = 1 ] || cmp -s <(env_template user) "$USER_ENV"; then
      remove_path "$USER_ENV" "settings file"
      rmdir "$(dirname "$USER_ENV")" 2>/dev/null || true
    else echo "  kept your settings: $USER_ENV (--purge removes it)"; fi
  fi
  if [ -f "$SYSTEMD_SYSTEM_DIR/clawpulse.service" ]; then
    if systemd_running && [ -z "${CLAWPULSE_SYSTEMD_SYSTEM_DIR:-}" ]; then run systemctl disable --now clawpulse.service || true; fi
    remove_path "$SYSTEMD_SYSTEM_DIR/clawpulse.service" "system unit"
    remove_path "$SYSTEMD_SYSTEM_DIR/clawpulse.service.d" "unit drop-in"
  fi
  if [ -f "$ETC_DIR/clawpulse.env" ]; then
    if [ "$PURGE" = 1 ] || cmp -s <(env_template system) "$ETC_DIR/clawpulse.env"; then
      remove_path "$ETC_DIR/clawpulse.env" "settings file"
    else echo "  kept your settings: $ETC_DIR/clawpulse.env (--purge removes it)"; fi
  fi
  echo "- OpenClaw hook and skills"
  if [ -d "$STATE_DIR/hooks/clawpulse" ]; then
    command -v openclaw >/dev/null 2>&1 && { run as_owner openclaw hooks disable clawpulse >/dev/null || true; }
    remove_path "$STATE_DIR/hooks/clawpulse" "hook"
  fi
  local marker dir sum
  for marker in "$STATE_DIR"/skills/*/.clawpulse-skill.json; do
    [ -f "$marker" ] || continue
    dir=$(dirname "$marker")
    sum=$(node -p "require(process.argv[1]).sha256" "$marker" 2>/dev/null || true)
    if [ -f "$dir/SKILL.md" ] && [ "$(sha256sum "$dir/SKILL.md" | cut -d' ' -f1)" = "$sum" ]; then
      remove_path "$dir" "skill $(basename "$dir")"
    else echo "  kept $dir: edited since it was installed"; fi
  done
  echo "- the package"
  if [ -n "$(installed_version)" ]; then
    run npm_g uninstall -g --loglevel=error clawpulse
    [ "$DRY" = 1 ] || did "uninstalled clawpulse from $(global_root)"
  else echo "  not installed in $(global_root)"; fi
  local home=${CLAWPULSE_HOME:-$HOME/.clawpulse}
  if [ -d "$home" ]; then
    if [ "$PURGE" = 1 ]; then remove_path "$home" "store and logs"; else
      echo "  kept the history and logs: $home (--purge removes it)"
    fi
  fi
}

summary() {
  echo
  if [ "$DRY" = 1 ]; then
    say "dry run: nothing was changed"
  elif [ ${#done_list[@]} -eq 0 ]; then
    say "nothing to do: everything was already in place"
  else
    say "done:"
    printf '  - %s\n' "${done_list[@]}"
  fi
  if [ ${#next_list[@]} -gt 0 ]; then
    say "next:"
    printf '  - %s\n' "${next_list[@]}"
  fi
}

check_node
if [ "$UNINSTALL" = 1 ]; then
  say "uninstalling clawpulse"
  uninstall
  summary
  exit 0
fi
say "installing clawpulse"
install_package
install_hook
install_skills
install_systemd
bin=$(global_bin)
case ":$PATH:" in *":$bin:"*) ;; *) next "add $bin to your PATH (the clawpulse, live-status and clawpulse-dispatch commands are there)" ;; esac
next "check the setup: clawpulse doctor"
[ -n "$SYSTEMD" ] || next "start it: clawpulse start --fork (logs: clawpulse logs -f), then open http://127.0.0.1:9090/"
next "Mattermost status boxes: set MM_URL, MM_TOKEN (and DEFAULT_CHANNEL); the plugin: $(global_root)/clawpulse/mattermost-plugin/dist/com.clawpulse.livestatus.tar.gz"
summary
