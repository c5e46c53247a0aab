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
node --test --experimental-strip-types --test-reporter=spec "$@"

