import { randomUUID } from "node:crypto";
import { type Config, type LoadInput, loadConfig } from "../config/load.ts";
import type { Logger } from "../log/logger.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
import { guestProfile } from "../workloads/guest.ts";
import { createRegistry, type Registry } from "../workloads/registry.ts";
import { type Plan, plan } from "./plan.ts";

export interface PreparedRun {
  config: Config;
  plan: Plan;
  registry: Registry;
}

/**
 * Configuration to plan, shared by `run` and `validate`: everything that can be wrong with
 * the input is found here, before any API call.
 */
export function prepareRun(
  input: Omit<LoadInput, "registry"> & {
    /** The built-in workloads (default: the registry's). */
    registry?: Registry;
    logger: Logger;
    runId?: string;
  },
): PreparedRun {
  // Plan preparation opens the catalog: the loaded registry holds the built-ins plus the
  // catalog entries the configuration names, each loaded and checked as it is named.
  const { config, warnings, registry } = loadConfig({
    ...input,
    registry: input.registry ?? createRegistry(),
    openCatalog: input.openCatalog ?? openCatalog,
  });
  for (const warning of warnings) input.logger.warn(warning);
  const runId = input.runId ?? randomUUID();
  return {
    config,
    registry,
    plan: plan(config, registry, {
      runId,
      guest: guestProfile(config.guestOs),
    }),
  };
}
