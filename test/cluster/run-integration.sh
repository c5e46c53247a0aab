#!/usr/bin/env bash
# `make integration`: starts the local test cluster (unless one is already running, which is
# then reused and left running), runs test/integration/*.test.ts (or the files given), and stops the cluster it
# started, whatever the outcome.
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
export PATH="$("$REPO_ROOT/scripts/ensure-node.sh"):$PATH"

running=
if [ -s "$CLUSTER_DIR/apiserver.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/apiserver.pid")" 2>/dev/null; then running=1; fi
if [ -z "$running" ]; then trap 'bash "$CLUSTER_SRC_DIR/cluster-down.sh"' EXIT; fi
start=$(date +%s)
bash "$CLUSTER_SRC_DIR/cluster-up.sh" >/dev/null
log "cluster ready after $(( $(date +%s) - start ))s"
# verify.test.ts starts a real Prometheus (Debian's package)
"$REPO_ROOT/scripts/install-monitoring-tools.sh" >&2
# Files or globs as arguments run only those (bash test/cluster/run-integration.sh test/integration/x.test.ts).
if [ $# -eq 0 ]; then set -- 'test/integration/**/*.test.ts'; fi
# Under make test, each file's time also goes to the budget table (scripts/test-budget.mjs).
times=()
if [ -n "${VIRTWORK_TEST_TIMES:-}" ]; then
  times=(--test-reporter-destination=stdout --test-reporter=./test/times-reporter.mjs --test-reporter-destination="$VIRTWORK_TEST_TIMES/integration.jsonl")
fi
# One file at a time by default: side by side (VIRTWORK_TEST_IT_CONCURRENCY=3) failed timing asserts at load 12.
node --test --experimental-strip-types --test-concurrency="${VIRTWORK_TEST_IT_CONCURRENCY:-1}" \
  --test-reporter=spec "${times[@]}" "$@"

