import { loadConfig } from "../config/load.ts";
import { UsageError } from "../errors.ts";
import { type CatalogSource, openCatalog } from "../workloads/catalog/source.ts";
import { describeWorkloads, type WorkloadInfo } from "../workloads/describe.ts";
import type { Registry } from "../workloads/registry.ts";

/** `virtwork workloads`: the registry's workloads and the catalog's entries. */
export function listWorkloads(input: {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  registry: Registry;
}): WorkloadInfo[] {
  const { flags } = input;
  // The catalog directory resolves like every setting (flag > env > config file > default);
  // the rest of the configuration does not matter for a listing.
  let catalog: CatalogSource | undefined;
  try {
    loadConfig({
      flags: { config: flags.config, "catalog-dir": flags["catalog-dir"] },
      env: input.env,
      registry: input.registry,
      openCatalog: (dir, origin) => {
        catalog = openCatalog(dir, origin);
        return catalog;
      },
    });
  } catch (err) {
    if (!(err instanceof UsageError) || !catalog) throw err;
  }
  return describeWorkloads(input.registry, catalog);
}
