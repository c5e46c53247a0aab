import { checkEntries } from "./catalog/check.ts";
import type { CatalogSource } from "./catalog/source.ts";
import { fedora } from "./guest.ts";
import type { Registry } from "./registry.ts";
import type { Workload } from "./types.ts";

/** One line of `virtwork workloads`: a built-in or catalog workload and its params. */
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

/** The registry's workloads, then the entries of the catalog (invalid ones say so). */
export function describeWorkloads(registry: Registry, catalog?: CatalogSource): WorkloadInfo[] {
  const builtins = [...registry.values()].map((w) => describe(w, "builtin"));
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
