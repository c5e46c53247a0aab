import type { KubeResource } from "../kube/api.ts";
import { CLEANUP_KINDS, type CleanupItem, type CleanupPreview } from "./cleanup-kinds.ts";
import type { OpsContext } from "./context.ts";

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
 * Watches (one list + watch per kind, resumed on server timeouts) until every deleted object
 * is gone, or the timeout passes. Returns what is still there, with the cause of each.
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
    const present = new Map<string, KubeResource>();
    let version: string | undefined;
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    ctx.signal.addEventListener("abort", onAbort, { once: true });
    const timer = setTimeout(() => stop.abort(), Math.max(0, deadline - Date.now()));
    try {
      while (!stop.signal.aborted) {
        if (version === undefined) {
          const list = await ctx.api.list<KubeResource>(resource, preview.namespace, preview.selector);
          present.clear();
          for (const o of list.items)
            if (wanted.has(o.metadata?.name ?? "")) present.set(o.metadata?.name ?? "", o);
          version = list.resourceVersion;
        }
        if (!present.size) break;
        ctx.progress(`waiting for ${present.size} ${resource.plural} to be deleted`);
        try {
          version = await ctx.api.watch<KubeResource>(
            resource,
            preview.namespace,
            {
              labelSelector: preview.selector,
              resourceVersion: version,
              timeoutSeconds: Math.max(1, Math.min(25, Math.ceil((deadline - Date.now()) / 1000))),
            },
            (event) => {
              const name = event.object.metadata?.name ?? "";
              if (!wanted.has(name)) return undefined;
              if (event.type === "DELETED") present.delete(name);
              else present.set(name, event.object);
              return present.size === 0 ? "stop" : undefined;
            },
            stop.signal,
          );
        } catch (err) {
          // 410 Gone: the version is too old; list again.
          if ((err as { status?: number }).status === 410) version = undefined;
          else throw err;
        }
      }
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener("abort", onAbort);
    }
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
