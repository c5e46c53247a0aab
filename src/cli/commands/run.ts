import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { prepareRun } from "../../plan/prepare.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addPlanOptions, addRunOptions } from "../options.ts";
import { toJsonList, toYamlDocuments } from "../output.ts";

export function runCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("run")
    .description("Create the VMs of the selected workloads (or print them with --dry-run)")
    .addHelpText(
      "after",
      `
Examples:
  # Print every object of the default run (6 workloads, 8 VMs)
  virtwork run --dry-run

  # Three iperf3 server/client pairs in namespace perf, as JSON
  virtwork run --dry-run -n perf --workloads network --vm-count 3 -o json

  # All workloads including chaos, with a lighter CPU load
  virtwork run --dry-run --workloads all --params cpu.cpu-load-percent=50`,
    );
  addRunOptions(addPlanOptions(cmd));
  cmd.action((_opts, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    const { config, plan } = prepareRun({ flags, env: ctx.env, logger, purpose: "print" });
    if (config.dryRun !== "client") {
      throw new UsageError(
        `${config.dryRun === "server" ? "--dry-run=server" : "deploying"}: this version of virtwork cannot talk to a cluster yet; use --dry-run to print the objects (e.g. virtwork run --dry-run | kubectl apply -f -)`,
      );
    }
    if (config.ssh?.password && !config.showSecrets) {
      logger.warn("SSH password redacted in the printed Secrets; add --show-secrets to print it");
    }
    logger.info("dry run: printing the plan, nothing is sent to a cluster", {
      run_id: plan.runId,
      namespace: plan.namespace,
      vms: plan.vms.length,
      workloads: plan.workloads.map((w) => w.name),
    });
    ctx.stdout(config.output === "json" ? toJsonList(plan.objects) : toYamlDocuments(plan.objects));
  });
  return cmd;
}
