import { type Command, Option } from "commander";
import { verifyRun } from "../../ops/verify/verify.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { terminalStatus } from "../progress.ts";
import { renderVerify, verifyProblem } from "../render/verify.ts";

/** Where Prometheus is: `verify`'s flags, also taken by `run --verify`. */
export function addPrometheusOptions(cmd: Command): Command {
  return cmd
    .option(
      "--prometheus-url <url>",
      "Prometheus or Thanos querier base URL (default: OpenShift's Thanos querier route)",
    )
    .option(
      "--prometheus-token <token>",
      "bearer token for --prometheus-url (env: VIRTWORK_PROMETHEUS_TOKEN)",
    )
    .option("--prometheus-ca <file>", "PEM CA bundle that signed --prometheus-url's certificate");
}

export function verifyCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("verify")
    .description("Check in Prometheus that every VM of a run produces the signals its workload declares")
    .option("--run-id <id>", "only the VMs of this run (default: every virtwork VM in the namespace)");
  return addPrometheusOptions(cmd)
    .option("--wait", "keep checking until every signal is there, or the timeout")
    .option("--timeout <duration>", "how long --wait keeps checking: seconds or e.g. 10m (default: 600)")
    .addOption(
      new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork verify -n perf --run-id 3f2a…\n  virtwork verify --prometheus-url http://127.0.0.1:9090 --wait --timeout 5m -o json",
    )
    .action(async (opts: { output: string }, command: Command) => {
      const { flags, logger } = commandSetup(command, ctx);
      const status = terminalStatus(ctx, Boolean(process.stderr.isTTY), logger);
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
