import type { PreparedRun } from "../../plan/prepare.ts";
import { toYaml } from "../../util/yaml-emit.ts";
import type { EntryCheck } from "../../workloads/catalog/check.ts";

/** `validate -o json|yaml` of a valid configuration: the plan in numbers and the entries checked. */
export function renderValid(prepared: PreparedRun, checks: EntryCheck[], format: "json" | "yaml"): string {
  const { config, plan } = prepared;
  const data = {
    valid: true,
    ...(config.configFile ? { configFile: config.configFile } : {}),
    namespace: plan.namespace,
    vms: plan.vms.length,
    workloads: plan.workloads.map((w) => ({ name: w.name, vms: w.vms })),
    catalogEntries: checks.map((c) => ({ name: c.name, warnings: c.warnings })),
  };
  return format === "json" ? `${JSON.stringify(data, null, 2)}\n` : toYaml(data);
}
