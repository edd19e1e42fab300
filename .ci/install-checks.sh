#!/usr/bin/env bash
# Installing and running clawpulse the ways its users do, each step timed; every step runs
# (a failing one does not hide the others) and the script fails if any did.
#   .ci/install-checks.sh [step …]      steps: lockfile systemd package node24
# node24 spends most of its time compiling better-sqlite3 on one core: it runs in the
# background while the other steps run, and its output follows theirs.
set -uo pipefail
cd "$(dirname "$0")/.."
steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(lockfile systemd package node24)

declare -A script=(
  [lockfile]=.ci/lockfile.sh
  [package]=.ci/package-check.sh
  [systemd]=.ci/systemd-verify.sh
  [node24]=.ci/node24.sh
)
t_all=$(date +%s)
summary=()
failed=0
record() { # <step> <rc> <seconds>
  local status=ok
  if [ "$2" -ne 0 ]; then
    status=FAILED
    failed=1
  fi
  summary+=("$(printf '%-9s %-7s %4d s' "$1" "$status" "$3")")
}

bg_step=""
if [ ${#steps[@]} -gt 1 ] && [[ " ${steps[*]} " == *" node24 "* ]]; then
  bg_step=node24
  bg_log=$(mktemp)
  bg_t0=$(date +%s)
  (
    bash "${script[node24]}" >"$bg_log" 2>&1
    echo $? >"$bg_log.rc"
    date +%s >"$bg_log.end"
  ) &
  bg_pid=$!
  echo "=== install check: node24 (${script[node24]}) started in the background"
fi

for step in "${steps[@]}"; do
  [ "$step" = "$bg_step" ] && continue
  echo "=== install check: $step (${script[$step]})"
  t0=$(date +%s)
  bash "${script[$step]}"
  record "$step" $? $(($(date +%s) - t0))
done

if [ -n "$bg_step" ]; then
  wait "$bg_pid"
  echo "=== install check: node24 (${script[node24]}), run in the background:"
  cat "$bg_log"
  record node24 "$(cat "$bg_log.rc" 2>/dev/null || echo 1)" $(($(cat "$bg_log.end") - bg_t0))
  rm -f "$bg_log" "$bg_log.rc" "$bg_log.end"
fi
echo "=== install checks ($(($(date +%s) - t_all)) s in all):"
printf '  %s\n' "${summary[@]}"
exit "$failed"
