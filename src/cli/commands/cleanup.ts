import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { cleanUp } from "../../ops/cleanup-run.ts";
import { OUTCOMES } from "../../ops/outcome.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { terminalStatus } from "../progress.ts";
import { confirm } from "../prompt.ts";
import { cleanupProblem, renderCleanup, renderPreview, renderPreviewNames } from "../render/cleanup.ts";

interface CleanupFlags {
  runId?: string;
  yes?: boolean;
  dryRun?: boolean | string;
  wait?: boolean;
  deleteNamespace?: boolean;
  output?: "wide" | "name" | "yaml" | "json";
}

export function cleanupCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("cleanup")
    .description("Delete what virtwork created (found by label), after a preview and a confirmation")
    .addHelpText(
      "after",
      `
Examples:
  virtwork cleanup                                   # preview, then ask (y/yes)
  virtwork cleanup --run-id 3f2a… --yes --wait       # one run, no prompt, wait until gone
  virtwork cleanup -n perf --yes --delete-namespace
  virtwork cleanup --dry-run=server                  # RBAC and admission answer every delete; nothing goes`,
    );
  return addOptions(cmd, "cleanup").action(async (opts: CleanupFlags, command: Command) => {
    const { flags, logger, screen, format } = commandSetup(command, ctx);
    const data = opts.output === "json" || opts.output === "yaml" ? opts.output : undefined;
    if (typeof opts.dryRun === "string" && !["client", "server"].includes(opts.dryRun))
      throw new UsageError(`--dry-run: must be client or server, got "${opts.dryRun}"`);
    const dryRun = opts.dryRun === undefined ? false : opts.dryRun === "server" ? "server" : "client";
    const report = await cleanUp({
      flags,
      env: ctx.env,
      logger,
      status: terminalStatus(screen, format, logger),
      options: {
        ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
        yes: Boolean(opts.yes),
        dryRun,
        wait: Boolean(opts.wait),
        deleteNamespace: Boolean(opts.deleteNamespace),
      },
      interactive: Boolean(ctx.stdinTty),
      registry: ctx.registry,
      hooks: {
        preview: (preview) => {
          if (opts.output === "name") ctx.stdout(renderPreviewNames(preview));
          else if (!data) ctx.stdout(renderPreview(preview, opts.output === "wide"));
        },
        confirm: () => confirm(ctx, "Delete these objects? [y/N]: "),
      },
    });
    const result = renderCleanup(report, data);
    // With -o name, stdout holds only names; the result line goes to stderr.
    if (opts.output === "name") ctx.stderr(result);
    else ctx.stdout(result);
    const problem = cleanupProblem(report);
    if (problem) ctx.stderr(problem);
    if (OUTCOMES[report.outcome].exitCode) process.exitCode = OUTCOMES[report.outcome].exitCode;
  });
}
