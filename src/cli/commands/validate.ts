import type { Command } from "commander";
import { UsageError } from "../../errors.ts";
import { type PreparedRun, prepareRun } from "../../plan/prepare.ts";
import { checkEntries, checksError, renderChecks } from "../../workloads/catalog/check.ts";
import { type CatalogSource, openCatalog } from "../../workloads/catalog/source.ts";
import { BUILTIN_WORKLOADS } from "../../workloads/registry.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { addPlanOptions } from "../options.ts";

const BUILTINS = new Set(BUILTIN_WORKLOADS.map((w) => w.name));

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
  addPlanOptions(cmd);
  cmd.action((names: string[], _opts, command: Command) => {
    const { flags, logger } = commandSetup(command, ctx);
    const builtins = names.filter((n) => BUILTINS.has(n));
    const entries = names.filter((n) => !BUILTINS.has(n));
    if (builtins.length)
      flags.workloads = [...((flags.workloads as string[] | undefined) ?? []), ...builtins];
    if (entries.length)
      flags["from-catalog"] = [...((flags["from-catalog"] as string[] | undefined) ?? []), ...entries];

    // Load the configuration; keep its error until every named entry has been reported.
    let catalog: CatalogSource | undefined;
    let prepared: PreparedRun | undefined;
    let configError: unknown;
    try {
      prepared = prepareRun({
        flags,
        env: ctx.env,
        logger,
        purpose: "print",
        openCatalog: (dir, origin) => {
          catalog = openCatalog(dir, origin);
          return catalog;
        },
      });
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      configError = err;
    }

    if (catalog) {
      let toCheck = entries;
      if (names.length === 0) {
        if (!catalog.exists() && catalog.origin !== "default") {
          throw new UsageError(`${catalog.origin}: catalog directory ${catalog.dir} does not exist`);
        }
        toCheck = catalog.names();
      }
      const checks = checkEntries(catalog, toCheck);
      ctx.stdout(renderChecks(checks));
      const failed = checksError(checks);
      if (failed) throw failed;
    }
    if (configError || !prepared) throw configError;

    const { config, plan } = prepared;
    const summary = plan.workloads.map((w) => `${w.name}×${w.vms}`).join(", ");
    ctx.stdout(
      `OK: configuration is valid${config.configFile ? ` (${config.configFile})` : ""}: ${plan.vms.length} VMs in namespace ${plan.namespace}: ${summary}\n`,
    );
  });
  return cmd;
}
