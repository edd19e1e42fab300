#!/usr/bin/env bash
# The systemd units: a strict check of every line (.ci/systemd-lint.mjs, also where systemd
# cannot run), then systemd-analyze verify of both (any message fails: verify exits 0 on
# unknown keys and bad values) and the system unit's exposure score (systemd-analyze security).
set -euo pipefail
cd "$(dirname "$0")/.."
system_unit=deploy/systemd/system/clawpulse.service
user_unit=deploy/systemd/user/clawpulse.service
node .ci/systemd-lint.mjs "$system_unit" "$user_unit"

if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "systemd-analyze is not installed (Debian package systemd): only the strict check above ran"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --user needs a runtime dir; a container has none
mkdir -m 0700 "$tmp/xdg"
failed=0
verify() { # <label> <args…>
  local label=$1 out rc
  shift
  set +e
  out=$(XDG_RUNTIME_DIR="$tmp/xdg" systemd-analyze "$@" 2>&1)
  rc=$?
  set -e
  if [ "$rc" -ne 0 ] && grep -qE 'Failed to (initialize manager|lookup RuntimeDirectory|connect to bus)|No such device or address|System has not been booted with systemd' <<<"$out"; then
    echo "systemd-analyze $* cannot run here: $(head -1 <<<"$out")"
    echo "  ($label: the strict check above stands in for it)"
    return 0
  fi
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "systemd-analyze $* ($label) says:"
    sed 's/^/  /' <<<"$out"
    failed=1
    return 0
  fi
  echo "systemd-analyze $*: clean ($label)"
}
verify "system unit" verify "$system_unit"
verify "user unit" --user verify "$user_unit"
# exposure 0-10 (lower is safer; systemd calls under 2 "OK"); --threshold is in tenths
set +e
sec=$(systemd-analyze security --offline=true --threshold=25 "$system_unit" 2>&1)
rc=$?
set -e
echo "system unit: $(grep -o 'Overall exposure level.*' <<<"$sec" || echo "$sec" | tail -1)"
if [ "$rc" -ne 0 ]; then
  echo "  the system unit's exposure is above 2.5: it lost some of its hardening"
  failed=1
fi
exit "$failed"
