import type { KubeApi, KubeResource } from "../kube/api.ts";
import { KubeError } from "../kube/errors.ts";
import { qualifiedName, RESOURCES } from "../kube/resources.ts";
import { LABEL_MANAGED_BY, LABEL_RUN_ID, managedSelector } from "../manifests/labels.ts";
import { compareNames } from "../util/order.ts";
import {
  CLEANUP_KINDS,
  type CleanupItem,
  type CleanupKind,
  type CleanupPreview,
  type CleanupResult,
} from "./cleanup-kinds.ts";
import { namespaceDeletionBlocker } from "./cleanup-namespace.ts";
import { waitForNamespaceGone, waitUntilGone } from "./cleanup-wait.ts";
import type { OpsContext } from "./context.ts";

const emptyCounts = (): Record<CleanupKind, number> => ({
  vms: 0,
  dataVolumes: 0,
  pvcs: 0,
  services: 0,
  secrets: 0,
});

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
  const items: CleanupItem[] = [];
  const skippedKinds: string[] = [];
  const unlistable: CleanupPreview["unlistable"] = [];
  for (const { key, resource } of CLEANUP_KINDS) {
    let listed: KubeResource[];
    try {
      listed = (await api.list<KubeResource>(resource, namespace, selector)).items;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404 && resource.group) {
        skippedKinds.push(`${qualifiedName(resource)} (not served)`);
        continue;
      }
      if (err instanceof KubeError) {
        unlistable.push({ kind: qualifiedName(resource), error: err.message });
        continue;
      }
      throw err;
    }
    listed.sort((a, b) => compareNames(a.metadata?.name ?? "", b.metadata?.name ?? ""));
    for (const item of listed) {
      const name = item.metadata?.name ?? "";
      objects[key].push(name);
      const id = item.metadata?.labels?.[LABEL_RUN_ID];
      if (id) runIds.add(id);
      items.push({
        kind: resource.kind,
        name,
        ...(item.metadata?.uid ? { uid: item.metadata.uid } : {}),
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
  const vmsUnlistable = unlistable.find((u) => u.kind === qualifiedName(RESOURCES.virtualmachines));
  return {
    namespace,
    selector,
    objects,
    items,
    runIds: [...runIds].sort(),
    total: items.length,
    skippedKinds,
    unlistable,
    ...(vmsUnlistable
      ? {
          blocked: `the VirtualMachines cannot be listed, so the DataVolumes, PVCs, Secrets and Services found may belong to VMs cleanup cannot see; nothing was deleted (${vmsUnlistable.error})`,
        }
      : {}),
    namespaceState: {
      exists: ns !== undefined || !nsReadable,
      createdByVirtwork: ns?.metadata?.labels?.[LABEL_MANAGED_BY] === "virtwork",
    },
  };
}

function describeError(err: unknown): string {
  return (err as Error).message;
}

/** Deletes one kind: a collection delete, or one DELETE per object when there is none or it is refused. */
async function deleteKind(
  ctx: OpsContext,
  preview: CleanupPreview,
  kind: (typeof CLEANUP_KINDS)[number],
  result: CleanupResult,
): Promise<void> {
  const { resource, collection, key } = kind;
  const listed = preview.items.filter((i) => i.kind === resource.kind);
  if (collection) {
    try {
      const gone = await ctx.api.deleteCollection(resource, preview.namespace, preview.selector, {
        dryRun: result.dryRun,
      });
      const names = new Set(gone.map((o) => o.metadata?.name ?? ""));
      const deleted = listed.filter((i) => names.has(i.name));
      result.deleted[key] += names.size;
      result.alreadyGone[key] += listed.length - deleted.length;
      result.deletedItems.push(...deleted);
      return;
    } catch (err) {
      if (ctx.signal.aborted) throw err;
      result.notes.push(
        `deletecollection of ${qualifiedName(resource)} was refused (${describeError(err)}); deleting them one by one`,
      );
      ctx.logger.warn("collection delete refused; deleting one by one", {
        resource: qualifiedName(resource),
        error: describeError(err),
      });
    }
  }
  for (const item of listed) {
    if (ctx.signal.aborted) return;
    try {
      const outcome = await ctx.api.delete(resource, item.name, preview.namespace, {
        dryRun: result.dryRun,
        ...(item.uid ? { uid: item.uid } : {}),
      });
      if (outcome === "deleted") {
        result.deleted[key]++;
        result.deletedItems.push(item);
      } else {
        result.alreadyGone[key]++;
      }
    } catch (err) {
      if (err instanceof KubeError && err.status === 409 && err.reason === "Conflict") {
        result.errors.push(
          `${resource.kind}/${item.name}: not deleted: the name now belongs to another object than the one listed`,
        );
      } else {
        result.errors.push(`${resource.kind}/${item.name}: not deleted: ${describeError(err)}`);
      }
    }
  }
}

export function emptyCleanupResult(dryRun = false): CleanupResult {
  return {
    dryRun,
    deleted: emptyCounts(),
    alreadyGone: emptyCounts(),
    deletedItems: [],
    errors: [],
    notes: [],
    remaining: [],
    namespaceDeleted: false,
  };
}

/**
 * Deletes what the preview found, by label (collection deletes where the API has them; one by
 * one when a collection delete is refused) and records every kind it could not list and every
 * object it could not delete in `result.errors`, naming the cause. With the VirtualMachines
 * unlistable it deletes nothing at all. `result.dryRun`: every delete is sent with dryRun=All.
 */
export async function deleteObjects(
  ctx: OpsContext,
  preview: CleanupPreview,
  result: CleanupResult,
): Promise<void> {
  result.errors.push(
    ...preview.unlistable.map(
      (u) => `${u.kind}: could not be listed, so none of them were deleted (${u.error})`,
    ),
  );
  if (preview.blocked) {
    result.errors.unshift(`nothing deleted: ${preview.blocked}`);
    return;
  }
  for (const kind of CLEANUP_KINDS) {
    if (!preview.objects[kind.key].length) continue;
    await deleteKind(ctx, preview, kind, result);
    ctx.emit({
      type: "objects_deleted",
      kind: kind.resource.kind,
      count: result.deleted[kind.key],
      runIds: preview.runIds,
    });
    ctx.progress(
      `${result.dryRun ? "would delete" : "deleted"} ${result.deleted[kind.key]} ${kind.resource.plural}`,
    );
  }
}

/** --wait: follows the deletes until everything deleted is gone; what stays is an error, with its cause. */
export async function waitForDeletes(
  ctx: OpsContext,
  preview: CleanupPreview,
  result: CleanupResult,
  timeoutSeconds: number,
): Promise<void> {
  result.remaining = await waitUntilGone(ctx, preview, timeoutSeconds, result.deletedItems);
  for (const r of result.remaining) result.errors.push(`${r.kind}/${r.name}: still exists: ${r.cause}`);
}

/**
 * Deletes the namespace only when that is provably safe (cleanup-namespace.ts); else says in
 * `result.namespaceKept` why it is kept.
 */
export async function deleteNamespaceIfOurs(
  ctx: OpsContext,
  preview: CleanupPreview,
  result: CleanupResult,
  options: { runId?: string; wait: boolean; timeoutSeconds: number },
): Promise<void> {
  if (preview.blocked) {
    result.namespaceKept = "the VirtualMachines in it cannot be listed";
    return;
  }
  const blocker = await namespaceDeletionBlocker(ctx.api, preview, {
    incomplete: result.errors.length > 0,
    otherRunsRemain: Boolean(options.runId) && (await previewCleanup(ctx.api, preview.namespace)).total > 0,
  });
  if (blocker) {
    result.namespaceKept = blocker;
    return;
  }
  try {
    result.namespaceDeleted =
      (await ctx.api.delete(RESOURCES.namespaces, preview.namespace, undefined, {
        dryRun: result.dryRun,
      })) === "deleted";
    if (options.wait && !result.dryRun)
      await waitForNamespaceGone(ctx, preview.namespace, options.timeoutSeconds);
  } catch (err) {
    result.errors.push(`Namespace/${preview.namespace}: ${describeError(err)}`);
  }
}
