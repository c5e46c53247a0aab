import { KubeError, missingResourceHint } from "../kube/errors.ts";
import { RESOURCES } from "../kube/resources.ts";
import type { KubeObject } from "../manifests/objects.ts";
import type { Plan } from "../plan/plan.ts";
import { forEachLimit, Interrupted, type OpsContext } from "./context.ts";

/** What the create steps found and made; filled in step by step, so an interrupted run can tell. */
export interface ApplyResult {
  namespaceCreated: boolean;
  /** False only when the namespace was missing (a server dry run then checks objects in "default"). */
  namespaceExists: boolean;
  created: Record<string, number>;
  existing: Record<string, number>;
  /** When each VM's create call returned (its "created" time). */
  vmCreatedAt: Map<string, Date>;
  /** Names created or found, by kind, so an interrupted run can say what exists. */
  objects: { kind: string; name: string }[];
  /** Objects handled by the create steps so far (for the progress line). */
  done: number;
}

export function emptyApplyResult(): ApplyResult {
  return {
    namespaceCreated: false,
    namespaceExists: true,
    created: {},
    existing: {},
    vmCreatedAt: new Map(),
    objects: [],
    done: 0,
  };
}

/** Checks that the cluster serves what the plan needs, before anything is created. */
export async function preflight(ctx: OpsContext, plan: Plan): Promise<void> {
  const needs = [RESOURCES.virtualmachines, RESOURCES.virtualmachineinstances];
  if (plan.vms.some((v) => v.dataVolumes.length)) needs.push(RESOURCES.datavolumes);
  for (const resource of needs) {
    if (!(await ctx.api.serves(resource))) {
      throw new KubeError(
        `the cluster does not serve ${resource.plural}.${resource.group}/${resource.version}: ${missingResourceHint(resource)}`,
        404,
        "NotFound",
        { verb: "discover", resource },
      );
    }
  }
}

function count(ctx: OpsContext, result: ApplyResult, outcome: "created" | "exists", obj: KubeObject): void {
  const bucket = outcome === "created" ? result.created : result.existing;
  bucket[obj.kind] = (bucket[obj.kind] ?? 0) + 1;
  result.objects.push({ kind: obj.kind, name: obj.metadata?.name ?? "" });
  if (outcome === "created")
    ctx.emit({ type: "object_created", kind: obj.kind, name: obj.metadata?.name ?? "" });
  else
    ctx.emit({
      type: "object_skipped",
      kind: obj.kind,
      name: obj.metadata?.name ?? "",
      reason: "already exists",
    });
}

/** Creates the Namespace only when it is missing; an existing one is left as it is. */
export async function ensureNamespace(
  ctx: OpsContext,
  plan: Plan,
  result: ApplyResult,
  dryRun: boolean,
): Promise<void> {
  const [namespaceObject] = plan.objects;
  if (namespaceObject?.kind !== "Namespace") return;
  let existing: unknown;
  try {
    existing = await ctx.api.get(RESOURCES.namespaces, plan.namespace);
  } catch (err) {
    // A namespace-scoped identity (a project member) may not read the namespace object
    // itself: proceed as if it exists; if it does not, the first create says so.
    if (!(err instanceof KubeError && err.status === 403)) throw err;
    existing = {};
    ctx.logger.info("cannot read the namespace (403); assuming it exists", { namespace: plan.namespace });
  }
  result.namespaceExists = existing !== undefined;
  if (!existing) {
    const outcome = await ctx.api.create(namespaceObject, { dryRun, signal: ctx.signal });
    result.namespaceCreated = outcome === "created" && !dryRun;
    count(ctx, result, outcome, namespaceObject);
  } else {
    result.objects.push({ kind: "Namespace", name: plan.namespace });
  }
  ctx.emit({ type: "namespace_ensured", namespace: plan.namespace, created: result.namespaceCreated });
  ctx.logger.debug("namespace ensured", {
    namespace: plan.namespace,
    created: result.namespaceCreated,
    dry_run: dryRun,
  });
}

/**
 * Creates the plan's objects of one kind with at most `limit` in flight. AlreadyExists is
 * success, so re-running creates nothing twice. A signal stops it with `Interrupted`.
 */
export async function createObjects(
  ctx: OpsContext,
  plan: Plan,
  result: ApplyResult,
  kind: "Service" | "Secret" | "VirtualMachine",
  options: { limit: number; dryRun: boolean },
): Promise<void> {
  const { dryRun } = options;
  // In a server dry run of a namespace that does not exist yet, namespaced objects cannot be
  // admitted there; they are checked in "default" instead (same schemas and admission).
  const target = (obj: KubeObject): KubeObject =>
    dryRun && !result.namespaceExists && obj.metadata
      ? ({ ...obj, metadata: { ...obj.metadata, namespace: "default" } } as KubeObject)
      : obj;
  const total = plan.objects.length - (plan.objects[0]?.kind === "Namespace" ? 1 : 0);
  const stage = `creating ${kind}s`;
  try {
    if (ctx.signal.aborted) throw new Interrupted(stage);
    await forEachLimit(
      plan.objects.filter((o) => o.kind === kind),
      options.limit,
      ctx.signal,
      async (obj) => {
        const outcome = await ctx.api.create(target(obj), { dryRun, signal: ctx.signal });
        // Only VMs this run created have a creation time; existing ones belong to an earlier run.
        if (kind === "VirtualMachine" && outcome === "created")
          result.vmCreatedAt.set(obj.metadata?.name ?? "", new Date());
        count(ctx, result, outcome, obj);
        ctx.progress(`${dryRun ? "checked" : "created"} ${++result.done}/${total} objects`);
      },
    );
    if (ctx.signal.aborted) throw new Interrupted(stage);
  } catch (err) {
    // A signal: requests in flight fail with the abort reason.
    if (err instanceof Interrupted || ctx.signal.aborted) {
      throw err instanceof Interrupted ? err : new Interrupted(stage);
    }
    throw err;
  }
}
