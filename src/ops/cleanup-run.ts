import { randomUUID } from "node:crypto";
import { describeCleanup } from "../audit/describe.ts";
import { loadConfig } from "../config/load.ts";
import { settingFlags } from "../config/settings.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";
import {
  deleteNamespaceIfOurs,
  deleteObjects,
  emptyCleanupResult,
  previewCleanup,
  waitForDeletes,
} from "./cleanup.ts";
import type { CleanupPreview, CleanupResult } from "./cleanup-kinds.ts";
import { runSteps, type StatusReporter, type Step } from "./context.ts";
import { withOperation } from "./operation.ts";
import type { Outcome } from "./outcome.ts";
import { resolveRunId } from "./run-id.ts";

export interface CleanupOptions {
  runId?: string;
  yes: boolean;
  /** client: the preview only; server: every delete sent with dryRun=All (nothing is deleted). */
  dryRun: false | "client" | "server";
  wait: boolean;
  deleteNamespace: boolean;
}

/** What the caller shows and asks: the preview before anything is deleted, and the confirmation. */
export interface CleanupHooks {
  preview(preview: CleanupPreview): void;
  confirm(): Promise<boolean>;
}

export interface CleanupReport {
  outcome: Extract<Outcome, "deleted" | "checked" | "declined" | "failed">;
  message?: string;
  namespace: string;
  preview: CleanupPreview;
  /** Absent when nothing was deleted (nothing to do, --dry-run, or declined). */
  result?: CleanupResult;
}

interface CleanupState {
  namespace: string;
  options: CleanupOptions;
  timeoutSeconds: number;
  hooks: CleanupHooks;
  preview?: CleanupPreview;
  /** Why nothing is deleted, once that is decided. */
  stop?: "checked" | "declined";
  result: CleanupResult;
}

const preview = (s: CleanupState) => s.preview as CleanupPreview;
const going = (s: CleanupState) => s.stop === undefined;

/** The steps of `virtwork cleanup`, in order. */
export const CLEANUP_STEPS: readonly Step<CleanupState>[] = [
  {
    name: "select",
    run: async (ctx, s) => {
      s.preview = await previewCleanup(ctx.api, s.namespace, s.options.runId);
      return { objects: s.preview.total };
    },
  },
  {
    name: "preview",
    run: async (_ctx, s) => {
      s.hooks.preview(preview(s));
      const nothing = preview(s).total === 0 && !s.options.deleteNamespace && !preview(s).unlistable.length;
      if (nothing || s.options.dryRun === "client") s.stop = "checked";
      return undefined;
    },
  },
  {
    name: "confirm",
    when: (s) => going(s) && !s.options.yes && s.options.dryRun !== "server",
    run: async (_ctx, s) => {
      if (!(await s.hooks.confirm())) s.stop = "declined";
      return undefined;
    },
  },
  {
    name: "delete",
    when: going,
    run: async (ctx, s) => {
      await deleteObjects(ctx, preview(s), s.result);
      return { ...s.result.deleted, errors: s.result.errors.length };
    },
    shortfall: (s) => (s.result.errors.length ? `${s.result.errors.length} failed` : undefined),
  },
  {
    name: "wait until gone",
    when: (s) => going(s) && !s.result.dryRun && (s.options.wait || s.options.deleteNamespace),
    run: async (ctx, s) => {
      await waitForDeletes(ctx, preview(s), s.result, s.timeoutSeconds);
      return { remaining: s.result.remaining.length };
    },
    shortfall: (s) => (s.result.remaining.length ? `${s.result.remaining.length} still there` : undefined),
  },
  {
    name: "delete namespace",
    when: (s) => going(s) && s.options.deleteNamespace,
    run: async (ctx, s) => {
      await deleteNamespaceIfOurs(ctx, preview(s), s.result, {
        ...(s.options.runId ? { runId: s.options.runId } : {}),
        wait: s.options.wait,
        timeoutSeconds: s.timeoutSeconds,
      });
      const counts: Record<string, number> = s.result.namespaceDeleted ? { deleted: 1 } : { kept: 1 };
      return counts;
    },
  },
];

export interface CleanupInput {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  status: StatusReporter;
  options: CleanupOptions;
  /** A terminal to confirm on: without one, cleanup needs --yes. */
  interactive: boolean;
  hooks: CleanupHooks;
  registry: Registry;
}

/** `virtwork cleanup`: select → preview → confirm → delete → wait until gone, recorded in the audit trail. */
export async function cleanUp(input: CleanupInput): Promise<CleanupReport> {
  const { options, logger } = input;
  // Its own --dry-run and --wait are not the run settings of the same name.
  const flags = settingFlags(input.flags, ["global", "cleanup"]);
  const { config } = loadConfig({ flags, env: input.env, registry: input.registry, openCatalog });
  if (options.runId !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(options.runId)) {
    throw new UsageError(
      `--run-id: "${options.runId}" is not a run id (e.g. the uuid printed by virtwork run)`,
    );
  }
  if (!options.yes && !options.dryRun && !input.interactive) {
    throw new UsageError("--yes: cleanup needs --yes when there is no terminal to confirm on");
  }
  const cleanupId = randomUUID();
  const operation = {
    config,
    env: input.env,
    logger,
    status: input.status,
    auditId: cleanupId,
    audit: !options.dryRun,
    recordEvents: false,
    describe: (clusterContext: string) =>
      describeCleanup(config, {
        runId: cleanupId,
        cleanupMode: options.runId ? "run-id" : "all",
        clusterContext,
        options: {
          ...(options.runId ? { runId: options.runId } : {}),
          wait: options.wait,
          deleteNamespace: options.deleteNamespace,
        },
      }),
  };
  return withOperation(operation, async (ctx, auditor): Promise<CleanupReport> => {
    // A short id (as status shows it) is the one run it starts.
    const runId =
      options.runId === undefined
        ? undefined
        : await resolveRunId(ctx.api, config.namespace, options.runId, logger);
    const state: CleanupState = {
      namespace: config.namespace,
      options: { ...options, ...(runId ? { runId } : {}) },
      timeoutSeconds: config.timeoutSeconds,
      hooks: input.hooks,
      result: emptyCleanupResult(options.dryRun === "server"),
    };
    await runSteps(ctx, CLEANUP_STEPS, state);
    const found = preview(state);
    const report = { namespace: config.namespace, preview: found };
    if (state.stop === "checked") {
      // Nothing to delete, or only a preview: still a failure when a kind could not be listed.
      return found.unlistable.length
        ? {
            ...report,
            outcome: "failed",
            message: "the preview is incomplete: some kinds could not be listed",
          }
        : { ...report, outcome: "checked" };
    }
    if (state.stop === "declined")
      return { ...report, outcome: "declined", message: "user declined confirmation" };
    const { result } = state;
    if (!result.dryRun) {
      // What was deleted, not what was listed: the per-kind counts and linked run ids of history.
      await auditor.recordCleanup(cleanupId, {
        deleted: result.deletedItems.map((i) => ({
          kind: i.kind,
          name: i.name,
          namespace: config.namespace,
          ...(i.runId ? { runId: i.runId } : {}),
        })),
        namespaceDeleted: result.namespaceDeleted,
      });
    }
    for (const note of result.notes) logger.warn("cleanup", { note });
    if (!result.errors.length) return { ...report, outcome: result.dryRun ? "checked" : "deleted", result };
    return {
      ...report,
      outcome: "failed",
      message: `incomplete: ${result.errors.length} ${result.errors.length === 1 ? "problem" : "problems"}; first: ${result.errors[0]}`,
      result,
    };
  });
}
