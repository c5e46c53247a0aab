#!/usr/bin/env bash
# Starts the local test cluster: etcd + kube-apiserver (TLS, RBAC, static tokens) +
# kube-controller-manager (namespace, garbage-collector and resourcequota controllers only), installs the
# real KubeVirt/CDI CRDs, starts KubeVirt's virt-api + virt-controller, kube-scheduler and fake
# Nodes (start-kubevirt.sh) and CDI's cdi-controller (start-cdi.sh), and writes kubeconfigs under
# $CLUSTER_DIR (default: <repo>/.cluster).
#
# Idempotent: when a healthy cluster already runs from $CLUSTER_DIR it is reused; stale
# state (dead processes) is cleaned first. Ports are picked free at start, so two clones (or
# two $VIRTWORK_CLUSTER_DIR) can run side by side. Everything listens on 127.0.0.1 only.
source "$(dirname "$0")/lib.sh"
ensure_pkgs jq:jq openssl:openssl curl:curl flock:util-linux
bash "$CLUSTER_SRC_DIR/build.sh"

mkdir -p "$CLUSTER_DIR"
exec 9>"$CLUSTER_DIR/.lock"
flock -w 300 9 || die "another cluster-up/down holds $CLUSTER_DIR/.lock"

NODE_DIR=$("$REPO_ROOT/scripts/ensure-node.sh")
PKI="$CLUSTER_DIR/pki"
LOGS="$CLUSTER_DIR/logs"
STATE="$CLUSTER_DIR/cluster.json"

alive() { [ -s "$CLUSTER_DIR/$1.pid" ] && kill -0 "$(cat "$CLUSTER_DIR/$1.pid")" 2>/dev/null; }

print_usage() {
  local server; server=$(jq -r .server "$STATE")
  cat <<EOF

Local test cluster is up: $server  (kube-apiserver v$K8S_VERSION, etcd $ETCD_VERSION,
KubeVirt $KUBEVIRT_VERSION virt-api + virt-controller, CDI $CDI_VERSION cdi-controller, kube-scheduler;
fake nodes sim-node-*: launcher pods start and VMIs run only while the node simulator runs)

  export KUBECONFIG=$CLUSTER_DIR/kubeconfig     # contexts: admin (default), limited
  kubectl get vm -A                             # if kubectl is installed
  bin/virtwork run --kubeconfig $CLUSTER_DIR/kubeconfig ...

  $CLUSTER_DIR/admin.kubeconfig    cluster-admin (system:masters)
  $CLUSTER_DIR/limited.kubeconfig  user virtwork-limited: edits VMs, VMIs, DataVolumes, Secrets,
                                   Services only in namespace $(jq -r .limitedNamespace "$STATE"); 403 elsewhere
  make sandbox       runs the node simulator (kubelet + virt-handler) in the foreground (VMs reach Running)
  make cluster-down  stops everything
EOF
}

if alive apiserver && alive etcd && curl -fsS --max-time 5 --cacert "$PKI/ca.crt" \
    "$(jq -r .server "$STATE" 2>/dev/null)/readyz" >/dev/null 2>&1; then
  log "reusing the running cluster in $CLUSTER_DIR"
  print_usage
  exit 0
fi
if ls "$CLUSTER_DIR"/*.pid >/dev/null 2>&1; then
  log "cleaning stale cluster state"
  VIRTWORK_CLUSTER_LOCKED=1 bash "$CLUSTER_SRC_DIR/cluster-down.sh"
fi

# From here on a failure stops whatever was already started: no half-started cluster is left.
started_ok=
cleanup_on_failure() {
  if [ -z "$started_ok" ]; then
    log "start failed; stopping what was started (logs kept in $LOGS)"
    VIRTWORK_CLUSTER_LOCKED=1 bash "$CLUSTER_SRC_DIR/cluster-down.sh" || true
  fi
}
trap cleanup_on_failure EXIT

start=$(date +%s)
rm -rf "$PKI" "$LOGS" "$STATE" "$CLUSTER_DIR"/*.kubeconfig "$CLUSTER_DIR/kubeconfig" "$CLUSTER_DIR/tokens.csv"
mkdir -p "$PKI" "$LOGS"

# --- PKI: own CA, apiserver serving cert, SA key, and a serving cert for test webhooks -------
gen_cert() { # name CN
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$PKI/$1.key" -out "$PKI/$1.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$PKI/$1.ext"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 30 -extfile "$PKI/$1.ext" -out "$PKI/$1.crt" 2>/dev/null
  rm -f "$PKI/$1.csr" "$PKI/$1.ext"
}
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=virtwork-test-ca \
  -keyout "$PKI/ca.key" -out "$PKI/ca.crt" 2>/dev/null
gen_cert apiserver kube-apiserver
gen_cert webhook virtwork-test-webhook
# the front-proxy client identity: the apiserver's requestheader settings land in kube-system's
# extension-apiserver-authentication ConfigMap, which virt-api needs to start
openssl req -newkey rsa:2048 -nodes -subj "/CN=front-proxy-client" -keyout "$PKI/front-proxy-client.key" \
  -out "$PKI/front-proxy-client.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$PKI/front-proxy-client.ext"
openssl x509 -req -in "$PKI/front-proxy-client.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 30 -extfile "$PKI/front-proxy-client.ext" -out "$PKI/front-proxy-client.crt" 2>/dev/null
rm -f "$PKI/front-proxy-client.csr" "$PKI/front-proxy-client.ext"
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
chmod 600 "$PKI"/*.key

ADMIN_TOKEN=$(openssl rand -hex 16)
LIMITED_TOKEN=$(openssl rand -hex 16)
SIMULATOR_TOKEN=$(openssl rand -hex 16)
KCM_TOKEN=$(openssl rand -hex 16)
KUBEVIRT_TOKEN=$(openssl rand -hex 16)
cat >"$CLUSTER_DIR/tokens.csv" <<EOF
$ADMIN_TOKEN,virtwork-admin,uid-admin,"system:masters"
$LIMITED_TOKEN,virtwork-limited,uid-limited,"virtwork:limited"
$SIMULATOR_TOKEN,system:serviceaccount:kubevirt:kubevirt-handler,uid-simulator,"system:masters"
$KCM_TOKEN,system:kube-controller-manager,uid-kcm,"system:masters"
$KUBEVIRT_TOKEN,system:serviceaccount:kubevirt:kubevirt-controller,uid-kubevirt,"system:masters"
EOF
chmod 600 "$CLUSTER_DIR/tokens.csv"

# --- ports: free ones, picked by the kernel ------------------------------------------------
free_ports() { # n
  "$NODE_DIR/node" -e '
    const net = require("node:net"); const n = Number(process.argv[1]); const got = []; const srv = [];
    const next = () => { if (got.length === n) { srv.forEach((s) => s.close()); console.log(got.join(" ")); return; }
      const s = net.createServer(); srv.push(s); s.listen(0, "127.0.0.1", () => { got.push(s.address().port); next(); }); };
    next();' "$1"
}
read -r ETCD_PORT PEER_PORT API_PORT <<<"$(free_ports 3)"
SERVER="https://127.0.0.1:$API_PORT"

# --- etcd ------------------------------------------------------------------------------------
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  DATA_DIR=$(mktemp -d /dev/shm/virtwork-etcd.XXXXXX)
else
  DATA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/virtwork-etcd.XXXXXX")
fi
echo "$DATA_DIR" >"$CLUSTER_DIR/etcd.datadir"

launch() { # name cmd...  (own session so make/ctrl-c of the caller does not kill it)
  local name=$1; shift
  setsid "$@" >"$LOGS/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$CLUSTER_DIR/$name.pid"
}
wait_for() { # what seconds cmd...   (fails at once when the process named by $WAIT_PROC died)
  local what=$1 secs=$2; shift 2
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    if [ -n "${WAIT_PROC:-}" ] && ! alive "$WAIT_PROC"; then
      tail -n 20 "$LOGS/$WAIT_PROC.log" >&2 || true
      die "$WAIT_PROC exited while waiting for $what; see $LOGS/$WAIT_PROC.log"
    fi
    sleep 0.5
  done
  die "$what did not become ready in ${secs}s; see $LOGS"
}

launch etcd "$ETCD_BIN/etcd" --name=virtwork --data-dir="$DATA_DIR" \
  --listen-client-urls="http://127.0.0.1:$ETCD_PORT" --advertise-client-urls="http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls="http://127.0.0.1:$PEER_PORT" --initial-advertise-peer-urls="http://127.0.0.1:$PEER_PORT" \
  --initial-cluster="virtwork=http://127.0.0.1:$PEER_PORT" --unsafe-no-fsync --log-level=warn
WAIT_PROC=etcd wait_for etcd 60 curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_PORT/health"

# --- kube-apiserver --------------------------------------------------------------------------
launch apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers="http://127.0.0.1:$ETCD_PORT" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$API_PORT" \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$PKI/sa.key" --service-account-signing-key-file="$PKI/sa.key" \
  --service-cluster-ip-range=10.96.0.0/16 \
  --token-auth-file="$CLUSTER_DIR/tokens.csv" --authorization-mode=RBAC \
  --endpoint-reconciler-type=none \
  --requestheader-client-ca-file="$PKI/ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --disable-admission-plugins=ServiceAccount \
  --profiling=false --v=1
WAIT_PROC=apiserver wait_for kube-apiserver 120 curl -fsS --max-time 2 --cacert "$PKI/ca.crt" "$SERVER/readyz"

api() { # method path [json-body]
  local args=(-sS --fail-with-body --max-time 30 --cacert "$PKI/ca.crt" -H "Authorization: Bearer $ADMIN_TOKEN"
    -H "Content-Type: application/$([ "$1" = PATCH ] && echo merge-patch+)json" -X "$1" "$SERVER$2")
  if [ $# -ge 3 ]; then curl "${args[@]}" --data-binary "$3"; else curl "${args[@]}"; fi
}

# --- CRDs ------------------------------------------------------------------------------------
for f in "$CRD_DIR/kubevirt-crds.json" "$CRD_DIR/cdi-crds.json"; do
  jq -c '.[]' "$f" | while read -r crd; do
    api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions @- <<<"$crd" >/dev/null ||
      die "could not create CRD $(jq -r .metadata.name <<<"$crd")"
  done
done
crd_established() {
  api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$1" |
    jq -e '.status.conditions[]? | select(.type=="Established" and .status=="True")'
}
for crd in virtualmachines.kubevirt.io virtualmachineinstances.kubevirt.io datavolumes.cdi.kubevirt.io; do
  wait_for "CRD $crd" 60 crd_established "$crd"
done
wait_for "kubevirt.io/v1 discovery" 60 bash -c \
  "curl -fsS --cacert '$PKI/ca.crt' -H 'Authorization: Bearer $ADMIN_TOKEN' '$SERVER/apis/kubevirt.io/v1' | jq -e '.resources[]|select(.name==\"virtualmachines\")'"

# --- RBAC for the namespace-limited identity --------------------------------------------------
LIMITED_NS=virtwork-limited
api POST /apis/rbac.authorization.k8s.io/v1/clusterroles '{
  "apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole",
  "metadata":{"name":"virtwork-limited"},
  "rules":[
    {"apiGroups":["kubevirt.io"],"resources":["virtualmachines","virtualmachineinstances"],"verbs":["*"]},
    {"apiGroups":["cdi.kubevirt.io"],"resources":["datavolumes"],"verbs":["*"]},
    {"apiGroups":[""],"resources":["secrets","services","configmaps"],"verbs":["*"]}
  ]}' >/dev/null
api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$LIMITED_NS\"}}" >/dev/null
api POST "/apis/rbac.authorization.k8s.io/v1/namespaces/$LIMITED_NS/rolebindings" '{
  "apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding",
  "metadata":{"name":"virtwork-limited"},
  "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"virtwork-limited"},
  "subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"virtwork-limited"}]}' >/dev/null

# --- kubeconfigs -----------------------------------------------------------------------------
CA_DATA=$(base64 -w0 <"$PKI/ca.crt")
kubeconfig() { # file user:token...
  local file=$1; shift
  {
    echo "apiVersion: v1"
    echo "kind: Config"
    echo "clusters:"
    echo "- name: virtwork-test"
    echo "  cluster: {server: \"$SERVER\", certificate-authority-data: \"$CA_DATA\"}"
    echo "users:"
    for ut in "$@"; do echo "- {name: ${ut%%:*}, user: {token: \"${ut#*:}\"}}"; done
    echo "contexts:"
    for ut in "$@"; do
      local ns=default; [ "${ut%%:*}" = limited ] && ns=$LIMITED_NS
      echo "- {name: ${ut%%:*}, context: {cluster: virtwork-test, user: ${ut%%:*}, namespace: $ns}}"
    done
    local first=$1
    echo "current-context: ${first%%:*}"
  } >"$file"
  chmod 600 "$file"
}
kubeconfig "$CLUSTER_DIR/kubeconfig" "admin:$ADMIN_TOKEN" "limited:$LIMITED_TOKEN"
kubeconfig "$CLUSTER_DIR/admin.kubeconfig" "admin:$ADMIN_TOKEN"
kubeconfig "$CLUSTER_DIR/limited.kubeconfig" "limited:$LIMITED_TOKEN"
kubeconfig "$CLUSTER_DIR/simulator.kubeconfig" "simulator:$SIMULATOR_TOKEN"
kubeconfig "$CLUSTER_DIR/kcm.kubeconfig" "kcm:$KCM_TOKEN"
kubeconfig "$CLUSTER_DIR/kubevirt.kubeconfig" "kubevirt:$KUBEVIRT_TOKEN"

# --- kube-controller-manager: namespace finalization, ownerReference GC, ResourceQuota usage ---
launch kcm "$K8S_BIN/kube-controller-manager" --kubeconfig="$CLUSTER_DIR/kcm.kubeconfig" \
  --controllers=namespace-controller,garbage-collector-controller,resourcequota-controller \
  --leader-elect=false --use-service-account-credentials=false \
  --bind-address=127.0.0.1 --secure-port=0 --v=1
sleep 1
alive kcm || die "kube-controller-manager exited; see $LOGS/kcm.log"
# shellcheck source=start-cdi.sh
source "$CLUSTER_SRC_DIR/start-cdi.sh"

# --- KubeVirt's own control plane (virt-api, virt-controller), kube-scheduler, fake Nodes --------
# shellcheck source=start-kubevirt.sh
source "$CLUSTER_SRC_DIR/start-kubevirt.sh"

jq -n --arg server "$SERVER" --arg dir "$CLUSTER_DIR" --arg ca "$PKI/ca.crt" \
  --argjson apiPort "$API_PORT" --argjson etcdPort "$ETCD_PORT" --arg limitedNs "$LIMITED_NS" \
  --arg k8s "$K8S_VERSION" --arg etcd "$ETCD_VERSION" --arg kv "$KUBEVIRT_VERSION" --arg cdi "$CDI_VERSION" '{
  server: $server, apiPort: $apiPort, etcdPort: $etcdPort, caFile: $ca, limitedNamespace: $limitedNs,
  kubeconfig: ($dir + "/kubeconfig"), adminKubeconfig: ($dir + "/admin.kubeconfig"),
  limitedKubeconfig: ($dir + "/limited.kubeconfig"), simulatorKubeconfig: ($dir + "/simulator.kubeconfig"),
  webhookCert: ($dir + "/pki/webhook.crt"), webhookKey: ($dir + "/pki/webhook.key"),
  versions: {kubernetes: $k8s, etcd: $etcd, kubevirt: $kv, cdi: $cdi}}' >"$STATE.tmp"
mv "$STATE.tmp" "$STATE"
printf 'export KUBECONFIG=%q\n' "$CLUSTER_DIR/kubeconfig" >"$CLUSTER_DIR/env"
started_ok=1
log "cluster started in $(( $(date +%s) - start ))s"
print_usage
