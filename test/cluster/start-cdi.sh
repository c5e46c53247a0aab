# shellcheck shell=bash
# Sourced by cluster-up.sh after kube-controller-manager is launched (never executed): installs
# what CDI's operator would and starts CDI's real cdi-controller (build-cdi.sh) on loopback.
#
#   * every CDI CRD from $CDI_DIR/install.json (created, or replaced where gen-crds' DataVolume
#     CRD is already there: install.json is the authority, rendered by the same CDI version)
#   * namespace cdi, the CDI CR `cdi`, and the ConfigMap cdi-config owned by it (the operator's
#     createOperatorConfig; cdi-controller makes CDIConfig `config` owned through it)
#   * StorageClass `standard` (default class, provisioner sandbox.virtwork.io/provisioner: no
#     CSIDriver of that name exists, so CDI takes its legacy non-populator path: PVC + importer
#     pod) and its StorageProfile with one claim property set (RWO, Filesystem), as an admin sets
#     for a provisioner CDI does not know; CDI fills in the status
#   * kube-controller-manager's PV binder and PVC/PV protection controllers, in a second KCM
#     process (kcm-storage): CDI's PVCs carry the kubernetes.io/pvc-protection finalizer, which
#     only that controller removes, so without it no namespace holding one finishes deleting
#   * cdi-controller with the container args and env of the operator's Deployment, as
#     system:masters (client certificate from our CA), leader election in namespace cdi; ready
#     when it holds its lease and has made CDIConfig `config`
#
# Uses cluster-up's launch, wait_for, alive, api, free_ports, die, log and $SERVER $PKI $LOGS
# $CLUSTER_DIR $CDI_DIR. What runs no code here (provisioner, kubelet) is
# test/cluster/simulator/storage.ts.

CDI_START=$(date +%s)
CDI_NS=cdi
CDI_STORAGE_CLASS=standard
CDI_PROVISIONER=sandbox.virtwork.io/provisioner
CDI_RUN="$CLUSTER_DIR/cdi"
mkdir -p "$CDI_RUN"

# --- CRDs -----------------------------------------------------------------------------------
cdi_apply_crd() { # crd-json
  local name cur rv
  name=$(jq -r .metadata.name <<<"$1")
  if cur=$(api GET "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" 2>/dev/null); then
    rv=$(jq -r .metadata.resourceVersion <<<"$cur")
    jq -c --arg rv "$rv" '.metadata.resourceVersion = $rv' <<<"$1" |
      api PUT "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" @- >/dev/null ||
      die "could not replace CRD $name"
  else
    api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions @- <<<"$1" >/dev/null ||
      die "could not create CRD $name"
  fi
}
jq -c '.crds[] | del(.status) | del(.metadata.creationTimestamp)' "$CDI_DIR/install.json" |
  while read -r crd; do cdi_apply_crd "$crd"; done
for crd in $(jq -r '.crds[].metadata.name' "$CDI_DIR/install.json"); do
  wait_for "CRD $crd" 60 crd_established "$crd"
done

# --- what the operator creates ---------------------------------------------------------------
api POST /api/v1/namespaces "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$CDI_NS\"}}" >/dev/null
CDI_CR_UID=$(api POST /apis/cdi.kubevirt.io/v1beta1/cdis '{
  "apiVersion":"cdi.kubevirt.io/v1beta1","kind":"CDI","metadata":{"name":"cdi"},
  "spec":{}}' | jq -r .metadata.uid)
api POST "/api/v1/namespaces/$CDI_NS/configmaps" "{
  \"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",
  \"metadata\":{\"name\":\"cdi-config\",\"labels\":{\"operator.cdi.kubevirt.io\":\"\"},
    \"ownerReferences\":[{\"apiVersion\":\"cdi.kubevirt.io/v1beta1\",\"kind\":\"CDI\",\"name\":\"cdi\",
      \"uid\":\"$CDI_CR_UID\",\"controller\":true,\"blockOwnerDeletion\":true}]}}" >/dev/null

# --- sandbox storage ---------------------------------------------------------------------------
api POST /apis/storage.k8s.io/v1/storageclasses "{
  \"apiVersion\":\"storage.k8s.io/v1\",\"kind\":\"StorageClass\",
  \"metadata\":{\"name\":\"$CDI_STORAGE_CLASS\",
    \"annotations\":{\"storageclass.kubernetes.io/is-default-class\":\"true\"}},
  \"provisioner\":\"$CDI_PROVISIONER\",\"reclaimPolicy\":\"Delete\",\"volumeBindingMode\":\"Immediate\"}" >/dev/null
api POST /apis/cdi.kubevirt.io/v1beta1/storageprofiles "{
  \"apiVersion\":\"cdi.kubevirt.io/v1beta1\",\"kind\":\"StorageProfile\",
  \"metadata\":{\"name\":\"$CDI_STORAGE_CLASS\"},
  \"spec\":{\"claimPropertySets\":[{\"accessModes\":[\"ReadWriteOnce\"],\"volumeMode\":\"Filesystem\"}]}}" >/dev/null

# PV binding and the PVC/PV protection finalizers: kube-controller-manager's own controllers.
launch kcm-storage "$K8S_BIN/kube-controller-manager" --kubeconfig="$CLUSTER_DIR/kcm.kubeconfig" \
  --controllers=persistentvolume-binder-controller,persistentvolumeclaim-protection-controller,persistentvolume-protection-controller \
  --leader-elect=false --use-service-account-credentials=false \
  --bind-address=127.0.0.1 --secure-port=0 --v=1

# --- cdi-controller --------------------------------------------------------------------------
# Identity: a client certificate (CN as CDI's service account, group system:masters), so the
# fault injector, which never denies system:* users, leaves CDI alone as it does KCM.
openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=system:serviceaccount:$CDI_NS:cdi-sa" \
  -keyout "$PKI/cdi-controller.key" -out "$PKI/cdi-controller.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' >"$PKI/cdi-controller.ext"
openssl x509 -req -in "$PKI/cdi-controller.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
  -days 30 -extfile "$PKI/cdi-controller.ext" -out "$PKI/cdi-controller.crt" 2>/dev/null
rm -f "$PKI/cdi-controller.csr" "$PKI/cdi-controller.ext"
chmod 600 "$PKI/cdi-controller.key"
cat >"$CLUSTER_DIR/cdi.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: virtwork-test
  cluster: {server: "$SERVER", certificate-authority-data: "$(base64 -w0 <"$PKI/ca.crt")"}
users:
- name: cdi-controller
  user: {client-certificate-data: "$(base64 -w0 <"$PKI/cdi-controller.crt")", client-key-data: "$(base64 -w0 <"$PKI/cdi-controller.key")"}
contexts:
- {name: cdi, context: {cluster: virtwork-test, user: cdi-controller, namespace: $CDI_NS}}
current-context: cdi
EOF
chmod 600 "$CLUSTER_DIR/cdi.kubeconfig"

# The clone-token key pair the operator keeps in Secret cdi-api-signing-key (mounted in the pod
# at /var/run/cdi/token/keys); read once at start, used only for clones.
openssl genrsa -out "$CDI_RUN/id_rsa" 2048 2>/dev/null
openssl rsa -in "$CDI_RUN/id_rsa" -pubout -out "$CDI_RUN/id_rsa.pub" 2>/dev/null
chmod 600 "$CDI_RUN/id_rsa"

# Env and args of the operator's Deployment: literal values as they are; the two valueFrom
# entries (INSTALLER_PART_OF_LABEL / INSTALLER_VERSION_LABEL: the pod's app.kubernetes.io labels,
# copied from the CDI CR's, which has none) resolve to nothing, i.e. they stay unset.
mapfile -t CDI_ENV < <(jq -r '.controller.spec.template.spec.containers[0].env[] | select(.value != null) | "\(.name)=\(.value)"' "$CDI_DIR/install.json")
mapfile -t CDI_ARGS < <(jq -r '.controller.spec.template.spec.containers[0].args[]' "$CDI_DIR/install.json")
read -r CDI_METRICS_PORT <<<"$(free_ports 1)"
launch cdi-controller env "${CDI_ENV[@]}" \
  KUBECONFIG="$CLUSTER_DIR/cdi.kubeconfig" \
  VIRTWORK_CDI_METRICS_BIND_ADDRESS="127.0.0.1:$CDI_METRICS_PORT" \
  VIRTWORK_CDI_TOKEN_PUBLIC_KEY="$CDI_RUN/id_rsa.pub" VIRTWORK_CDI_TOKEN_PRIVATE_KEY="$CDI_RUN/id_rsa" \
  "$CDI_DIR/bin/cdi-controller" "${CDI_ARGS[@]}" --kubeconfig="$CLUSTER_DIR/cdi.kubeconfig"
echo "$CDI_METRICS_PORT" >"$CDI_RUN/metrics.port"

cdi_ready() {
  api GET "/apis/coordination.k8s.io/v1/namespaces/$CDI_NS/leases/cdi-controller-leader-election-helper" |
    jq -e '.spec.holderIdentity // "" | length > 0' &&
    api GET /apis/cdi.kubevirt.io/v1beta1/cdiconfigs/config | jq -e '.status != null'
}
WAIT_PROC=cdi-controller wait_for "cdi-controller (leader lease, CDIConfig)" 120 cdi_ready
alive kcm-storage || die "kube-controller-manager (storage controllers) exited; see $LOGS/kcm-storage.log"
log "cdi-controller $CDI_VERSION running (leader; metrics on 127.0.0.1:$CDI_METRICS_PORT); CDI set up in $(( $(date +%s) - CDI_START ))s"
