import type { Command } from "commander";
import { processSignals } from "../../ops/signals.ts";
import { verifyRun } from "../../ops/verify/verify.ts";
import { toYaml } from "../../util/yaml-emit.ts";
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
      "\nExamples:\n  virtwork verify -n perf --run-id 3f2a…\n  virtwork verify --prometheus-url http://127.0.0.1:9090 --wait --timeout 5m -o json\n  virtwork verify --for 1h --max-gap 2m     # every signal continuous for an hour\n  virtwork verify --since 6h -o yaml        # the last six hours",
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
        // --for: Ctrl-C ends the window and the report says what was sampled
        signal: processSignals((message) => logger.warn(message)).signal,
      }).finally(() => status.done());
      ctx.stdout(
        opts.output === "json"
          ? `${JSON.stringify(report, null, 2)}\n`
          : opts.output === "yaml"
            ? toYaml(report)
            : renderVerify(report),
      );
      const problem = verifyProblem(report);
      if (problem) {
        ctx.stderr(problem);
        process.exitCode = 1;
      }
    });
}
