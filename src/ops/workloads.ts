import { resolveCatalogDir } from "../config/partial.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
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
  // a named one must exist. The rest of the configuration does not matter for a listing.
  const { dir, origin } = resolveCatalogDir({
    flags: { config: flags.config, "catalog-dir": flags["catalog-dir"] },
    env: input.env,
  });
  const catalog = openCatalog(dir, origin);
  return describeWorkloads(input.registry, catalog);
}
