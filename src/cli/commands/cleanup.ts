import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { cleanUp } from "../../ops/cleanup-run.ts";
import { OUTCOMES } from "../../ops/outcome.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { terminalStatus } from "../progress.ts";
import { confirm } from "../prompt.ts";
import { cleanupProblem, renderCleanup, renderPreview } from "../render/cleanup.ts";

interface CleanupFlags {
  runId?: string;
  yes?: boolean;
  dryRun?: boolean | string;
  wait?: boolean;
  deleteNamespace?: boolean;
  output: string;
}

export function cleanupCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("cleanup")
    .description("Delete what virtwork created (found by label), after a preview and a confirmation")
    .addHelpText(
      "after",
      `
Examples:
  virtwork cleanup                                   # preview, then ask
  virtwork cleanup --run-id 3f2a… --yes --wait       # one run, no prompt, wait until gone
  virtwork cleanup -n perf --yes --delete-namespace
  virtwork cleanup --dry-run=server                  # RBAC and admission answer every delete; nothing goes`,
    );
  return addOptions(cmd, "cleanup").action(async (opts: CleanupFlags, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    const json = opts.output === "json";
    if (typeof opts.dryRun === "string" && !["client", "server"].includes(opts.dryRun))
      throw new UsageError(`--dry-run: must be client or server, got "${opts.dryRun}"`);
    const dryRun = opts.dryRun === undefined ? false : opts.dryRun === "server" ? "server" : "client";
    const report = await cleanUp({
      flags,
      env: ctx.env,
      logger,
      status: terminalStatus(ctx, Boolean(process.stderr.isTTY), logger),
      options: {
        ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
        yes: Boolean(opts.yes),
        dryRun,
        wait: Boolean(opts.wait),
        deleteNamespace: Boolean(opts.deleteNamespace),
      },
      interactive: Boolean(process.stdin.isTTY),
      registry: ctx.registry,
      hooks: {
        preview: (preview) => (json ? undefined : ctx.stdout(renderPreview(preview))),
        confirm: () => confirm(ctx, "Delete these objects? Type 'yes' to continue: "),
      },
    });
    ctx.stdout(renderCleanup(report, json));
    const problem = cleanupProblem(report);
    if (problem) ctx.stderr(problem);
    if (OUTCOMES[report.outcome].exitCode) process.exitCode = OUTCOMES[report.outcome].exitCode;
  });
}
