#!/usr/bin/env sh
# The image's build and start steps, one script: the Dockerfile RUNs it, and CI runs the same
# steps outside Docker (.ci/docker-steps.sh), so a step that breaks fails CI even where Docker
# cannot run.
#
#   build.sh package <outdir>        in a checkout: install (npm ci), build the daemon, the
#                                    dashboard and the Mattermost plugin, npm pack into <outdir>
#                                    (--no-ci: the dependencies are installed already)
#   build.sh install <tgz> <prefix>  npm install -g the tarball into <prefix>, no dev dependencies
#   build.sh start                   the container's entrypoint: checks, then exec clawpulse start
#   build.sh healthcheck             exit 0 when /health answers 200 (HEALTHCHECK)
set -eu

die() {
  echo "clawpulse-docker: $*" >&2
  exit 1
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
package)
  ci=1
  if [ "${1:-}" = --no-ci ]; then
    ci=0
    shift
  fi
  out=${1:?build.sh package <outdir>}
  mkdir -p "$out"
  # package.json allows better-sqlite3's and esbuild's install scripts (allowScripts);
  # `prepare` builds the daemon and the dashboard
  [ "$ci" = 0 ] || npm ci --no-audit --no-fund
  [ -f dist/cli/main.js ] || npm run build
  npm run build:plugin
  tgz=$(npm pack --ignore-scripts --silent --pack-destination "$out" | tail -1)
  [ -f "$out/$tgz" ] || die "npm pack made no tarball"
  echo "clawpulse-docker: packed $out/$tgz"
  ;;
install)
  tgz=${1:?build.sh install <tgz> <prefix>}
  prefix=${2:?build.sh install <tgz> <prefix>}
  npm install -g --prefix "$prefix" --omit=dev --no-audit --no-fund \
    --allow-scripts=better-sqlite3 "$tgz"
  "$prefix/bin/clawpulse" --version >/dev/null || die "the installed clawpulse does not run"
  # the native module must load here, where it will run
  (cd "$prefix/lib/node_modules/clawpulse" && node -e "new (require('better-sqlite3'))(':memory:').close()") ||
    die "better-sqlite3 does not load"
  echo "clawpulse-docker: installed clawpulse $("$prefix/bin/clawpulse" --version) in $prefix"
  ;;
start)
  # in a container the dashboard must listen beyond loopback, so it needs a token
  export HTTP_HOST="${HTTP_HOST:-0.0.0.0}"
  case "$HTTP_HOST" in
  127.* | localhost | ::1) ;;
  *) [ -n "${DASHBOARD_TOKEN:-}" ] || die "DASHBOARD_TOKEN is required: the dashboard listens on $HTTP_HOST (set DASHBOARD_TOKEN, e.g. openssl rand -hex 24)" ;;
  esac
  state=${OPENCLAW_STATE_DIR:-$HOME/.openclaw}
  [ -d "$state" ] || echo "clawpulse-docker: no OpenClaw state dir at $state (mount it read-only there); following the gateway only" >&2
  home=${CLAWPULSE_HOME:-$HOME/.clawpulse}
  mkdir -p "$home" 2>/dev/null || true
  [ -w "$home" ] || die "$home is not writable by $(id -un) (uid $(id -u)): mount a volume there the user can write"
  exec clawpulse start "$@"
  ;;
healthcheck)
  port=${HEALTH_PORT:-9090}
  exec node -e "
    fetch('http://127.0.0.1:$port/health', { signal: AbortSignal.timeout(4000) })
      .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
  "
  ;;
*)
  sed -n '2,14p' "$0" >&2
  exit 2
  ;;
esac
