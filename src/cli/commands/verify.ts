import type { Command } from "commander";
import { verifyRun } from "../../ops/verify/verify.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { terminalStatus } from "../progress.ts";
import { renderVerify, verifyProblem } from "../render/verify.ts";

export function verifyCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("verify")
    .description("Check in Prometheus that every VM of a run produces the signals its workload declares");
  return addOptions(cmd, "verify")
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork verify -n perf --run-id 3f2a…\n  virtwork verify --prometheus-url http://127.0.0.1:9090 --wait --timeout 5m -o json",
    )
    .action(async (opts: { output: string }, command: Command) => {
      const { flags, logger, screen, format } = commandSetup(command, ctx);
      const status = terminalStatus(screen, format, logger);
      const report = await verifyRun({
        flags,
        env: ctx.env,
        logger,
        registry: ctx.registry,
        progress: status.progress,
      }).finally(() => status.done());
      ctx.stdout(opts.output === "json" ? `${JSON.stringify(report, null, 2)}\n` : renderVerify(report));
      const problem = verifyProblem(report);
      if (problem) {
        ctx.stderr(problem);
        process.exitCode = 1;
      }
    });
}
