import { describeRun } from "../audit/describe.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import type { Plan } from "../plan/plan.ts";
import { prepareRun } from "../plan/prepare.ts";
import type { Registry } from "../workloads/registry.ts";
import {
  ApplyConflict,
  type ApplyResult,
  checkExisting,
  createObjects,
  emptyApplyResult,
  ensureNamespace,
  preflight,
} from "./apply.ts";
import { Interrupted, type OpsContext, runSteps, type StatusReporter, type Step } from "./context.ts";
import { countRunObjects } from "./inventory.ts";
import { withOperation } from "./operation.ts";
import {
  type DeploySummary,
  deploySummary,
  ownerRunIds,
  plannedStatuses,
  timeoutMessage,
} from "./summary.ts";
import { verifySettings } from "./verify/settings.ts";
import { type WaitResult, waitForVms } from "./wait.ts";

export interface DeployOptions {
  dryRun: "none" | "server";
  wait: boolean;
  timeoutSeconds: number;
  vmConcurrency: number;
  /** How long a VM may stay unschedulable (an autoscaler may add a node) before the wait fails. */
  unschedulableGraceSeconds?: number;
  /** What the wait waits for: the VMI running, or its readiness probe passing (default). */
  waitFor?: "running" | "ready";
}

interface DeployState {
  plan: Plan;
  options: DeployOptions;
  applied: ApplyResult;
  waited?: WaitResult;
}

/** One create step: the plan's objects of `kind`; counts what it created and found. */
function createStep(kind: "Service" | "Secret" | "VirtualMachine", limit: (o: DeployOptions) => number) {
  return async (ctx: OpsContext, s: DeployState) => {
    const [created, existing] = [s.applied.created[kind] ?? 0, s.applied.existing[kind] ?? 0];
    await createObjects(ctx, s.plan, s.applied, kind, {
      limit: limit(s.options),
      dryRun: s.options.dryRun === "server",
    });
    // A server dry run creates nothing: it says what would be created.
    return {
      [s.options.dryRun === "server" ? "wouldCreate" : "created"]: (s.applied.created[kind] ?? 0) - created,
      existing: (s.applied.existing[kind] ?? 0) - existing,
    };
  };
}

/** The steps of `virtwork run` against a cluster, in order. */
export const DEPLOY_STEPS: readonly Step<DeployState>[] = [
  { name: "preflight", run: async (ctx, s) => void (await preflight(ctx, s.plan)) },
  {
    name: "namespace",
    run: async (ctx, s) => {
      await ensureNamespace(ctx, s.plan, s.applied, s.options.dryRun === "server");
      const made = s.options.dryRun === "server" ? "wouldCreate" : "created";
      const counts: Record<string, number> = s.applied.created.Namespace ? { [made]: 1 } : { existing: 1 };
      return counts;
    },
  },
  {
    // A re-run never adopts, changes or silently keeps something else (see checkExisting).
    name: "existing objects",
    run: async (ctx, s) => {
      await checkExisting(ctx, s.plan, s.applied);
      return { found: s.applied.present.size };
    },
  },
  { name: "services", run: createStep("Service", () => 5) },
  { name: "secrets", run: createStep("Secret", (o) => Math.max(10, o.vmConcurrency)) },
  { name: "virtual machines", run: createStep("VirtualMachine", (o) => o.vmConcurrency) },
  {
    name: "wait",
    when: (s) => s.options.wait && s.options.dryRun === "none",
    run: async (ctx, s) => {
      ctx.logger.debug("waiting for VMs to be running", {
        vms: s.plan.vms.length,
        timeout_seconds: s.options.timeoutSeconds,
        wait_for: s.options.waitFor ?? "ready",
      });
      s.waited = await waitForVms(ctx, s.plan, {
        timeoutSeconds: s.options.timeoutSeconds,
        createdAt: s.applied.vmCreatedAt,
        ...(s.options.unschedulableGraceSeconds !== undefined
          ? { unschedulableGraceSeconds: s.options.unschedulableGraceSeconds }
          : {}),
        ...(s.options.waitFor ? { waitFor: s.options.waitFor } : {}),
      });
      return {
        running: s.waited.vms.filter((v) => v.phase === "Running").length,
        ready: s.waited.vms.filter((v) => v.readyAt).length,
        vms: s.plan.vms.length,
      };
    },
    shortfall: (s) => {
      if (!s.waited || s.waited.outcome === "ready") return undefined;
      const reached = s.waited.vms.filter((v) => v.reached).length;
      return `${s.waited.outcome}, ${reached}/${s.plan.vms.length} ${s.options.waitFor ?? "ready"}`;
    },
  },
];

/** Runs the deploy steps over one context and sums up how the run ended. */
export async function deploy(ctx: OpsContext, plan: Plan, options: DeployOptions): Promise<DeploySummary> {
  const state: DeployState = { plan, options, applied: emptyApplyResult() };
  /** What of the run exists, counted in the cluster by its run-id label (not from the answers seen). */
  const interrupted = async (s: DeploySummary): Promise<DeploySummary> => {
    if (options.dryRun === "server") return s;
    try {
      // After the signal: counted with calls that the signal does not abort.
      s.inCluster = await countRunObjects(ctx.api.unbound(), plan.namespace, plan.runId);
    } catch (err) {
      ctx.logger.warn("could not count the run's objects in the cluster", { error: (err as Error).message });
    }
    return s;
  };
  try {
    await runSteps(ctx, DEPLOY_STEPS, state);
  } catch (err) {
    if (err instanceof ApplyConflict)
      return deploySummary(plan, state.applied, "failed", plannedStatuses(plan, state.applied), err.message);
    if (state.waited === undefined && (err instanceof Interrupted || ctx.signal.aborted)) {
      ctx.emit({ type: "interrupted", stage: "apply" });
      return interrupted(
        deploySummary(
          plan,
          state.applied,
          "interrupted",
          plannedStatuses(plan, state.applied),
          "interrupted while creating objects",
        ),
      );
    }
    throw err;
  }
  const { waited, applied } = state;
  if (options.dryRun === "server")
    return deploySummary(plan, applied, "checked", plannedStatuses(plan, applied));
  if (!waited) return deploySummary(plan, applied, "created", plannedStatuses(plan, applied));
  switch (waited.outcome) {
    case "ready":
      return deploySummary(plan, applied, "ready", waited.vms);
    case "failed":
      return deploySummary(plan, applied, "failed", waited.vms, waited.failure);
    case "interrupted":
      ctx.emit({ type: "interrupted", stage: "wait" });
      return interrupted(
        deploySummary(plan, applied, "interrupted", waited.vms, "interrupted while waiting for the VMs"),
      );
    default:
      return deploySummary(
        plan,
        applied,
        "timeout",
        waited.vms,
        timeoutMessage(
          options.timeoutSeconds,
          waited.vms,
          { namespace: plan.namespace, runIds: ownerRunIds(plan.runId, applied) },
          options.waitFor ?? "ready",
        ),
      );
  }
}

export interface RunInput {
  /** Only the flags given on the command line, keyed by long name. */
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  status: StatusReporter;
  registry: Registry;
}

export type RunReport =
  | { outcome: "planned"; config: Config; plan: Plan }
  | {
      outcome: DeploySummary["outcome"];
      message?: string;
      config: Config;
      plan: Plan;
      summary: DeploySummary;
    };

/**
 * `virtwork run`: configuration → plan, then either the plan to print (--dry-run=client) or
 * the deploy steps against the cluster, recorded in the audit trail.
 */
export async function runWorkloads(input: RunInput): Promise<RunReport> {
  const { flags, logger } = input;
  const { config, plan } = prepareRun({ flags, env: input.env, logger, registry: input.registry });
  // --verify's flags (URL, token, CA bundle) are bad input too: found now, not after the VMs run.
  if (flags.verify === true)
    verifySettings({ flags, env: input.env, timeoutSeconds: config.timeoutSeconds, wait: true });
  if (config.dryRun === "client") {
    logger.info("dry run: printing the plan, nothing is sent to a cluster", {
      run_id: plan.runId,
      namespace: plan.namespace,
      namespace_from: config.sources.namespace,
      vms: plan.vms.length,
      workloads: plan.workloads.map((w) => w.name),
    });
    return { outcome: "planned", config, plan };
  }
  const server = config.dryRun === "server";
  const operation = {
    config,
    env: input.env,
    logger,
    status: input.status,
    auditId: plan.runId,
    audit: true,
    recordEvents: true,
    describe: (clusterContext: string) =>
      describeRun(config, { runId: plan.runId, command: server ? "dry-run" : "run", plan, clusterContext }),
  };
  return withOperation(operation, async (ctx, auditor, contextName) => {
    logger.info(server ? "server dry run: the cluster checks every object" : "deploying", {
      run_id: plan.runId,
      namespace: plan.namespace,
      namespace_from: config.sources.namespace,
      context: contextName,
      vms: plan.vms.length,
    });
    const summary = await deploy(ctx, plan, {
      dryRun: server ? "server" : "none",
      wait: config.wait,
      timeoutSeconds: config.timeoutSeconds,
      vmConcurrency: config.vmConcurrency,
      unschedulableGraceSeconds: config.unschedulableGraceSeconds,
      waitFor: config.waitFor,
    });
    for (const w of summary.workloads) {
      void auditor.updateWorkload(
        plan.runId,
        w.name,
        w.failed > 0 ? "failed" : w.ready === w.vms ? "ready" : "created",
      );
    }
    return {
      outcome: summary.outcome,
      ...(summary.message ? { message: summary.message } : {}),
      config,
      plan,
      summary,
    };
  });
}
