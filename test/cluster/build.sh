#!/usr/bin/env bash
# Builds (or finds in the cache) everything the local test cluster needs:
# etcd, kube-apiserver + kube-controller-manager, the KubeVirt/CDI CRDs and CDI's cdi-controller.
# Cold: tens of minutes on 2 cores (see docs/test-cluster.md); warm: instant.
source "$(dirname "$0")/lib.sh"
start=$(date +%s)
bash "$CLUSTER_SRC_DIR/build-etcd.sh"
bash "$CLUSTER_SRC_DIR/build-k8s.sh"
bash "$CLUSTER_SRC_DIR/gen-crds.sh"
bash "$CLUSTER_SRC_DIR/build-kubevirt.sh"
bash "$CLUSTER_SRC_DIR/build-cdi.sh"
log "build ready in $(( $(date +%s) - start ))s (cache: $CLUSTER_CACHE)"
