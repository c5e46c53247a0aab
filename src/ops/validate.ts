import { UsageError } from "../errors.ts";
import type { Logger } from "../log/logger.ts";
import { type PreparedRun, prepareRun } from "../plan/prepare.ts";
import { didYouMean } from "../util/suggest.ts";
import { checkEntries, type EntryCheck } from "../workloads/catalog/check.ts";
import { type CatalogSource, openCatalog } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";

export interface ValidateReport {
  /** The catalog entries checked, when there is a catalog. */
  checks?: EntryCheck[];
  /** The configuration's error, reported after the entries. */
  problem?: unknown;
  prepared?: PreparedRun;
}

/**
 * `virtwork validate [names…]`: the named (else every) catalog entry, then the whole effective
 * configuration as far as a plan, without a cluster.
 */
export function validateConfig(input: {
  names: string[];
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  registry: Registry;
}): ValidateReport {
  const { names, registry } = input;
  const flags = { ...input.flags };
  const builtins = names.filter((n) => registry.has(n));
  const entries = names.filter((n) => !registry.has(n));
  if (builtins.length) flags.workloads = [...((flags.workloads as string[] | undefined) ?? []), ...builtins];
  if (entries.length)
    flags["from-catalog"] = [...((flags["from-catalog"] as string[] | undefined) ?? []), ...entries];

  // Load the configuration; keep its error until every named entry has been reported.
  let catalog: CatalogSource | undefined;
  const report: ValidateReport = {};
  try {
    report.prepared = prepareRun({
      flags,
      env: input.env,
      logger: input.logger,
      registry,
      openCatalog: (dir, origin) => {
        catalog = openCatalog(dir, origin);
        return catalog;
      },
    });
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    report.problem = err;
  }
  if (catalog) {
    // A name that is neither a built-in nor an entry of the catalog, but close to one: a typo.
    const known = catalog.exists() ? catalog.names() : [];
    for (const name of entries) {
      const hint = known.includes(name) ? "" : didYouMean(name, [...registry.keys(), ...known]);
      if (hint)
        throw new UsageError(
          `unknown workload or catalog entry "${name}"${hint}; built-ins: ${[...registry.keys()].join(", ")}`,
        );
    }
    let toCheck = entries;
    if (names.length === 0) {
      if (!catalog.exists() && catalog.origin !== "default") {
        throw new UsageError(`${catalog.origin}: catalog directory ${catalog.dir} does not exist`);
      }
      toCheck = catalog.names();
    }
    report.checks = checkEntries(catalog, toCheck);
  }
  return report;
}
