#!/usr/bin/env bash
# `make demo`: what a new user should see in their first minutes, on the embedded local cluster.
# Starts the sandbox (local kube-apiserver + etcd, KubeVirt's virt-api/virt-controller, CDI's
# controller, kube-scheduler, and the node simulator in the background), deploys the default run, waits for it, shows `status` and `history show`,
# cleans up, and stops the sandbox. The trap stops the simulator and the cluster whatever
# happens (Ctrl-C included): nothing is left running. The demo uses a cluster directory and an
# audit database of its own, so a sandbox of yours (`make sandbox`) is never touched.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
export VIRTWORK_CLUSTER_DIR=${VIRTWORK_DEMO_DIR:-$REPO/.cluster-demo}
source "$REPO/test/cluster/lib.sh"
cd "$REPO"
NS=virtwork-demo
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

if [ ! -x "$K8S_BIN/kube-scheduler" ] || [ ! -x "$ETCD_BIN/etcd" ] || [ ! -d "$CRD_DIR" ] ||
  [ ! -x "$KV_DIR/bin/virt-controller" ] || [ ! -x "$CDI_DIR/bin/cdi-controller" ]; then
  echo "demo: the local cluster is not built yet: etcd, kube-apiserver/-scheduler/-controller-manager,"
  echo "demo: KubeVirt's virt-api and virt-controller and CDI's cdi-controller are compiled from source, once, into $CLUSTER_CACHE."
  echo "demo: this cold build takes roughly 25 minutes on a quiet 2-core machine (more under load) and ~8 GB of disk; later demos start in seconds."
fi

sim_pid=
stop_all() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$sim_pid" ] && kill -0 "$sim_pid" 2>/dev/null; then
    kill -TERM "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  bash "$CLUSTER_SRC_DIR/cluster-down.sh" >/dev/null 2>&1 || true
  echo "demo: sandbox stopped (simulator and cluster)"
  exit "$rc"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
mkdir -p "$VIRTWORK_CLUSTER_DIR"
echo "demo: starting the sandbox in $VIRTWORK_CLUSTER_DIR …"
# The full build output goes to up.log; the step lines ("[cluster] building etcd …", "… built in
# 212s") are shown as they come, so a cold build is never minutes of silence.
bash "$CLUSTER_SRC_DIR/cluster-up.sh" 2>&1 | tee "$VIRTWORK_CLUSTER_DIR/up.log" |
  { grep --line-buffered '^\[cluster\]' | sed -u 's/^\[cluster\] /demo:   /' || true; } ||
  { tail -n 40 "$VIRTWORK_CLUSTER_DIR/up.log"; echo "demo: starting the sandbox failed; the whole log: $VIRTWORK_CLUSTER_DIR/up.log" >&2; exit 1; }
node --experimental-strip-types test/cluster/simulator/main.ts --quiet --delay-ms 1000 --dv-delay-ms 2000 \
  --kubeconfig "$VIRTWORK_CLUSTER_DIR/simulator.kubeconfig" 2>"$VIRTWORK_CLUSTER_DIR/simulator.log" &
sim_pid=$!
echo "demo: sandbox up after $(( $(date +%s) - start ))s"

export KUBECONFIG=$VIRTWORK_CLUSTER_DIR/kubeconfig
export VIRTWORK_AUDIT_DB=$VIRTWORK_CLUSTER_DIR/demo-audit.db
rm -f "$VIRTWORK_AUDIT_DB"
# VIRTWORK_CLUSTER_DIR is the cluster scripts' variable, not a virtwork setting.
virtwork() { env -u VIRTWORK_CLUSTER_DIR bin/virtwork "$@"; }

say "virtwork run -n $NS"
virtwork run -n "$NS" --timeout 300
say "virtwork status -n $NS"
virtwork status -n "$NS"
run_id=$(virtwork history -o name --limit 1)
say "virtwork history show ${run_id:0:8}"
virtwork history show "${run_id:0:8}"
say "virtwork cleanup -n $NS --yes --wait --delete-namespace"
virtwork cleanup -n "$NS" --yes --wait --delete-namespace
echo
echo "demo: done in $(( $(date +%s) - start ))s; the instant, cluster-free version is: make plan"
