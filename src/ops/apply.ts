import type { KubeResource } from "../kube/api.ts";
import { KubeError, missingResourceHint } from "../kube/errors.ts";
import { RESOURCES, resourceForKind } from "../kube/resources.ts";
import { LABEL_MANAGED_BY, LABEL_RUN_ID } from "../manifests/labels.ts";
import type { KubeObject } from "../manifests/objects.ts";
import type { Plan } from "../plan/plan.ts";
import { compareExisting, type Existing } from "./compare.ts";
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
  /** Run ids (the virtwork/run-id label) of the objects that were already there, with counts. */
  existingOwners: Record<string, number>;
  /** Planned objects ("Kind/name") found in the cluster as the plan has them → their run id. */
  present: Map<string, string | undefined>;
}

/**
 * An object under a planned name is not virtwork's, or differs from the plan: the run stops
 * (before creating anything when checkExisting finds it). Nothing is adopted or modified;
 * `problems` names each object and the difference.
 */
export class ApplyConflict extends Error {
  override name = "ApplyConflict";
  problems: string[];
  constructor(problems: string[]) {
    const shown = problems.slice(0, 10).join("; ");
    super(
      `${problems.length} planned ${problems.length === 1 ? "object conflicts" : "objects conflict"} with what is in the cluster, nothing of them was changed: ${shown}${problems.length > 10 ? "; …" : ""}`,
    );
    this.problems = problems;
  }
}

const ref = (obj: KubeObject) => `${obj.kind}/${obj.metadata?.name ?? ""}`;

function describeConflict(obj: KubeObject, verdict: Exclude<Existing, { state: "same" }>): string {
  if (verdict.state === "foreign") return verdict.problem;
  const shown = verdict.differences.slice(0, 5).join(", ");
  return `${ref(obj)} (run ${verdict.runId ?? "unknown"}) differs from the plan: ${shown}${verdict.differences.length > 5 ? ", …" : ""}; virtwork does not change it: remove it first (virtwork cleanup -n ${obj.metadata?.namespace} --run-id ${verdict.runId ?? "…"}) or run in another namespace`;
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
    existingOwners: {},
    present: new Map(),
  };
}

/** Checks that the cluster serves what the plan needs, before anything is created. */
export async function preflight(ctx: OpsContext, plan: Plan): Promise<void> {
  const needs = [RESOURCES.virtualmachines, RESOURCES.virtualmachineinstances];
  if (plan.vms.some((v) => v.dataVolumes.length)) needs.push(RESOURCES.datavolumes);
  for (const resource of needs) {
    if (!(await ctx.api.serves(resource, ctx.signal))) {
      throw new KubeError(
        `the cluster does not serve ${resource.plural}.${resource.group}/${resource.version}: ${missingResourceHint(resource)}`,
        404,
        "NotFound",
        { verb: "discover", resource },
      );
    }
  }
}

function count(
  ctx: OpsContext,
  result: ApplyResult,
  outcome: "created" | "exists",
  obj: KubeObject,
  owner?: string,
): void {
  const bucket = outcome === "created" ? result.created : result.existing;
  if (outcome === "exists" && owner) result.existingOwners[owner] = (result.existingOwners[owner] ?? 0) + 1;
  bucket[obj.kind] = (bucket[obj.kind] ?? 0) + 1;
  result.objects.push({ kind: obj.kind, name: obj.metadata?.name ?? "" });
  if (outcome === "created")
    ctx.emit({ type: "object_created", kind: obj.kind, name: obj.metadata?.name ?? "" });
  else
    ctx.emit({
      type: "object_skipped",
      kind: obj.kind,
      name: obj.metadata?.name ?? "",
      reason: owner ? `already exists (run ${owner})` : "already exists",
      ...(owner ? { ownerRunId: owner } : {}),
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
 * Before anything is created: what already lives under the planned names (one list per kind).
 * An object is kept only when it is virtwork's and holds what the plan holds (a re-run of the
 * same command); anything else stops the run with each object and difference named. A kind
 * the identity may not list is checked object by object when its create says AlreadyExists.
 */
export async function checkExisting(ctx: OpsContext, plan: Plan, result: ApplyResult): Promise<void> {
  if (!result.namespaceExists) return;
  const problems: string[] = [];
  for (const kind of ["Service", "Secret", "VirtualMachine"] as const) {
    const planned = plan.objects.filter((o) => o.kind === kind);
    if (!planned.length) continue;
    let live: Map<string, KubeResource & Record<string, unknown>>;
    try {
      const list = await ctx.api.list<KubeResource & Record<string, unknown>>(
        resourceForKind(kind),
        plan.namespace,
      );
      live = new Map(list.items.map((o) => [o.metadata?.name ?? "", o]));
    } catch (err) {
      if (err instanceof KubeError && err.status === 403) continue;
      throw err;
    }
    for (const obj of planned) {
      const found = live.get(obj.metadata?.name ?? "");
      if (!found) continue;
      const verdict = compareExisting(obj, found);
      if (verdict.state === "same") result.present.set(ref(obj), verdict.runId);
      else problems.push(describeConflict(obj, verdict));
    }
  }
  if (problems.length) throw new ApplyConflict(problems);
}

/** A create answered AlreadyExists: this run's own (its answer was lost), a kept one, or a conflict. */
async function resolveExisting(
  ctx: OpsContext,
  plan: Plan,
  result: ApplyResult,
  obj: KubeObject,
): Promise<"created" | "exists"> {
  // A list by name, not a GET: the list right is needed anyway (checkExisting), a GET right
  // on Secrets would be one more grant.
  const found = await ctx.api.list<KubeResource & Record<string, unknown>>(
    resourceForKind(obj.kind),
    plan.namespace,
    undefined,
    `metadata.name=${obj.metadata?.name ?? ""}`,
  );
  const live = found.items[0];
  if (!live) throw new Error(`${ref(obj)}: the create said AlreadyExists, but the object is gone`);
  const labels = live.metadata?.labels ?? {};
  if (labels[LABEL_MANAGED_BY] === "virtwork" && labels[LABEL_RUN_ID] === plan.runId) {
    ctx.logger.info(
      "a create's response was lost; the object carries this run's id, so this run created it",
      {
        kind: obj.kind,
        name: obj.metadata?.name,
      },
    );
    return "created";
  }
  const verdict = compareExisting(obj, live);
  if (verdict.state !== "same") throw new ApplyConflict([describeConflict(obj, verdict)]);
  result.present.set(ref(obj), verdict.runId);
  return "exists";
}

/**
 * Creates the plan's objects of one kind with at most `limit` in flight; the ones
 * checkExisting found as planned are counted as already present (with their run id). A create
 * answered AlreadyExists is resolved by resolveExisting, so a lost answer still counts as
 * created and nothing is adopted. A signal stops it with `Interrupted`; creates already sent
 * get their answer first (the counts are what exists).
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
  const ofKind = plan.objects.filter((o) => o.kind === kind);
  try {
    if (ctx.signal.aborted) throw new Interrupted(stage);
    for (const obj of ofKind) {
      if (!result.present.has(ref(obj))) continue;
      count(ctx, result, "exists", obj, result.present.get(ref(obj)));
      result.done++;
    }
    await forEachLimit(
      ofKind.filter((o) => !result.present.has(ref(o))),
      options.limit,
      ctx.signal,
      async (obj) => {
        let outcome = await ctx.api.create(target(obj), { dryRun, signal: ctx.signal });
        if (outcome === "exists" && !dryRun) outcome = await resolveExisting(ctx, plan, result, obj);
        // Only VMs this run created have a creation time; existing ones belong to an earlier run.
        if (kind === "VirtualMachine" && outcome === "created")
          result.vmCreatedAt.set(obj.metadata?.name ?? "", new Date());
        count(ctx, result, outcome, obj, outcome === "exists" ? result.present.get(ref(obj)) : undefined);
        ctx.progress(`${dryRun ? "checked" : "created"} ${++result.done}/${total} objects`);
      },
    );
    if (ctx.signal.aborted) throw new Interrupted(stage);
  } catch (err) {
    // A signal: requests in flight fail with the abort reason.
    if (err instanceof Interrupted || (ctx.signal.aborted && !(err instanceof ApplyConflict))) {
      throw err instanceof Interrupted ? err : new Interrupted(stage);
    }
    throw err;
  }
}
