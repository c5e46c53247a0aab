import { type Command, Option } from "commander";
import { stringify } from "yaml";
import { loadConfig } from "../../config/load.ts";
import { UsageError } from "../../errors.ts";
import { checkEntries } from "../../workloads/catalog/check.ts";
import { type CatalogSource, openCatalog } from "../../workloads/catalog/source.ts";
import { fedora } from "../../workloads/guest.ts";
import { createRegistry } from "../../workloads/registry.ts";
import type { Workload } from "../../workloads/types.ts";
import { type CliContext, commandSetup } from "../context.ts";
import { toTable } from "../output.ts";

export interface WorkloadInfo {
  name: string;
  source: "builtin" | "catalog";
  description: string;
  default: boolean;
  roles: string[];
  params: { name: string; type: string; default: string; description: string }[];
  /** Catalog entries that fail to load: what is wrong. */
  error?: string;
}

function describe(w: Workload, source: WorkloadInfo["source"]): WorkloadInfo {
  const roles = w.build({
    namespace: "virtwork",
    params: Object.fromEntries(w.params.map((p) => [p.name, p.default])),
    guest: fedora,
  }).roles;
  return {
    name: w.name,
    source,
    description: w.description,
    default: !w.optIn,
    roles: roles.flatMap((r) => (r.role ? [r.role] : [])),
    params: w.params.map((p) => ({
      name: p.name,
      type: p.type,
      default: p.default,
      description: p.description,
    })),
  };
}

/** What `virtwork workloads` reports: the built-ins, then the entries of the catalog. */
export function describeWorkloads(catalog?: CatalogSource): WorkloadInfo[] {
  const builtins = [...createRegistry().values()].map((w) => describe(w, "builtin"));
  if (!catalog) return builtins;
  const entries = checkEntries(catalog, catalog.names()).map((c): WorkloadInfo => {
    if (c.workload) return describe(c.workload, "catalog");
    return {
      name: c.name,
      source: "catalog",
      description: `INVALID: run virtwork validate ${c.name}`,
      default: false,
      roles: [],
      params: [],
      error: c.problems.join("; "),
    };
  });
  return [...builtins, ...entries];
}

export function workloadsCommand(program: Command, ctx: CliContext): Command {
  return program
    .command("workloads")
    .description(
      "List the built-in and catalog workloads and their params (name, type, default, description)",
    )
    .option("--catalog-dir <dir>", "directory of catalog workloads (default: ~/.virtwork/catalog)")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["table", "yaml", "json"])
        .default("table"),
    )
    .addHelpText(
      "after",
      "\nExamples:\n  virtwork workloads\n  virtwork workloads --catalog-dir ./catalog\n  virtwork workloads -o json | jq '.[].name'",
    )
    .action((opts: { output: string }, command: Command) => {
      const { flags } = commandSetup(command, ctx);
      // The catalog directory resolves like every setting (flag > env > config file > default);
      // the rest of the configuration does not matter for a listing.
      let catalog: CatalogSource | undefined;
      try {
        loadConfig({
          flags: { config: flags.config, "catalog-dir": flags["catalog-dir"] },
          env: ctx.env,
          registry: createRegistry(),
          openCatalog: (dir, origin) => {
            catalog = openCatalog(dir, origin);
            return catalog;
          },
        });
      } catch (err) {
        if (!(err instanceof UsageError) || !catalog) throw err;
      }
      const workloads = describeWorkloads(catalog);
      if (opts.output === "json") return ctx.stdout(`${JSON.stringify(workloads, null, 2)}\n`);
      if (opts.output === "yaml") return ctx.stdout(stringify(workloads));
      const rows: string[][] = [];
      for (const w of workloads) {
        const tag = [
          w.default ? "default" : w.source === "catalog" ? "--from-catalog" : "opt-in",
          ...(w.roles.length ? [`roles: ${w.roles.join(", ")}`] : []),
        ];
        rows.push([w.name, w.source, "", "", "", `${w.description} [${tag.join("; ")}]`]);
        for (const p of w.params) rows.push(["", "", p.name, p.type, p.default, p.description]);
      }
      ctx.stdout(toTable(["WORKLOAD", "SOURCE", "PARAM", "TYPE", "DEFAULT", "DESCRIPTION"], rows));
    });
}
