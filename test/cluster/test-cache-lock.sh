#!/usr/bin/env bash
# `make cache-lock-test`: the shared cache under a second builder (scripts/cache-entry.sh).
#
#  1. an interrupted build leaves nothing: a cold etcd build into a fresh cache is stopped with
#     TERM in the middle of `go build`; afterwards there is no entry and no temp dir;
#  2. two cold builds at once both succeed: two `build.sh` (etcd, kube-apiserver +
#     kube-controller-manager, CRDs) and two `ensure-node.sh` (pinned Node) start together
#     against one FRESH cache directory; both exit 0, every entry is complete, no temp dir is
#     left, and for each entry the second builder logged that it waited and reused the first's.
#
# Cost: the Go module and build caches are shared with the real cache, so once they are warm
# (after one `make cluster-build`) a "cold" entry is mostly linking: a few minutes on 2 cores.
# Node is unpacked from the npm registry (~30 MB).
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"

root=$(mktemp -d "${TMPDIR:-/tmp}/virtwork-cache-lock.XXXXXX")
trap 'rm -rf "$root"' EXIT
fail=0
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; fail=1; }
leftovers() { find "$1" -name '*.tmp.*' -printf '%P\n' 2>/dev/null; }

if [ ! -x "$ETCD_BIN/etcd" ] || [ ! -x "$K8S_BIN/kube-apiserver" ]; then
  log "note: the shared cache is not built yet; this test then compiles everything (tens of minutes)"
fi

# --- 1. interrupted build --------------------------------------------------------------------
c1="$root/interrupted"
entry1="$c1/cluster/etcd-$ETCD_VERSION/bin"
setsid env VIRTWORK_CACHE="$c1" bash test/cluster/build-etcd.sh >"$root/int.log" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
  pgrep -s "$pid" -f 'go build' >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.5
done
if pgrep -s "$pid" -f 'go build' >/dev/null 2>&1; then
  tmpdirs=$(leftovers "$c1")
  kill -TERM -- "-$pid"
  rc=0; wait "$pid" || rc=$?
  # the process group: wait until every process of the build is gone
  for _ in $(seq 1 60); do pgrep -s "$pid" >/dev/null 2>&1 || break; sleep 0.5; done
  echo "# interrupted during go build (temp dir then: ${tmpdirs:-none}); exit $rc"
  [ "$rc" -ne 0 ] && ok "interrupted build exits non-zero ($rc)" || bad "interrupted build exited 0"
  [ ! -e "$entry1" ] && ok "no entry after the interrupted build" || bad "entry $entry1 exists after an interrupted build"
  left=$(leftovers "$c1")
  [ -z "$left" ] && ok "no temp dir left after the interrupted build" || bad "temp dirs left: $left"
  grep -q 'build stopped' "$root/int.log" && ok "the build said it stopped and left nothing" ||
    bad "no 'build stopped' line in the log: $(tail -n 5 "$root/int.log")"
else
  wait "$pid" || true
  bad "the etcd build never reached go build: $(tail -n 20 "$root/int.log")"
fi

# --- 2. two cold builds at once --------------------------------------------------------------
c2="$root/shared"
start=$(date +%s)
for i in 1 2; do
  (
    rc=0
    VIRTWORK_CACHE="$c2" bash test/cluster/build.sh >"$root/build$i.log" 2>&1 || rc=$?
    echo "$rc" >"$root/build$i.rc"
  ) &
  (
    rc=0
    VIRTWORK_CACHE="$c2" VIRTWORK_FORCE_PINNED_NODE=1 scripts/ensure-node.sh >"$root/node$i.out" 2>"$root/node$i.log" || rc=$?
    echo "$rc" >"$root/node$i.rc"
  ) &
done
wait
echo "# two builds at once into $c2: $(($(date +%s) - start))s"
for i in 1 2; do
  [ "$(cat "$root/build$i.rc")" = 0 ] && ok "cluster build $i exits 0" ||
    bad "cluster build $i exited $(cat "$root/build$i.rc"): $(tail -n 20 "$root/build$i.log")"
  [ "$(cat "$root/node$i.rc")" = 0 ] && ok "ensure-node $i exits 0 ($(cat "$root/node$i.out"))" ||
    bad "ensure-node $i exited $(cat "$root/node$i.rc"): $(tail -n 20 "$root/node$i.log")"
done
cl="$c2/cluster"
[ -x "$cl/etcd-$ETCD_VERSION/bin/etcd" ] && ok "etcd entry complete" || bad "no etcd"
[ -x "$cl/k8s-$K8S_VERSION/bin/kube-apiserver" ] && [ -x "$cl/k8s-$K8S_VERSION/bin/kube-controller-manager" ] &&
  [ -x "$cl/k8s-$K8S_VERSION/bin/kube-scheduler" ] &&
  ok "kube-apiserver + kube-controller-manager + kube-scheduler entry complete" || bad "k8s entry incomplete"
kv="$cl/$(basename "$KV_DIR")"
[ -x "$kv/bin/virt-api" ] && [ -x "$kv/bin/virt-controller" ] && jq -e '.crds | length > 10' "$kv/install.json" >/dev/null &&
  ok "KubeVirt virt-api + virt-controller entry complete" || bad "KubeVirt entry incomplete"
crd="$cl/$(basename "$CRD_DIR")"
jq -e 'length > 0' "$crd/kubevirt-crds.json" >/dev/null && jq -e 'length > 0' "$crd/cdi-crds.json" >/dev/null &&
  ok "CRD entry complete" || bad "CRD entry incomplete"
[ -x "$cl/$(basename "$CDI_DIR")/bin/cdi-controller" ] && jq -e '.crds | length > 1' "$cl/$(basename "$CDI_DIR")/install.json" >/dev/null &&
  ok "cdi-controller entry complete" || bad "cdi-controller entry incomplete"
nodebin=$(cat "$root/node1.out" 2>/dev/null)
[ -n "$nodebin" ] && "$nodebin/node" -e 0 && ok "pinned Node runs ($("$nodebin/node" --version))" || bad "pinned Node does not run"
left=$(leftovers "$c2")
[ -z "$left" ] && ok "no temp dir left in the shared cache" || bad "temp dirs left: $left"
# Each entry was built once: one builder built it, the other waited and reused it.
for e in "etcd-$ETCD_VERSION/bin" "k8s-$K8S_VERSION/bin" "$(basename "$CRD_DIR")" "$(basename "$KV_DIR")" "$(basename "$CDI_DIR")"; do
  # whole names only: "cdi-v1.65.0" is also the tail of the CRD entry's name
  reused=$(cat "$root"/build?.log | awk -v e="$e: reusing" 'index($0, "] " e) || index($0, "/" e)' | wc -l)
  [ "$reused" = 1 ] && ok "$e: built once, the other build waited and reused it" ||
    bad "$e: 'reusing' logged $reused times (expected 1)"
done
reused=$(cat "$root"/node?.log | grep -c ': reusing' || true)
[ "$reused" = 1 ] && ok "Node: unpacked once, the other waited and reused it" || bad "Node: 'reusing' logged $reused times"
echo "# lock and reuse lines:"
grep -h '^\[cache\]' "$root"/build?.log "$root"/node?.log | sed 's/^/#   /'
[ "$fail" -eq 0 ] && echo "cache lock test: passed" || echo "cache lock test: FAILED"
exit "$fail"
