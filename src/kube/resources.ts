/** The API resources virtwork touches, and their URL paths. */
export interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
}

function resource(group: string, version: string, plural: string, kind: string, namespaced = true): Resource {
  return { group, version, plural, kind, namespaced };
}

export const RESOURCES = {
  namespaces: resource("", "v1", "namespaces", "Namespace", false),
  services: resource("", "v1", "services", "Service"),
  secrets: resource("", "v1", "secrets", "Secret"),
  configmaps: resource("", "v1", "configmaps", "ConfigMap"),
  pods: resource("", "v1", "pods", "Pod"),
  persistentvolumeclaims: resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
  virtualmachines: resource("kubevirt.io", "v1", "virtualmachines", "VirtualMachine"),
  virtualmachineinstances: resource("kubevirt.io", "v1", "virtualmachineinstances", "VirtualMachineInstance"),
  datavolumes: resource("cdi.kubevirt.io", "v1beta1", "datavolumes", "DataVolume"),
  // read only: `verify` finds OpenShift's Thanos querier through its route
  routes: resource("route.openshift.io", "v1", "routes", "Route"),
  storageclasses: resource("storage.k8s.io", "v1", "storageclasses", "StorageClass", false),
} as const;

export type ResourceName = keyof typeof RESOURCES;

export function resourceForKind(kind: string): Resource {
  const found = Object.values(RESOURCES).find((r) => r.kind === kind);
  if (!found) throw new Error(`no resource for kind ${kind}`);
  return found;
}

/** `group/version` as written in apiVersion. */
export function groupVersion(r: Resource): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export function collectionPath(r: Resource, namespace?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace
    ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}`
    : `${base}/${r.plural}`;
}

export function objectPath(r: Resource, name: string, namespace?: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}

/** e.g. "virtualmachines.kubevirt.io" — the way RBAC and kubectl name a resource. */
export function qualifiedName(r: Resource): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}
