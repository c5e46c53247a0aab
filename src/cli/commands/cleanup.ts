import { type Command, Option } from "commander";
import { cleanUp } from "../../ops/cleanup-run.ts";
import { OUTCOMES } from "../../ops/outcome.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { terminalStatus } from "../progress.ts";
import { confirm } from "../prompt.ts";
import { cleanupProblem, renderCleanup, renderPreview } from "../render/cleanup.ts";

interface CleanupFlags {
  runId?: string;
  yes?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  deleteNamespace?: boolean;
  output: string;
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
    .action(async (opts: CleanupFlags, command: Command) => {
      const { flags, logger } = commandSetup(command, ctx);
      const json = opts.output === "json";
      const report = await cleanUp({
        flags,
        env: ctx.env,
        logger,
        status: terminalStatus(ctx, Boolean(process.stderr.isTTY), logger),
        options: {
          ...(opts.runId !== undefined ? { runId: opts.runId } : {}),
          yes: Boolean(opts.yes),
          dryRun: Boolean(opts.dryRun),
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
