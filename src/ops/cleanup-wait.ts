import type { KubeResource } from "../kube/api.ts";
import { RESOURCES } from "../kube/resources.ts";
import { watchUntil } from "../kube/watch.ts";
import { CLEANUP_KINDS, type CleanupItem, type CleanupPreview } from "./cleanup-kinds.ts";
import { logWatchResume, type OpsContext } from "./context.ts";

/** Why an object that cleanup deleted is still there. */
function causeOf(item: CleanupItem, live: KubeResource): string {
  const meta = live.metadata ?? {};
  if (item.uid && meta.uid && meta.uid !== item.uid)
    return "it was deleted, and something created it again (new uid)";
  if (meta.deletionTimestamp) {
    return meta.finalizers?.length
      ? `deletion pending since ${meta.deletionTimestamp} on finalizers ${meta.finalizers.join(", ")}`
      : `deletion pending since ${meta.deletionTimestamp}`;
  }
  return "the API server accepted the delete, but the object is not being deleted";
}

/**
 * Watches (one resumable list + watch per kind, kube/watch.ts watchUntil) until every deleted
 * object is gone, or the timeout passes. Returns what is still there, with the cause of each.
 */
export async function waitUntilGone(
  ctx: OpsContext,
  preview: CleanupPreview,
  timeoutSeconds: number,
  deletedItems: CleanupItem[],
): Promise<{ kind: string; name: string; cause: string }[]> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const remaining: { kind: string; name: string; cause: string }[] = [];
  for (const { resource } of CLEANUP_KINDS) {
    const wanted = new Map(deletedItems.filter((i) => i.kind === resource.kind).map((i) => [i.name, i]));
    if (!wanted.size) continue;
    const left = (objects: Map<string, KubeResource>) => [...wanted.keys()].filter((n) => objects.has(n));
    // kube/watch.ts: list + watch, resumed on ends, resets, 429/5xx; 410 re-lists.
    const seen = await watchUntil<KubeResource>(ctx.api, {
      resource,
      namespace: preview.namespace,
      labelSelector: preview.selector,
      signal: ctx.signal,
      timeoutMs: Math.max(0, deadline - Date.now()),
      until: (objects) => left(objects).length === 0,
      onResume: logWatchResume(ctx, resource.plural),
      onChange: (objects) => {
        const n = left(objects).length;
        if (n) ctx.progress(`waiting for ${n} ${resource.plural} to be deleted`);
      },
    });
    const present = new Map(left(seen.objects).map((n) => [n, seen.objects.get(n) as KubeResource]));
    for (const [name, live] of present) {
      const item = wanted.get(name) as CleanupItem;
      remaining.push({
        kind: resource.kind,
        name,
        cause: ctx.signal.aborted
          ? `the wait was interrupted (${causeOf(item, live)})`
          : `after ${timeoutSeconds}s: ${causeOf(item, live)}`,
      });
    }
  }
  return remaining;
}

/** A namespace as the watch sees it while it is being deleted. */
type NamespaceObject = KubeResource & {
  status?: { phase?: string; conditions?: { type?: string; status?: string; message?: string }[] };
};

/** Why a namespace that was deleted is still there: the conditions the namespace controller sets. */
function namespaceCause(ns: NamespaceObject | undefined): string {
  const stuck = (ns?.status?.conditions ?? []).filter((c) => c.status === "True" && c.message);
  if (stuck.length) return stuck.map((c) => `${c.type}: ${c.message}`).join("; ");
  const finalizers = ns?.metadata?.finalizers ?? [];
  return finalizers.length
    ? `phase ${ns?.status?.phase ?? "unknown"}, finalizers ${finalizers.join(", ")}`
    : `phase ${ns?.status?.phase ?? "unknown"}`;
}

/**
 * --delete-namespace --wait: watches the one namespace (a list + watch with fieldSelector
 * metadata.name=…, resumed like every watch in kube/watch.ts) until it is gone. Throws with what
 * the namespace controller reports when the timeout passes or the wait is interrupted.
 */
export async function waitForNamespaceGone(
  ctx: OpsContext,
  namespace: string,
  timeoutSeconds: number,
): Promise<void> {
  const seen = await watchUntil<NamespaceObject>(ctx.api, {
    resource: RESOURCES.namespaces,
    namespace: "",
    fieldSelector: `metadata.name=${namespace}`,
    signal: ctx.signal,
    timeoutMs: timeoutSeconds * 1000,
    until: (objects) => !objects.has(namespace),
    onResume: logWatchResume(ctx, "namespaces"),
    onChange: (objects) => {
      if (objects.has(namespace)) ctx.progress(`waiting for namespace ${namespace} to be deleted`);
    },
  });
  if (seen.done) return;
  const why = namespaceCause(seen.objects.get(namespace));
  throw new Error(
    ctx.signal.aborted
      ? `the wait for namespace ${namespace} to be deleted was interrupted (${why})`
      : `timed out after ${timeoutSeconds}s waiting for namespace ${namespace} to be deleted: ${why}; check \`kubectl get namespace ${namespace} -o yaml\` (status.conditions)`,
  );
}
