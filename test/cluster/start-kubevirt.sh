# shellcheck shell=bash
# Sourced by cluster-up.sh (uses its launch/wait_for/alive/api/gen_cert/free_ports, $SERVER $PKI
# $LOGS $CLUSTER_DIR). Installs what virt-operator would (from $KV_DIR/install.json, rendered by
# KubeVirt's own install strategy) and starts KubeVirt's own control plane on 127.0.0.1:
#   virt-api         the admission webhooks, registered with the apiserver exactly as
#                    virt-operator registers them, but called by URL (no Service/kube-proxy here)
#   virt-controller  VM -> VMI -> virt-launcher pod, VM/VMI status, migrations; leader-elected
# Also the fake Nodes (what kubelets register, with what virt-handler's device plugins add) and
# kube-scheduler, which places the launcher pods on them. The simulator plays kubelet and
# virt-handler (test/cluster/simulator/).
KV_NS=kubevirt
KV_INSTALL="$KV_DIR/install.json"
NODE_COUNT=${VIRTWORK_SANDBOX_NODES:-2}
NODE_CPU=${VIRTWORK_SANDBOX_NODE_CPU:-128}
NODE_MEMORY=${VIRTWORK_SANDBOX_NODE_MEMORY:-512Gi}

ns_json() { printf '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"%s"}}' "$1"; }
api POST /api/v1/namespaces "$(ns_json "$KV_NS")" >/dev/null

jq -c '.crds[]' "$KV_INSTALL" | while read -r crd; do
  name=$(jq -r .metadata.name <<<"$crd")
  # virtualmachines/virtualmachineinstances may already be there from kubevirt-crds.json
  api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" >/dev/null 2>&1 && continue
  api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions @- <<<"$crd" >/dev/null ||
    die "could not create CRD $name"
done
wait_for "CRD kubevirts.kubevirt.io" 60 crd_established kubevirts.kubevirt.io
wait_for "CRD virtualmachineinstancemigrations.kubevirt.io" 60 crd_established virtualmachineinstancemigrations.kubevirt.io

# The KubeVirt CR virt-operator would reconcile: its configuration is what virt-api and
# virt-controller read (virt-config takes the CR once its status has a phase).
api POST "/apis/kubevirt.io/v1/namespaces/$KV_NS/kubevirts" "{
  \"apiVersion\":\"kubevirt.io/v1\",\"kind\":\"KubeVirt\",
  \"metadata\":{\"name\":\"kubevirt\",\"namespace\":\"$KV_NS\"},
  \"spec\":{\"certificateRotateStrategy\":{},\"configuration\":{\"developerConfiguration\":{}},
    \"imagePullPolicy\":\"IfNotPresent\",\"workloadUpdateStrategy\":{}}}" >/dev/null
api PATCH "/apis/kubevirt.io/v1/namespaces/$KV_NS/kubevirts/kubevirt/status" "{\"status\":{
  \"phase\":\"Deployed\",\"observedKubeVirtVersion\":\"$KUBEVIRT_VERSION\",\"targetKubeVirtVersion\":\"$KUBEVIRT_VERSION\",
  \"observedKubeVirtRegistry\":\"quay.io/kubevirt\",\"targetKubeVirtRegistry\":\"quay.io/kubevirt\",
  \"defaultArchitecture\":\"amd64\"}}" >/dev/null

# The CA bundle virt-operator publishes (virt-api checks virt-handler's client certificates with it).
CA_JSON=$(jq -Rs . <"$PKI/ca.crt")
api POST "/api/v1/namespaces/$KV_NS/configmaps" "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",
  \"metadata\":{\"name\":\"kubevirt-ca\",\"namespace\":\"$KV_NS\"},\"data\":{\"ca-bundle\":$CA_JSON}}" >/dev/null

# --- fake Nodes: what a kubelet registers, plus virt-handler's device plugins and labels -------
for i in $(seq 1 "$NODE_COUNT"); do
  node=sim-node-$i
  api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$node\",
    \"labels\":{\"kubernetes.io/hostname\":\"$node\",\"kubernetes.io/os\":\"linux\",\"kubernetes.io/arch\":\"amd64\",
      \"kubevirt.io/schedulable\":\"true\",\"cpumanager\":\"false\",\"machine-type.node.kubevirt.io/q35\":\"true\"},
    \"annotations\":{\"kubevirt.io/heartbeat\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}}}" >/dev/null
  res="{\"cpu\":\"$NODE_CPU\",\"memory\":\"$NODE_MEMORY\",\"pods\":\"110\",\"ephemeral-storage\":\"100Gi\",
    \"devices.kubevirt.io/kvm\":\"1k\",\"devices.kubevirt.io/tun\":\"1k\",\"devices.kubevirt.io/vhost-net\":\"1k\"}"
  api PATCH "/api/v1/nodes/$node/status" "{\"status\":{\"capacity\":$res,\"allocatable\":$res,
    \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\",
      \"lastHeartbeatTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\",\"lastTransitionTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}],
    \"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"},{\"type\":\"Hostname\",\"address\":\"$node\"}],
    \"nodeInfo\":{\"architecture\":\"amd64\",\"operatingSystem\":\"linux\",\"kubeletVersion\":\"v$K8S_VERSION\",
      \"containerRuntimeVersion\":\"simulated://1\",\"kernelVersion\":\"\",\"osImage\":\"virtwork sandbox\",
      \"machineID\":\"\",\"systemUUID\":\"\",\"bootID\":\"\",\"kubeProxyVersion\":\"\"}}}" \
    >/dev/null
  # the node lifecycle controller would lift the not-ready taint the apiserver put on registration
  api PATCH "/api/v1/nodes/$node" '{"spec":{"taints":null}}' >/dev/null
done

# --- the kubelets' final delete of terminated pods on the fake nodes (simulator/reaper.ts) ----------
launch reaper "$NODE_DIR/node" --experimental-strip-types "$CLUSTER_SRC_DIR/simulator/reaper.ts" \
  --kubeconfig="$CLUSTER_DIR/simulator.kubeconfig"

# --- kube-scheduler: the real one from the same Kubernetes build --------------------------------
launch scheduler "$K8S_BIN/kube-scheduler" --kubeconfig="$CLUSTER_DIR/kcm.kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --secure-port=0 --v=1

# --- virt-api ------------------------------------------------------------------------------------
gen_cert virt-api virt-api.kubevirt.svc
gen_cert virt-controller virt-controller.kubevirt.svc
read -r VIRT_API_PORT VIRT_API_CONSOLE_PORT VIRT_CONTROLLER_PORT <<<"$(free_ports 3)"
launch virt-api "$KV_DIR/bin/virt-api" --kubeconfig="$CLUSTER_DIR/kubevirt.kubeconfig" \
  --listen=127.0.0.1 --port="$VIRT_API_PORT" --console-server-port="$VIRT_API_CONSOLE_PORT" --subresources-only \
  --tls-cert-file="$PKI/virt-api.crt" --tls-key-file="$PKI/virt-api.key" \
  --handler-cert-file="$PKI/virt-api.crt" --handler-key-file="$PKI/virt-api.key" --v=2
WAIT_PROC=virt-api wait_for virt-api 120 curl -fsS --max-time 2 --cacert "$PKI/ca.crt" \
  "https://127.0.0.1:$VIRT_API_PORT/healthz"

# The webhook configurations virt-operator installs, unchanged but for where the apiserver calls
# them: by URL on loopback instead of through the virt-api Service.
CA_B64=$(base64 -w0 <"$PKI/ca.crt")
to_url='.webhooks |= map(.clientConfig = {url: ("https://127.0.0.1:\($port)" + .clientConfig.service.path), caBundle: $ca})
  | del(.metadata.creationTimestamp) | del(.status)'
register_webhook() { # install.json key, configuration name, API resource
  local w
  w=$(jq -c --arg port "$VIRT_API_PORT" --arg ca "$CA_B64" \
    ".$1[] | select(.metadata.name == \"$2\") | $to_url" "$KV_INSTALL")
  [ -n "$w" ] || die "install.json has no $2"
  api POST "/apis/admissionregistration.k8s.io/v1/$3" @- <<<"$w" >/dev/null || die "could not register $2"
}
register_webhook mutatingWebhookConfigurations virt-api-mutator mutatingwebhookconfigurations
register_webhook validatingWebhookConfigurations virt-api-validator validatingwebhookconfigurations

# --- virt-controller -------------------------------------------------------------------------------
launch virt-controller "$KV_DIR/bin/virt-controller" --kubeconfig="$CLUSTER_DIR/kubevirt.kubeconfig" \
  --listen=127.0.0.1 --port="$VIRT_CONTROLLER_PORT" \
  --launcher-image="quay.io/kubevirt/virt-launcher:$KUBEVIRT_VERSION" \
  --exporter-image="quay.io/kubevirt/virt-exportserver:$KUBEVIRT_VERSION" \
  --prom-cert-file="$PKI/virt-controller.crt" --prom-key-file="$PKI/virt-controller.key" --v=2
lease_held() {
  api GET "/apis/coordination.k8s.io/v1/namespaces/$KV_NS/leases/virt-controller" | jq -e '.spec.holderIdentity // empty'
}
WAIT_PROC=virt-controller wait_for "virt-controller's leader lease" 180 lease_held
