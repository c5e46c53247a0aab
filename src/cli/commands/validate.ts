import type { Command } from "commander";
import { prepareRun } from "../../plan/prepare.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addPlanOptions } from "../options.ts";

export function validateCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("validate")
    .argument("[workloads...]", "check only these workloads (default: the configured selection)")
    .description(
      "Check the whole effective configuration (flags, env, config file, params) without a cluster",
    )
    .addHelpText(
      "after",
      `
Examples:
  virtwork validate --config virtwork.yaml
  virtwork validate database --params database.clients=20`,
    );
  addPlanOptions(cmd);
  cmd.action((names: string[], _opts, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    if (names.length) flags.workloads = [...((flags.workloads as string[] | undefined) ?? []), ...names];
    const { config, plan } = prepareRun({ flags, env: ctx.env, logger, purpose: "print" });
    const summary = plan.workloads.map((w) => `${w.name}×${w.vms}`).join(", ");
    ctx.stdout(
      `OK: configuration is valid${config.configFile ? ` (${config.configFile})` : ""}: ${plan.vms.length} VMs in namespace ${plan.namespace}: ${summary}\n`,
    );
  });
  return cmd;
}
