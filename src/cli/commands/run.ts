import type { Command } from "commander";
import { OUTCOMES } from "../../ops/outcome.ts";
import { runWorkloads } from "../../ops/run.ts";
import { verifyRun } from "../../ops/verify/verify.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { writeJsonList, writeYamlDocuments } from "../output.ts";
import { terminalStatus } from "../progress.ts";
import { renderSummary, runProblem, summaryData } from "../render/run.ts";
import { renderVerify, verifyProblem } from "../render/verify.ts";

export function runCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("run")
    .description(
      "Create the VMs of the selected workloads and wait until they run (or print them with --dry-run)",
    )
    .addHelpText(
      "after",
      `
Examples:
  # Print every object of the default run (6 workloads, 8 VMs); contacts no cluster
  virtwork run --dry-run

  # Deploy the default run and wait until every VM is running
  virtwork run

  # Three iperf3 server/client pairs in namespace perf, summary as JSON
  virtwork run -n perf --workloads network --vm-count 3 -o json

  # Let the cluster's admission check everything without creating anything
  virtwork run --dry-run=server --workloads all`,
    );
  addOptions(addOptions(cmd, "plan"), "run");
  cmd.action(async (_opts, command: Command) => {
    const { flags, logger, screen, format } = commandSetup(command, ctx);
    const status = terminalStatus(screen, format, logger);
    const report = await runWorkloads({ flags, env: ctx.env, logger, status, registry: ctx.registry });
    const { config } = report;
    if (report.outcome === "planned") {
      const { objects } = report.plan;
      // Object by object: memory stays at the objects, not the objects plus the whole text.
      if (config.output === "json") writeJsonList(objects, ctx.stdout);
      else writeYamlDocuments(objects, ctx.stdout);
      return;
    }
    const { summary } = report;
    const verified =
      flags.verify === true && (report.outcome === "ready" || report.outcome === "created")
        ? await verifyRun({
            flags,
            env: ctx.env,
            logger,
            registry: ctx.registry,
            runId: summary.runId,
            wait: true,
            progress: status.progress,
          })
        : undefined;
    const data = verified ? { ...summaryData(summary), verify: verified } : summaryData(summary);
    const explicitOutput = config.sources.output !== "default";
    ctx.stdout(
      explicitOutput && config.output === "json"
        ? `${JSON.stringify(data, null, 2)}\n`
        : explicitOutput
          ? toYaml(data)
          : renderSummary(summary) + (verified ? `\n${renderVerify(verified)}` : ""),
    );
    const problem = runProblem(summary) ?? (verified ? verifyProblem(verified) : undefined);
    if (problem) ctx.stderr(problem);
    if (OUTCOMES[report.outcome].exitCode) process.exitCode = OUTCOMES[report.outcome].exitCode;
    else if (verified && !verified.ok) process.exitCode = 1;
  });
  return cmd;
}
