import type { Plan } from "../plan/plan.ts";
import { ApplyInterrupted, type ApplyResult, applyPlan, preflight } from "./apply.ts";
import { Interrupted, type OpsContext } from "./context.ts";
import { type VmStatus, waitForVms } from "./wait.ts";

export interface DeployOptions {
  dryRun: "none" | "server";
  wait: boolean;
  timeoutSeconds: number;
  vmConcurrency: number;
}

export interface DeploySummary {
  runId: string;
  namespace: string;
  outcome: "ready" | "created" | "checked" | "failed" | "timeout" | "interrupted";
  /** One line for failed, timed-out and interrupted runs. */
  message?: string;
  namespaceCreated: boolean;
  created: Record<string, number>;
  existing: Record<string, number>;
  workloads: { name: string; vms: number; ready: number; failed: number }[];
  vms: VmStatus[];
  timings: { createdToRunningP50Ms?: number; createdToRunningP95Ms?: number };
  /** Objects that exist (created or found), for an interrupted run's report. */
  objects: { kind: string; name: string }[];
}

function percentile(sorted: number[], p: number): number | undefined {
  if (!sorted.length) return undefined;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/** Preflight, apply, wait: the steps of `virtwork run` against a cluster. */
export async function deploy(ctx: OpsContext, plan: Plan, options: DeployOptions): Promise<DeploySummary> {
  await preflight(ctx, plan);
  let applied: ApplyResult | undefined;
  const summary = (outcome: DeploySummary["outcome"], vms: VmStatus[], message?: string): DeploySummary => {
    const durations = vms
      .filter((v) => v.createdAt && v.runningAt)
      .map((v) => Math.max(0, (v.runningAt as Date).getTime() - (v.createdAt as Date).getTime()))
      .sort((a, b) => a - b);
    const timings: DeploySummary["timings"] = {};
    const p50 = percentile(durations, 50);
    const p95 = percentile(durations, 95);
    if (p50 !== undefined) timings.createdToRunningP50Ms = p50;
    if (p95 !== undefined) timings.createdToRunningP95Ms = p95;
    return {
      runId: plan.runId,
      namespace: plan.namespace,
      outcome,
      ...(message ? { message } : {}),
      namespaceCreated: applied?.namespaceCreated ?? false,
      created: applied?.created ?? {},
      existing: applied?.existing ?? {},
      workloads: plan.workloads.map((w) => ({
        name: w.name,
        vms: w.vms,
        ready: vms.filter((v) => v.workload === w.name && v.phase === "Running").length,
        failed: vms.filter((v) => v.workload === w.name && (v.phase === "Failed" || v.reason !== undefined))
          .length,
      })),
      vms,
      timings,
      objects: applied?.objects ?? [],
    };
  };
  const plannedStatuses = (): VmStatus[] =>
    plan.vms.map((v) => ({
      name: v.name,
      workload: v.workload,
      ...(v.role ? { role: v.role } : {}),
      phase: applied?.vmCreatedAt.has(v.name) ? "Created" : "NotCreated",
      ...(applied?.vmCreatedAt.get(v.name) ? { createdAt: applied.vmCreatedAt.get(v.name) as Date } : {}),
    }));

  try {
    applied = await applyPlan(ctx, plan, { dryRun: options.dryRun, vmConcurrency: options.vmConcurrency });
  } catch (err) {
    if (err instanceof ApplyInterrupted) applied = err.result;
    if (err instanceof Interrupted || ctx.signal.aborted) {
      ctx.emit({ type: "interrupted", stage: "apply" });
      return summary("interrupted", plannedStatuses(), "interrupted while creating objects");
    }
    throw err;
  }
  if (options.dryRun === "server") return summary("checked", plannedStatuses());
  if (!options.wait) return summary("created", plannedStatuses());

  ctx.logger.info("waiting for VMs to be running", {
    vms: plan.vms.length,
    timeout_seconds: options.timeoutSeconds,
  });
  const waited = await waitForVms(ctx, plan, {
    timeoutSeconds: options.timeoutSeconds,
    createdAt: applied.vmCreatedAt,
  });
  switch (waited.outcome) {
    case "ready":
      return summary("ready", waited.vms);
    case "failed":
      return summary("failed", waited.vms, waited.failure);
    case "interrupted":
      ctx.emit({ type: "interrupted", stage: "wait" });
      return summary("interrupted", waited.vms, "interrupted while waiting for the VMs");
    default: {
      const pending = waited.vms.filter((v) => v.phase !== "Running");
      const detail = pending
        .slice(0, 10)
        .map(
          (v) =>
            `${v.name} (${v.phase}${v.reason ? `: ${v.reason}` : v.conditions ? `: ${v.conditions}` : ""})`,
        )
        .join("; ");
      return summary(
        "timeout",
        waited.vms,
        `timed out after ${options.timeoutSeconds}s: ${pending.length} of ${waited.vms.length} VMs are not running: ${detail}${pending.length > 10 ? "; …" : ""}`,
      );
    }
  }
}
