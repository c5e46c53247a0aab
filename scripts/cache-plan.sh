#!/usr/bin/env bash
# Prints, before `make test` starts, what a cold cache will make it build and roughly how long
# that takes. Reads only: builds nothing, installs nothing. The estimates are measured on the
# project's 2-core machine (docs/test-cluster.md, docs/guest-test.md); under heavy load (other
# work keeping the load at 10+) count on 2–3× longer.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${VIRTWORK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/virtwork}
# the versions and cache paths of the cluster entries, as the build scripts use them
# shellcheck source=../test/cluster/lib.sh
source test/cluster/lib.sh
GUEST_CACHE=${VIRTWORK_GUEST_CACHE:-$CACHE/guest}
GUEST_KEY="debian-bookworm-$(sha256sum test/guest/boot/build-image.sh | cut -c1-12)"
have() { command -v "$1" >/dev/null 2>&1; }

total=0
rows=()
entry() { # NAME READY(0/1) SECONDS NOTE
  if [ "$2" = 1 ]; then
    rows+=("$(printf '  %-44s %s' "$1" "cached")")
  else
    total=$((total + $3))
    rows+=("$(printf '  %-44s %s' "$1" "to build, ~$(($3 / 60)) min $(($3 % 60)) s  $4")")
  fi
}
ok() { "$@" >/dev/null 2>&1 && echo 1 || echo 0; }

entry "npm dependencies (npm ci)" "$(ok test -f node_modules/.virtwork-installed)" 60 ""
entry "Node 22.12.0 for the compat suite" "$(ok test -x "$CACHE/node/22.12.0-linux-$( [ "$(uname -m)" = aarch64 ] && echo arm64 || echo x64)/bin/node")" 20 "(npm pack)"
gomod=0; [ -d "$(go env GOMODCACHE 2>/dev/null || echo "$HOME/go/pkg/mod")/k8s.io" ] 2>/dev/null && gomod=1
note=""; [ "$gomod" = 0 ] && note="(Go module + build caches empty: downloads included)"
entry "cluster: etcd $ETCD_VERSION" "$(ok test -x "$ETCD_BIN/etcd")" 91 "$note"
entry "cluster: kube-apiserver + kcm + kube-scheduler v$K8S_VERSION" "$(ok test -x "$K8S_BIN/kube-scheduler")" 620 "$note"
entry "cluster: KubeVirt $KUBEVIRT_VERSION + CDI $CDI_VERSION CRDs" "$(ok test -s "$CRD_DIR/cdi-crds.json")" 140 "$note"
entry "cluster: KubeVirt $KUBEVIRT_VERSION virt-api + virt-controller" "$(ok test -x "$KV_DIR/bin/virt-controller" -a -s "$KV_DIR/install.json")" 230 "$note"
entry "cluster: CDI $CDI_VERSION cdi-controller" "$(ok test -x "$CDI_DIR/bin/cdi-controller")" 420 "$note"
entry "guest disk $GUEST_KEY" "$(ok test -f "$GUEST_CACHE/$GUEST_KEY/ready")" 140 "(mmdebstrap)"
# The accelerator verdict is keyed by machine, qemu and guest kernel (test/guest/boot/qemu.ts);
# any verdict in the cache means this machine has probed at least once.
entry "guest accelerator verdict (KVM probe)" "$(ok compgen -G "$GUEST_CACHE/accel-*.json")" 35 "(once per machine)"
tools=1; for t in cloud-init shellcheck systemd-analyze mkfs.xfs qemu-system-x86_64 genisoimage mmdebstrap; do have "$t" || tools=0; done
entry "guest tools, qemu, mmdebstrap (apt-get)" "$tools" 90 ""
entry "PostgreSQL for the audit suite (apt-get)" "$(ok compgen -G "/usr/lib/postgresql/*/bin/initdb")" 60 ""
entry "Prometheus + promtool for monitoring (apt-get)" "$(ok have promtool)" 30 ""

echo "make test: what this machine's cache still needs (estimates for a quiet 2-core machine):"
printf '%s\n' "${rows[@]}"
if [ "$total" -eq 0 ]; then
  echo "  → cache warm: nothing to build; the suites take ~40 min on a quiet 2-core machine (guest-test ~25 of them), 65+ min with other work beside them"
else
  echo "  → cold part: ~$(( (total + 59) / 60 )) min before/inside the suites (2–3× under heavy load), then ~40 min of suites (65+ under load)"
fi
