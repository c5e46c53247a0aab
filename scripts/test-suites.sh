#!/usr/bin/env bash
# `make test`: says what a cold cache will build (scripts/cache-plan.sh), runs each suite as its
# own make target, and ends with a table of each suite's duration and outcome — also when one
# fails (the remaining suites still run, so one run shows every failure; VIRTWORK_TEST_FAIL_FAST=1
# stops at the first). Exits non-zero when any suite failed.
set -uo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
scripts/cache-plan.sh || true
echo

# The suites that time their parts write them here; the budget after the table reads them.
VIRTWORK_TEST_TIMES=$(mktemp -d "${TMPDIR:-/tmp}/virtwork-test-times.XXXXXX")
export VIRTWORK_TEST_TIMES
trap 'rm -rf "$VIRTWORK_TEST_TIMES"' EXIT

names=() secs=() results=()
started=$(date +%s)
failed=0
for suite in "$@"; do
  echo "==> make $suite  ($(date -u +%H:%M:%SZ))"
  t=$(date +%s)
  if [ "$failed" -gt 0 ] && [ "${VIRTWORK_TEST_FAIL_FAST:-}" = 1 ]; then
    names+=("$suite"); secs+=(0); results+=("not run")
    continue
  fi
  if "$MAKE" --no-print-directory "$suite"; then
    result=passed
  else
    result="FAILED (exit $?)"
    failed=$((failed + 1))
  fi
  names+=("$suite"); secs+=($(($(date +%s) - t))); results+=("$result")
  echo "<== make $suite: $result in $(($(date +%s) - t))s"
done

fmt() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }
echo
echo "make test: suite durations"
printf '  %-18s %12s  %s\n' suite duration result
for i in "${!names[@]}"; do
  printf '  %-18s %12s  %s\n' "${names[$i]}" "$(fmt "${secs[$i]}")" "${results[$i]}"
done
printf '  %-18s %12s  %s\n' total "$(fmt $(($(date +%s) - started)))" \
  "$([ "$failed" -eq 0 ] && echo passed || echo "$failed suite(s) FAILED")"
"$(scripts/ensure-node.sh)/node" scripts/test-budget.mjs "$VIRTWORK_TEST_TIMES" || true
[ "$failed" -eq 0 ]
