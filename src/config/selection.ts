import { defaultWorkloadNames } from "../workloads/registry.ts";
import type { KnownWorkloads } from "./known-workloads.ts";
import type { WorkloadOverrides } from "./workload-settings.ts";

/**
 * Which workloads run: the list (flag > env > file > default), then each workload's
 * `enabled` adds or removes it. With --from-catalog and no explicit list, only the catalog
 * entries run (reference §1.9).
 */
export function selectWorkloads(
  input: {
    /** The resolved --workloads list, undefined when none was given. */
    list: string[] | undefined;
    listSource: string | undefined;
    fromCatalog: string[];
    fromCatalogSource: string | undefined;
    overrides: Map<string, WorkloadOverrides>;
    workloads: KnownWorkloads;
  },
  problems: string[],
): string[] {
  const { workloads } = input;
  const builtins = workloads.builtins;
  let names: string[];
  if (input.list === undefined) {
    names = input.fromCatalog.length ? [] : defaultWorkloadNames(builtins);
  } else {
    names = [];
    for (const name of input.list) {
      const where = input.listSource ?? "--workloads";
      if (name === "all") names.push(...builtins.keys());
      else if (!builtins.has(name) && workloads.catalogNames.includes(name))
        problems.push(`${where}: "${name}" is a catalog entry; select it with --from-catalog ${name}`);
      else if (workloads.check(name, where)) names.push(name);
    }
  }
  for (const name of input.fromCatalog) {
    if (builtins.has(name)) {
      problems.push(
        `${input.fromCatalogSource}: "${name}" is a built-in workload, not a catalog entry; select it with --workloads ${name}`,
      );
    } else if (workloads.load(name)) names.push(name);
  }
  names = [...new Set(names)];
  for (const [name, s] of input.overrides) {
    if (s.enabled === false) names = names.filter((n) => n !== name);
    else if (s.enabled === true && !names.includes(name)) names.push(name);
  }
  if (names.length === 0 && problems.length === 0) {
    problems.push(
      `${input.listSource ?? "--workloads"}: no workloads selected; name at least one of ${workloads.names.join(", ")} (or "all")`,
    );
  }
  return names;
}
