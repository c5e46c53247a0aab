import type { KubeApi, KubeResource } from "../kube/api.ts";
import { KubeError } from "../kube/errors.ts";
import { qualifiedName, RESOURCES, type Resource } from "../kube/resources.ts";
import { LABEL_MANAGED_BY, LABEL_RUN_ID, managedSelector } from "../manifests/labels.ts";
import type { OpsContext } from "./context.ts";

/** Kinds cleanup removes, in deletion order: VMs first so their DVs/PVCs are released. */
const KINDS: { key: CleanupKind; resource: Resource; collection: boolean }[] = [
  { key: "vms", resource: RESOURCES.virtualmachines, collection: true },
  { key: "dataVolumes", resource: RESOURCES.datavolumes, collection: true },
  { key: "pvcs", resource: RESOURCES.persistentvolumeclaims, collection: true },
  // Services have no deletecollection in the core API: one DELETE each.
  { key: "services", resource: RESOURCES.services, collection: false },
  { key: "secrets", resource: RESOURCES.secrets, collection: true },
];

export type CleanupKind = "vms" | "dataVolumes" | "pvcs" | "services" | "secrets";

export interface CleanupPreview {
  namespace: string;
  selector: string;
  objects: Record<CleanupKind, string[]>;
  /** Every object with its kind and run id, for the audit trail. */
  items: { kind: string; name: string; runId?: string }[];
  runIds: string[];
  total: number;
  /** Kinds not looked at, with why: not served (e.g. CDI absent), or not allowed to list. */
  skippedKinds: string[];
  namespaceState: { exists: boolean; createdByVirtwork: boolean };
}

export interface CleanupResult {
  deleted: Record<CleanupKind, number>;
  errors: string[];
  namespaceDeleted: boolean;
  namespaceKept?: string;
}

/** Lists what cleanup would delete: only objects labelled managed-by=virtwork (and the run id). */
export async function previewCleanup(
  api: KubeApi,
  namespace: string,
  runId?: string,
): Promise<CleanupPreview> {
  const selector = managedSelector(runId);
  const objects = { vms: [], dataVolumes: [], pvcs: [], services: [], secrets: [] } as Record<
    CleanupKind,
    string[]
  >;
  const runIds = new Set<string>();
  const previewItems: CleanupPreview["items"] = [];
  const skippedKinds: string[] = [];
  for (const { key, resource } of KINDS) {
    let items: KubeResource[];
    try {
      items = (await api.list<KubeResource>(resource, namespace, selector)).items;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404 && resource.group) {
        skippedKinds.push(`${resource.plural}.${resource.group} (not served)`);
        continue;
      }
      // An identity limited to some kinds still cleans up what it may see; the rest is reported.
      if (err instanceof KubeError && err.status === 403) {
        skippedKinds.push(`${qualifiedName(resource)} (forbidden to list)`);
        continue;
      }
      throw err;
    }
    for (const item of items) {
      objects[key].push(item.metadata?.name ?? "");
      const id = item.metadata?.labels?.[LABEL_RUN_ID];
      if (id) runIds.add(id);
      previewItems.push({
        kind: resource.kind,
        name: item.metadata?.name ?? "",
        ...(id ? { runId: id } : {}),
      });
    }
  }
  let ns: KubeResource | undefined;
  let nsReadable = true;
  try {
    ns = await api.get<KubeResource>(RESOURCES.namespaces, namespace);
  } catch (err) {
    if (!(err instanceof KubeError && err.status === 403)) throw err;
    nsReadable = false; // a namespace-scoped identity may not read its namespace
  }
  const total = Object.values(objects).reduce((n, list) => n + list.length, 0);
  return {
    namespace,
    selector,
    objects,
    items: previewItems,
    runIds: [...runIds].sort(),
    total,
    skippedKinds,
    namespaceState: {
      exists: ns !== undefined || !nsReadable,
      createdByVirtwork: ns?.metadata?.labels?.[LABEL_MANAGED_BY] === "virtwork",
    },
  };
}

/** What in the namespace is not virtwork's, for the --delete-namespace rule. */
async function foreignObjects(api: KubeApi, namespace: string): Promise<string[]> {
  const found: string[] = [];
  const checks: [Resource, (o: KubeResource & { type?: string }) => boolean][] = [
    [RESOURCES.virtualmachines, () => true],
    [RESOURCES.datavolumes, () => true],
    [RESOURCES.persistentvolumeclaims, () => true],
    [RESOURCES.services, () => true],
    [
      RESOURCES.configmaps,
      (o) => !/^(kube-root-ca\.crt|openshift-service-ca\.crt)$/.test(o.metadata?.name ?? ""),
    ],
    // Service-account tokens and pull secrets are made by the cluster for every namespace.
    [
      RESOURCES.secrets,
      (o) => !/^kubernetes\.io\/(service-account-token|dockercfg|dockerconfigjson)$/.test(o.type ?? ""),
    ],
    [RESOURCES.pods, () => true],
  ];
  for (const [resource, counts] of checks) {
    let items: (KubeResource & { type?: string })[];
    try {
      items = (await api.list<KubeResource & { type?: string }>(resource, namespace)).items;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404 && resource.group) continue;
      throw err;
    }
    for (const item of items) {
      if (item.metadata?.labels?.[LABEL_MANAGED_BY] === "virtwork" || item.metadata?.deletionTimestamp)
        continue;
      if (counts(item)) found.push(`${resource.kind}/${item.metadata?.name}`);
    }
  }
  return found;
}

export function emptyCleanupResult(): CleanupResult {
  return {
    deleted: { vms: 0, dataVolumes: 0, pvcs: 0, services: 0, secrets: 0 },
    errors: [],
    namespaceDeleted: false,
  };
}

/**
 * Deletes what the preview found, by label (collection deletes where the API has them),
 * tolerating per-object errors: each one is kept in `result.errors`.
 */
export async function deleteObjects(
  ctx: OpsContext,
  preview: CleanupPreview,
  result: CleanupResult,
): Promise<void> {
  const { api } = ctx;
  for (const { key, resource, collection } of KINDS) {
    const names = preview.objects[key];
    if (!names.length) continue;
    if (collection) {
      try {
        await api.deleteCollection(resource, preview.namespace, preview.selector);
        result.deleted[key] = names.length;
      } catch (err) {
        result.errors.push((err as Error).message);
      }
    } else {
      for (const name of names) {
        try {
          if ((await api.delete(resource, name, preview.namespace)) === "deleted") result.deleted[key]++;
        } catch (err) {
          result.errors.push((err as Error).message);
        }
      }
    }
    ctx.emit({
      type: "objects_deleted",
      kind: resource.kind,
      count: result.deleted[key],
      runIds: preview.runIds,
    });
    ctx.progress(`deleted ${result.deleted[key]} ${resource.plural}`);
  }
}

/**
 * Deletes the namespace only when virtwork created it and nothing else lives there (no other
 * run's objects when one run was cleaned up); else says in `result.namespaceKept` why not.
 */
export async function deleteNamespaceIfOurs(
  ctx: OpsContext,
  preview: CleanupPreview,
  result: CleanupResult,
  options: { runId?: string; wait: boolean; timeoutSeconds: number },
): Promise<void> {
  const { api } = ctx;
  if (!preview.namespaceState.exists) {
    result.namespaceKept = "it does not exist";
  } else if (!preview.namespaceState.createdByVirtwork) {
    result.namespaceKept = "virtwork did not create it";
  } else if (options.runId && (await previewCleanup(api, preview.namespace)).total > 0) {
    result.namespaceKept = "objects of other virtwork runs remain";
  } else {
    const foreign = await foreignObjects(api, preview.namespace);
    if (foreign.length) {
      result.namespaceKept = `it holds objects virtwork did not create (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", …" : ""})`;
    } else {
      try {
        result.namespaceDeleted = (await api.delete(RESOURCES.namespaces, preview.namespace)) === "deleted";
        if (options.wait) await waitForNamespaceGone(ctx, preview.namespace, options.timeoutSeconds);
      } catch (err) {
        result.errors.push((err as Error).message);
      }
    }
  }
}

/** Waits until the deleted objects are gone (a finalizer may keep them a while). */
export async function waitUntilGone(
  ctx: OpsContext,
  preview: CleanupPreview,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (const { key, resource } of KINDS) {
    if (!preview.objects[key].length) continue;
    for (;;) {
      const left = (await ctx.api.list(resource, preview.namespace, preview.selector)).items.length;
      if (left === 0) break;
      ctx.progress(`waiting for ${left} ${resource.plural} to be deleted`);
      if (Date.now() > deadline || ctx.signal.aborted) {
        throw new Error(
          `timed out after ${timeoutSeconds}s waiting for ${left} ${resource.plural} to be deleted`,
        );
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

async function waitForNamespaceGone(
  ctx: OpsContext,
  namespace: string,
  timeoutSeconds: number,
): Promise<void> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  while (await ctx.api.get(RESOURCES.namespaces, namespace)) {
    if (Date.now() > deadline || ctx.signal.aborted)
      throw new Error(`timed out waiting for namespace ${namespace} to be deleted`);
    ctx.progress(`waiting for namespace ${namespace} to be deleted`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
