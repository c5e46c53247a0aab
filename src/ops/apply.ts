import { KubeError, missingResourceHint } from "../kube/errors.ts";
import { RESOURCES } from "../kube/resources.ts";
import type { KubeObject } from "../manifests/objects.ts";
import type { Plan } from "../plan/plan.ts";
import { forEachLimit, Interrupted, type OpsContext } from "./context.ts";

export interface ApplyOptions {
  /** "server": every object is sent with dryRun=All, nothing is persisted. */
  dryRun: "none" | "server";
  vmConcurrency: number;
}

export interface ApplyResult {
  namespaceCreated: boolean;
  created: Record<string, number>;
  existing: Record<string, number>;
  /** When each VM's create call returned (its "created" time). */
  vmCreatedAt: Map<string, Date>;
  /** Names created or found, by kind, so an interrupted run can say what exists. */
  objects: { kind: string; name: string }[];
}

/** Apply stopped by a signal; `result` holds what was created or found until then. */
export class ApplyInterrupted extends Interrupted {
  result: ApplyResult;
  constructor(stage: string, result: ApplyResult) {
    super(stage);
    this.result = result;
  }
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

/**
 * Creates the plan's objects in order: Namespace (only when missing; an existing one is left
 * as it is), Services, Secrets, VMs, with bounded concurrency. AlreadyExists is success, so
 * re-running creates nothing twice.
 */
export async function applyPlan(ctx: OpsContext, plan: Plan, options: ApplyOptions): Promise<ApplyResult> {
  const dryRun = options.dryRun === "server";
  const result: ApplyResult = {
    namespaceCreated: false,
    created: {},
    existing: {},
    vmCreatedAt: new Map(),
    objects: [],
  };
  const [namespaceObject, ...rest] = plan.objects;
  const count = (outcome: "created" | "exists", obj: KubeObject) => {
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
  };

  const checkSignal = (stage: string) => {
    if (ctx.signal.aborted) throw new Interrupted(stage);
  };

  // Namespace.
  let namespaceExists = true;
  if (namespaceObject?.kind === "Namespace") {
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
    namespaceExists = existing !== undefined;
    if (!existing) {
      const outcome = await ctx.api.create(namespaceObject, { dryRun, signal: ctx.signal });
      result.namespaceCreated = outcome === "created" && !dryRun;
      count(outcome, namespaceObject);
    } else {
      result.objects.push({ kind: "Namespace", name: plan.namespace });
    }
    ctx.emit({ type: "namespace_ensured", namespace: plan.namespace, created: result.namespaceCreated });
    ctx.logger.info("namespace ensured", {
      namespace: plan.namespace,
      created: result.namespaceCreated,
      dry_run: dryRun,
    });
  }

  // In a server dry run of a namespace that does not exist yet, namespaced objects cannot be
  // admitted there; they are checked in "default" instead (same schemas and admission).
  const target = (obj: KubeObject): KubeObject =>
    dryRun && !namespaceExists && obj.metadata
      ? ({ ...obj, metadata: { ...obj.metadata, namespace: "default" } } as KubeObject)
      : obj;

  const byKind = (kind: string) => rest.filter((o) => o.kind === kind);
  const total = rest.length;
  let done = 0;
  const step = async (kind: string, limit: number) => {
    checkSignal(`creating ${kind}s`);
    await forEachLimit(byKind(kind), limit, ctx.signal, async (obj) => {
      const outcome = await ctx.api.create(target(obj), { dryRun, signal: ctx.signal });
      // Only VMs this run created have a creation time; existing ones belong to an earlier run.
      if (kind === "VirtualMachine" && outcome === "created")
        result.vmCreatedAt.set(obj.metadata?.name ?? "", new Date());
      count(outcome, obj);
      ctx.progress(`${dryRun ? "checked" : "created"} ${++done}/${total} objects`);
    });
    checkSignal(`creating ${kind}s`);
  };
  try {
    await step("Service", 5);
    await step("Secret", Math.max(10, options.vmConcurrency));
    await step("VirtualMachine", options.vmConcurrency);
  } catch (err) {
    // A signal: requests in flight fail with the abort reason; report what exists so far.
    if (err instanceof Interrupted || ctx.signal.aborted) {
      throw new ApplyInterrupted(err instanceof Interrupted ? err.message : "creating objects", result);
    }
    throw err;
  }
  return result;
}
