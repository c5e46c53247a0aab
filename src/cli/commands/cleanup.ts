import { randomUUID } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { type Command, Option } from "commander";
import { type Auditor, type FinalStatus, NoopAuditor } from "../../audit/auditor.ts";
import { describeRun } from "../../audit/describe.ts";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import type { KubeApi } from "../../kube/api.ts";
import { type CleanupPreview, executeCleanup, previewCleanup } from "../../ops/cleanup.ts";
import type { OpsContext } from "../../ops/context.ts";
import { createRegistry } from "../../workloads/registry.ts";
import { openAudit } from "../audit.ts";
import { interruptible, openCluster, opsContext, progressWriter } from "../cluster.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { toTable } from "../output.ts";

const LABELS: Record<keyof CleanupPreview["objects"], string> = {
  vms: "VirtualMachines",
  dataVolumes: "DataVolumes",
  pvcs: "PersistentVolumeClaims",
  services: "Services",
  secrets: "Secrets",
};

function renderPreview(p: CleanupPreview): string {
  const rows = (Object.keys(LABELS) as (keyof typeof LABELS)[]).map((k) => [
    LABELS[k],
    String(p.objects[k].length),
    p.objects[k].slice(0, 3).join(", ") + (p.objects[k].length > 3 ? ", …" : ""),
  ]);
  const skipped = p.skippedKinds.length ? `Not checked: ${p.skippedKinds.join(", ")}\n` : "";
  return `Namespace ${p.namespace}, selector ${p.selector}${p.runIds.length ? `, runs: ${p.runIds.join(", ")}` : ""}\n${toTable(["KIND", "COUNT", "NAMES"], rows)}${skipped}`;
}

async function confirm(ctx: CliContext): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question("Delete these objects? Type 'yes' to continue: ");
    return answer.trim().toLowerCase() === "yes";
  } catch {
    return false;
  } finally {
    rl.close();
    ctx.stderr("");
  }
}

interface CleanupOptions {
  runId?: string;
  yes?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  deleteNamespace?: boolean;
  output: string;
}

const CONFIG_FLAGS = [
  "namespace",
  "kubeconfig",
  "context",
  "config",
  "verbose",
  "audit",
  "audit-db",
  "qps",
  "burst",
  "timeout",
];

export function cleanupCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("cleanup")
    .description("Delete what virtwork created (found by label), after a preview and a confirmation")
    .option("--run-id <id>", "only the objects of this run")
    .option("-y, --yes", "do not ask for confirmation (required without a terminal)")
    .option("--dry-run", "only show what would be deleted")
    .option("--wait", "wait until the objects are gone")
    .option("--timeout <duration>", "how long --wait waits (default: 600)")
    .option(
      "--delete-namespace",
      "also delete the namespace, if virtwork created it and nothing else lives there",
    )
    .option("--qps <n>", "client-side limit of API requests per second (default: 50)")
    .option("--burst <n>", "requests allowed in a burst above --qps (default: 100)")
    .addOption(new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"))
    .addHelpText(
      "after",
      `
Examples:
  virtwork cleanup                                   # preview, then ask
  virtwork cleanup --run-id 3f2a… --yes --wait       # one run, no prompt, wait until gone
  virtwork cleanup -n perf --yes --delete-namespace`,
    )
    .action(async (opts: CleanupOptions, command: Command) => {
      const { flags, logger } = commandSetup(command, ctx);
      const configFlags = Object.fromEntries(Object.entries(flags).filter(([k]) => CONFIG_FLAGS.includes(k)));
      const { config } = loadConfig({ flags: configFlags, env: ctx.env, registry: createRegistry() });
      if (opts.runId !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(opts.runId)) {
        throw new UsageError(
          `--run-id: "${opts.runId}" is not a run id (e.g. the uuid printed by virtwork run)`,
        );
      }
      if (!opts.yes && !opts.dryRun && !process.stdin.isTTY) {
        throw new UsageError("--yes: cleanup needs --yes when there is no terminal to confirm on");
      }
      const auditor = opts.dryRun ? new NoopAuditor() : await openAudit(config, ctx.env, logger);
      const cleanupId = randomUUID();
      let session: Awaited<ReturnType<typeof openCluster>>;
      try {
        session = await openCluster(config, ctx, logger);
      } catch (err) {
        await auditor.close();
        throw err;
      }
      const signals = interruptible(logger);
      const progress = progressWriter(ctx, Boolean(process.stderr.isTTY), logger);
      await auditor.startRun(
        describeRun(config, {
          runId: cleanupId,
          command: "cleanup",
          cleanupMode: opts.runId ? "run-id" : "all",
          clusterContext: session.contextName,
        }),
      );
      const outcome: { status: FinalStatus; error?: string } = { status: "failed" };
      try {
        await cleanup(opts, config.namespace, config.timeoutSeconds, {
          ctx,
          session,
          auditor,
          cleanupId,
          outcome,
          ops: opsContext(session, logger, signals.signal, progress.update),
          progressDone: progress.done,
        });
      } catch (err) {
        outcome.error = (err as Error).message;
        if (signals.interrupted()) outcome.status = "cancelled";
        throw err;
      } finally {
        progress.done();
        signals.dispose();
        session.close();
        await auditor.completeRun(cleanupId, outcome.status, outcome.error);
        await auditor.close().catch(() => undefined);
      }
    });
}

/** Preview → (dry run | confirm) → delete → report; records the outcome for the audit trail. */
async function cleanup(
  opts: CleanupOptions,
  namespace: string,
  timeoutSeconds: number,
  deps: {
    ctx: CliContext;
    session: { api: KubeApi };
    auditor: Auditor;
    cleanupId: string;
    outcome: { status: FinalStatus; error?: string };
    ops: OpsContext;
    progressDone: () => void;
  },
): Promise<void> {
  const { ctx, outcome } = deps;
  const preview = await previewCleanup(deps.session.api, namespace, opts.runId);
  const json = opts.output === "json";
  if (!json) ctx.stdout(renderPreview(preview));
  if ((preview.total === 0 && !opts.deleteNamespace) || opts.dryRun) {
    if (json) ctx.stdout(`${JSON.stringify({ preview, deleted: null }, null, 2)}\n`);
    else ctx.stdout(preview.total === 0 ? "Nothing to clean up.\n" : "Dry run: nothing was deleted.\n");
    outcome.status = "success";
    return;
  }
  if (!opts.yes && !(await confirm(ctx))) {
    ctx.stdout("Aborted: nothing was deleted.\n");
    outcome.status = "aborted";
    outcome.error = "user declined confirmation";
    return;
  }
  const result = await executeCleanup(deps.ops, preview, {
    ...(opts.runId ? { runId: opts.runId } : {}),
    wait: Boolean(opts.wait),
    deleteNamespace: Boolean(opts.deleteNamespace),
    timeoutSeconds,
  });
  deps.progressDone();
  await deps.auditor.recordCleanup(deps.cleanupId, {
    deleted: preview.items.map((i) => ({ ...i, namespace })),
    namespaceDeleted: result.namespaceDeleted,
  });
  outcome.status = result.errors.length ? "failed" : "success";
  if (result.errors.length) outcome.error = `${result.errors.length} objects could not be deleted`;
  for (const error of result.errors) deps.ops.logger.warn("cleanup warning", { error });
  if (json) {
    ctx.stdout(`${JSON.stringify({ preview, ...result }, null, 2)}\n`);
  } else {
    const counts = (Object.keys(LABELS) as (keyof typeof LABELS)[])
      .map((k) => `${result.deleted[k]} ${LABELS[k]}`)
      .join(", ");
    ctx.stdout(`Deleted ${counts}.${result.namespaceDeleted ? ` Namespace ${namespace} deleted.` : ""}\n`);
    if (result.namespaceKept) ctx.stdout(`Namespace ${namespace} kept: ${result.namespaceKept}.\n`);
  }
  if (result.errors.length) {
    ctx.stderr(`Error: ${result.errors.length} objects could not be deleted; first: ${result.errors[0]}\n`);
    process.exitCode = 1;
  }
}
