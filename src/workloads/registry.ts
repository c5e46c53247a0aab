import { chaosDisk } from "./builtin/chaos-disk.ts";
import { chaosNetwork } from "./builtin/chaos-network.ts";
import { chaosProcess } from "./builtin/chaos-process.ts";
import { cpu } from "./builtin/cpu.ts";
import { database } from "./builtin/database.ts";
import { disk } from "./builtin/disk.ts";
import { memory } from "./builtin/memory.ts";
import { network } from "./builtin/network.ts";
import { tps } from "./builtin/tps.ts";
import type { Workload } from "./types.ts";

/** Built-in workloads in their default deployment order. Adding one = one file + one line. */
export const BUILTIN_WORKLOADS: readonly Workload[] = [
  cpu,
  memory,
  disk,
  database,
  network,
  tps,
  chaosDisk,
  chaosNetwork,
  chaosProcess,
];

export type Registry = ReadonlyMap<string, Workload>;

export function createRegistry(workloads: readonly Workload[] = BUILTIN_WORKLOADS): Registry {
  return new Map(workloads.map((w) => [w.name, w]));
}

/** The default selection: every workload that is not opt-in (chaos is opt-in, design §4.1). */
export function defaultWorkloadNames(registry: Registry): string[] {
  return [...registry.values()].filter((w) => !w.optIn).map((w) => w.name);
}
