import type { Command } from "commander";
import { validateConfig } from "../../ops/validate.ts";
import { checksError, renderChecks } from "../../workloads/catalog/check.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addOptions } from "../options.ts";
import { renderValid } from "../render/validate.ts";

export function validateCommand(program: Command, ctx: CliContext): Command {
  const cmd = program
    .command("validate")
    .argument(
      "[names...]",
      "built-in workloads or catalog entries to check (default: the configured selection and every catalog entry)",
    )
    .description(
      "Check catalog entries and the whole effective configuration (flags, env, config file, params) without a cluster",
    )
    .addHelpText(
      "after",
      `
Prints OK, WARN or FAIL per catalog entry, then a summary of the plan. Exits 2 on any FAIL.

Examples:
  virtwork validate --config virtwork.yaml
  virtwork validate database --params database.clients=20
  virtwork validate --catalog-dir ./catalog redis-bench --params redis-bench.num-clients=50`,
    );
  addOptions(cmd, "plan");
  cmd.action((names: string[], _opts, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    const report = validateConfig({ names, flags, env: ctx.env, logger, registry: ctx.registry });
    const data = flags.output === "json" || flags.output === "yaml";
    if (report.checks) {
      if (!data) ctx.stdout(renderChecks(report.checks));
      const failed = checksError(report.checks);
      if (failed) throw failed;
    }
    if (report.problem || !report.prepared) throw report.problem;
    const { config, plan } = report.prepared;
    const summary = plan.workloads.map((w) => `${w.name}×${w.vms}`).join(", ");
    if (data)
      return ctx.stdout(renderValid(report.prepared, report.checks ?? [], flags.output as "json" | "yaml"));
    ctx.stdout(
      `OK: configuration is valid${config.configFile ? ` (${config.configFile})` : ""}: ${plan.vms.length} VMs in namespace ${plan.namespace}: ${summary}\n`,
    );
  });
  return cmd;
}
