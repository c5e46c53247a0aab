import { randomUUID } from "node:crypto";
import { describeRun } from "../audit/describe.ts";
import { loadConfig } from "../config/load.ts";
import { settingFlags } from "../config/settings.ts";
import { UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";
import {
  type CleanupPreview,
  type CleanupResult,
  deleteNamespaceIfOurs,
  deleteObjects,
  emptyCleanupResult,
  previewCleanup,
  waitUntilGone,
} from "./cleanup.ts";
import { runSteps, type StatusReporter, type Step } from "./context.ts";
import { withOperation } from "./operation.ts";
import type { Outcome } from "./outcome.ts";

export interface CleanupOptions {
  runId?: string;
  yes: boolean;
  dryRun: boolean;
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
      if ((preview(s).total === 0 && !s.options.deleteNamespace) || s.options.dryRun) s.stop = "checked";
      return undefined;
    },
  },
  {
    name: "confirm",
    when: (s) => going(s) && !s.options.yes,
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
  },
  {
    name: "wait until gone",
    when: (s) => going(s) && (s.options.wait || s.options.deleteNamespace),
    run: async (ctx, s) => void (await waitUntilGone(ctx, preview(s), s.timeoutSeconds)),
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
      describeRun(config, {
        runId: cleanupId,
        command: "cleanup",
        cleanupMode: options.runId ? "run-id" : "all",
        clusterContext,
      }),
  };
  return withOperation(operation, async (ctx, auditor): Promise<CleanupReport> => {
    const state: CleanupState = {
      namespace: config.namespace,
      options,
      timeoutSeconds: config.timeoutSeconds,
      hooks: input.hooks,
      result: emptyCleanupResult(),
    };
    await runSteps(ctx, CLEANUP_STEPS, state);
    const found = preview(state);
    const report = { namespace: config.namespace, preview: found };
    if (state.stop === "checked") return { ...report, outcome: "checked" };
    if (state.stop === "declined")
      return { ...report, outcome: "declined", message: "user declined confirmation" };
    const { result } = state;
    await auditor.recordCleanup(cleanupId, {
      deleted: found.items.map((i) => ({ ...i, namespace: config.namespace })),
      namespaceDeleted: result.namespaceDeleted,
    });
    for (const error of result.errors) logger.warn("cleanup warning", { error });
    if (!result.errors.length) return { ...report, outcome: "deleted", result };
    return {
      ...report,
      outcome: "failed",
      message: `${result.errors.length} objects could not be deleted`,
      result,
    };
  });
}
