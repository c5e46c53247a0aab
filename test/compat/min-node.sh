#!/usr/bin/env bash
# The built CLI on the oldest supported Node (engines: >=22.12): version, a dry run, and the
# audit database (node:sqlite is behind a flag on 22.12; the launcher adds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
min_bin="$(VIRTWORK_NODE_VERSION=22.12.0 VIRTWORK_FORCE_PINNED_NODE=1 scripts/ensure-node.sh)"
node="$min_bin/node"
state="$(mktemp -d)"
trap 'rm -rf "$state"' EXIT
pass=0
fail=0
check() {
  local name="$1"; shift
  if "$@"; then pass=$((pass + 1)); echo "ok - $name"; else fail=$((fail + 1)); echo "not ok - $name"; fi
}
check "runs on $("$node" --version)" bash -c "'$node' bin/virtwork version | grep -q 'node v22.12.0'"
check "dry run prints 8 VirtualMachines" bash -c "'$node' bin/virtwork run --dry-run 2>/dev/null | grep -c '^kind: VirtualMachine' | grep -qx 8"
check "audit database opens (history)" bash -c "XDG_STATE_HOME='$state' '$node' bin/virtwork history | grep -q 'No runs recorded'"
check "kube client loads (no cluster configured → exit 2, not a crash)" bash -c "HOME='$state' KUBECONFIG= '$node' bin/virtwork status 2>&1 >/dev/null | grep -q '^Error: no cluster configuration found'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
