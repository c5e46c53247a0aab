import type { Plan } from "../plan/plan.ts";
import type { ApplyResult } from "./apply.ts";
import type { Outcome } from "./outcome.ts";
import type { VmStatus } from "./wait.ts";

/** What `virtwork run` reports when it is done with a cluster. */
export interface DeploySummary {
  runId: string;
  namespace: string;
  outcome: Extract<Outcome, "ready" | "created" | "checked" | "failed" | "timeout" | "interrupted">;
  /** One line for failed, timed-out and interrupted runs. */
  message?: string;
  namespaceCreated: boolean;
  created: Record<string, number>;
  existing: Record<string, number>;
  workloads: { name: string; vms: number; ready: number; failed: number }[];
  vms: VmStatus[];
  timings: {
    createdToRunningP50Ms?: number;
    createdToRunningP95Ms?: number;
    createdToReadyP50Ms?: number;
    createdToReadyP95Ms?: number;
  };
  /** Objects that exist (created or found), for an interrupted run's report. */
  objects: { kind: string; name: string }[];
  /**
   * The run ids that own the run's objects: this run's when it created something, and the
   * earlier runs whose objects it found (the ids `cleanup --run-id` needs).
   */
  ownerRunIds: string[];
  /** Interrupted: the run's objects in the cluster, counted by its run-id label, per kind. */
  inCluster?: Record<string, number>;
}

/** The runs whose labels the plan's objects carry: this one if it created any, then earlier ones it found. */
export function ownerRunIds(runId: string, applied: ApplyResult): string[] {
  const createdSomething = Object.entries(applied.created).some(([kind, n]) => kind !== "Namespace" && n > 0);
  const earlier = Object.keys(applied.existingOwners)
    .filter((id) => id !== runId)
    .sort();
  return [...(createdSomething || applied.existingOwners[runId] ? [runId] : []), ...earlier];
}

function percentile(sorted: number[], p: number): number | undefined {
  if (!sorted.length) return undefined;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** The planned VMs as far as the create steps got (before or without the wait). */
export function plannedStatuses(plan: Plan, applied: ApplyResult): VmStatus[] {
  return plan.vms.map((v) => ({
    name: v.name,
    workload: v.workload,
    ...(v.role ? { role: v.role } : {}),
    phase: applied.vmCreatedAt.has(v.name) ? "Created" : "NotCreated",
    ...(applied.vmCreatedAt.get(v.name) ? { createdAt: applied.vmCreatedAt.get(v.name) as Date } : {}),
  }));
}

export function deploySummary(
  plan: Plan,
  applied: ApplyResult,
  outcome: DeploySummary["outcome"],
  vms: VmStatus[],
  message?: string,
): DeploySummary {
  const durations = vms
    .filter((v) => v.createdAt && v.runningAt)
    .map((v) => Math.max(0, (v.runningAt as Date).getTime() - (v.createdAt as Date).getTime()))
    .sort((a, b) => a - b);
  const timings: DeploySummary["timings"] = {};
  const p50 = percentile(durations, 50);
  const p95 = percentile(durations, 95);
  if (p50 !== undefined) timings.createdToRunningP50Ms = p50;
  if (p95 !== undefined) timings.createdToRunningP95Ms = p95;
  const toReady = vms
    .filter((v) => v.createdAt && v.readyAt)
    .map((v) => Math.max(0, (v.readyAt as Date).getTime() - (v.createdAt as Date).getTime()))
    .sort((a, b) => a - b);
  const r50 = percentile(toReady, 50);
  const r95 = percentile(toReady, 95);
  if (r50 !== undefined) timings.createdToReadyP50Ms = r50;
  if (r95 !== undefined) timings.createdToReadyP95Ms = r95;
  return {
    runId: plan.runId,
    namespace: plan.namespace,
    outcome,
    ...(message ? { message } : {}),
    namespaceCreated: applied.namespaceCreated,
    created: applied.created,
    existing: applied.existing,
    workloads: plan.workloads.map((w) => ({
      name: w.name,
      vms: w.vms,
      ready: vms.filter((v) => v.workload === w.name && v.reached).length,
      failed: vms.filter((v) => v.workload === w.name && (v.phase === "Failed" || v.reason !== undefined))
        .length,
    })),
    vms,
    timings,
    objects: applied.objects,
    ownerRunIds: ownerRunIds(plan.runId, applied),
  };
}

/**
 * The one line of a run that timed out: which VMs are not running / ready (the longest-waiting
 * first), why, and what to do next.
 */
export function timeoutMessage(
  timeoutSeconds: number,
  vms: VmStatus[],
  /** Where the VMs are, and the runs that own them (a re-run may own none of them). */
  where?: { namespace: string; runIds: string[] },
  waitFor: "running" | "ready" = "ready",
): string {
  const pending = vms
    .filter((v) => !v.reached)
    .sort((a, b) => (a.createdAt?.getTime() ?? 0) - (b.createdAt?.getTime() ?? 0));
  const detail = pending
    .slice(0, 5)
    .map(
      (v) => `${v.name} (${v.phase}${v.reason ? `: ${v.reason}` : v.conditions ? `: ${v.conditions}` : ""})`,
    )
    .join("; ");
  const next = `raise --timeout (e.g. --timeout ${Math.max(2 * timeoutSeconds, 60)}s), or lower --vm-count`;
  const look = where
    ? `; see virtwork status -n ${where.namespace}${where.runIds.length === 1 ? ` --run-id ${where.runIds[0]}` : ""}`
    : "";
  return `timed out after ${timeoutSeconds}s: ${pending.length} of ${vms.length} VMs are not ${waitFor}, slowest: ${detail}${pending.length > 5 ? "; …" : ""}; the VMs keep starting: ${next}${look}`;
}
