#!/usr/bin/env bash
# Installing and running clawpulse the ways its users do, each step timed; every step runs
# (a failing one does not hide the others) and the script fails if any did.
#   .ci/install-checks.sh [step …]      steps: lockfile package systemd node24
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
summary=()
failed=0
for step in "${steps[@]}"; do
  echo "=== install check: $step (${script[$step]})"
  t0=$(date +%s)
  if bash "${script[$step]}"; then status=ok; else status=FAILED; failed=1; fi
  summary+=("$(printf '%-9s %-7s %4d s' "$step" "$status" $(($(date +%s) - t0)))")
done
echo "=== install checks:"
printf '  %s\n' "${summary[@]}"
exit "$failed"
