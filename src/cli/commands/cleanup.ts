import { createInterface } from "node:readline/promises";
import { type Command, Option } from "commander";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { type CleanupPreview, executeCleanup, previewCleanup } from "../../ops/cleanup.ts";
import { createRegistry } from "../../workloads/registry.ts";
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
  return `Namespace ${p.namespace}, selector ${p.selector}${p.runIds.length ? `, runs: ${p.runIds.join(", ")}` : ""}\n${toTable(["KIND", "COUNT", "NAMES"], rows)}`;
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
    .action(
      async (
        opts: {
          runId?: string;
          yes?: boolean;
          dryRun?: boolean;
          wait?: boolean;
          deleteNamespace?: boolean;
          output: string;
        },
        command: Command,
      ) => {
        const { flags, logger } = commandSetup(command, ctx);
        const planFlags = Object.fromEntries(
          Object.entries(flags).filter(([k]) =>
            [
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
            ].includes(k),
          ),
        );
        const { config } = loadConfig({ flags: planFlags, env: ctx.env, registry: createRegistry() });
        if (opts.runId !== undefined && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,62}$/.test(opts.runId)) {
          throw new UsageError(
            `--run-id: "${opts.runId}" is not a run id (e.g. the uuid printed by virtwork run)`,
          );
        }
        const interactive = Boolean(process.stdin.isTTY);
        if (!opts.yes && !opts.dryRun && !interactive) {
          throw new UsageError("--yes: cleanup needs --yes when there is no terminal to confirm on");
        }
        const session = await openCluster(config, ctx, logger);
        const signals = interruptible(logger);
        const progress = progressWriter(ctx, Boolean(process.stderr.isTTY));
        try {
          const preview = await previewCleanup(session.api, config.namespace, opts.runId);
          const json = opts.output === "json";
          if (!json) ctx.stdout(renderPreview(preview));
          if (preview.total === 0 && !opts.deleteNamespace) {
            if (json) ctx.stdout(`${JSON.stringify({ preview, deleted: null }, null, 2)}\n`);
            else ctx.stdout("Nothing to clean up.\n");
            return;
          }
          if (opts.dryRun) {
            if (json) ctx.stdout(`${JSON.stringify({ preview, deleted: null }, null, 2)}\n`);
            else ctx.stdout("Dry run: nothing was deleted.\n");
            return;
          }
          if (!opts.yes && !(await confirm(ctx))) {
            ctx.stdout("Aborted: nothing was deleted.\n");
            return;
          }
          const result = await executeCleanup(
            opsContext(session, logger, signals.signal, progress.update),
            preview,
            {
              ...(opts.runId ? { runId: opts.runId } : {}),
              wait: Boolean(opts.wait),
              deleteNamespace: Boolean(opts.deleteNamespace),
              timeoutSeconds: config.timeoutSeconds,
            },
          );
          progress.done();
          for (const error of result.errors) logger.warn("cleanup warning", { error });
          if (json) {
            ctx.stdout(`${JSON.stringify({ preview, ...result }, null, 2)}\n`);
          } else {
            const counts = (Object.keys(LABELS) as (keyof typeof LABELS)[])
              .map((k) => `${result.deleted[k]} ${LABELS[k]}`)
              .join(", ");
            ctx.stdout(
              `Deleted ${counts}.${result.namespaceDeleted ? ` Namespace ${config.namespace} deleted.` : ""}\n`,
            );
            if (result.namespaceKept)
              ctx.stdout(`Namespace ${config.namespace} kept: ${result.namespaceKept}.\n`);
          }
          if (result.errors.length) {
            ctx.stderr(
              `Error: ${result.errors.length} objects could not be deleted; first: ${result.errors[0]}\n`,
            );
            process.exitCode = 1;
          }
        } finally {
          progress.done();
          signals.dispose();
          session.close();
        }
      },
    );
}
