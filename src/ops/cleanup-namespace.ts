import type { KubeApi, KubeResource } from "../kube/api.ts";
import { listableNamespacedResources, tryList } from "../kube/discovery.ts";
import { qualifiedName, type Resource } from "../kube/resources.ts";
import { LABEL_MANAGED_BY } from "../manifests/labels.ts";
import { CLEANUP_KINDS, type CleanupPreview } from "./cleanup-kinds.ts";

/**
 * The kinds virtwork creates (the ones cleanup removes): only on these does the managed-by label
 * make an object virtwork's. A ConfigMap or a custom resource a user labelled alike is theirs.
 */
const CREATED_KINDS = new Set(CLEANUP_KINDS.map((k) => qualifiedName(k.resource)));

/**
 * Resource types whose entries are not anybody's data, so they never keep a namespace:
 * events (records about other objects, written by controllers, expire by themselves);
 * metrics.k8s.io (a read-only view of the pods, which are listed themselves);
 * packagemanifests of OLM (the cluster's operator catalog, shown in every namespace).
 */
const IGNORED_TYPES = new Set([
  "events",
  "events.events.k8s.io",
  "pods.metrics.k8s.io",
  "nodes.metrics.k8s.io",
  "packagemanifests.packages.operators.coreos.com",
]);

/** Service accounts the cluster makes in every namespace (Kubernetes: default; OpenShift: builder, deployer). */
const AUTO_SERVICE_ACCOUNTS = new Set(["default", "builder", "deployer"]);

type Item = KubeResource & { type?: string };

/**
 * Objects the cluster itself creates in every new namespace; virtwork may delete a namespace
 * that holds them. Each rule names exactly what Kubernetes or OpenShift creates:
 * the service accounts above; the CA bundles kube-root-ca.crt (root-ca-cert-publisher) and
 * openshift-service-ca.crt; a service account's token Secret and OpenShift's image pull
 * Secret made for one of those service accounts; OpenShift's RoleBindings for them.
 */
function createdByCluster(resource: Resource, o: Item): boolean {
  const name = o.metadata?.name ?? "";
  switch (qualifiedName(resource)) {
    case "serviceaccounts":
      return AUTO_SERVICE_ACCOUNTS.has(name);
    case "configmaps":
      return name === "kube-root-ca.crt" || name === "openshift-service-ca.crt";
    case "secrets": {
      const account = o.metadata?.annotations?.["kubernetes.io/service-account.name"] ?? "";
      return (
        AUTO_SERVICE_ACCOUNTS.has(account) &&
        (o.type === "kubernetes.io/service-account-token" || o.type === "kubernetes.io/dockercfg")
      );
    }
    case "rolebindings.rbac.authorization.k8s.io":
      return ["system:image-pullers", "system:image-builders", "system:deployers"].includes(name);
    default:
      return false;
  }
}

/**
 * What is in the namespace besides virtwork's objects: every listable namespaced resource
 * type (discovery) is listed; an object counts as virtwork's when it is of a kind virtwork
 * creates and carries the managed-by=virtwork label, or is owned (ownerReferences, any depth)
 * by such an object (a VMI, its launcher pod, a DataVolume's PVC). Labels on any other kind
 * prove nothing: anybody can copy them.
 * `unlisted` names the types that could not be listed: then nothing is proven.
 */
export async function foreignObjects(
  api: KubeApi,
  namespace: string,
): Promise<{ foreign: string[]; unlisted: string[] }> {
  const { resources, failed } = await listableNamespacedResources(api);
  const unlisted = failed.map((f) => `API group ${f.group} (${f.error})`);
  const listed: { resource: Resource; items: Item[] }[] = [];
  await Promise.all(
    resources
      .filter((r) => !IGNORED_TYPES.has(qualifiedName(r)))
      .map(async (resource) => {
        const { items, error } = await tryList<Item>(api, resource, namespace);
        if (error) unlisted.push(`${qualifiedName(resource)} (${error.message})`);
        else listed.push({ resource, items });
      }),
  );
  const ours = new Set<string>();
  const all = listed.flatMap(({ resource, items }) => items.map((o) => ({ resource, o })));
  for (const { resource, o } of all)
    if (CREATED_KINDS.has(qualifiedName(resource)) && o.metadata?.labels?.[LABEL_MANAGED_BY] === "virtwork")
      ours.add(o.metadata?.uid ?? "");
  for (let grew = true; grew; ) {
    grew = false;
    for (const { o } of all) {
      const uid = o.metadata?.uid ?? "";
      if (ours.has(uid)) continue;
      if (o.metadata?.ownerReferences?.some((ref) => ref.uid && ours.has(ref.uid))) {
        ours.add(uid);
        grew = true;
      }
    }
  }
  const foreign = all
    .filter(({ resource, o }) => !ours.has(o.metadata?.uid ?? "") && !createdByCluster(resource, o))
    .map(({ resource, o }) => `${resource.kind}/${o.metadata?.name}`)
    .sort();
  return { foreign, unlisted: unlisted.sort() };
}

function firstFew(list: string[], n = 5): string {
  return `${list.slice(0, n).join(", ")}${list.length > n ? `, … (${list.length} in all)` : ""}`;
}

/** Why the namespace must be kept, or undefined when deleting it is provably safe. */
export async function namespaceDeletionBlocker(
  api: KubeApi,
  preview: CleanupPreview,
  options: { incomplete: boolean; otherRunsRemain: boolean },
): Promise<string | undefined> {
  if (!preview.namespaceState.exists) return "it does not exist";
  if (!preview.namespaceState.createdByVirtwork) return "virtwork did not create it";
  if (options.incomplete) return "cleanup is incomplete (see the errors)";
  if (options.otherRunsRemain) return "objects of other virtwork runs remain";
  const { foreign, unlisted } = await foreignObjects(api, preview.namespace);
  if (foreign.length) return `it holds objects virtwork did not create (${firstFew(foreign)})`;
  if (unlisted.length)
    return `cannot prove that nothing else lives there: could not list ${firstFew(unlisted, 3)}`;
  return undefined;
}
