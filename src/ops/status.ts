import { loadConfig } from "../config/load.ts";
import { checkValue } from "../config/partial.ts";
import { asRunId } from "../config/values.ts";
import type { KubeApi, KubeResource } from "../kube/api.ts";
import { RESOURCES } from "../kube/resources.ts";
import { openSession } from "../kube/session.ts";
import type { Logger } from "../log/logger.ts";
import { LABEL_COMPONENT, LABEL_ROLE, LABEL_RUN_ID, managedSelector } from "../manifests/labels.ts";
import { compareNames } from "../util/order.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";
import { resolveRunId } from "./run-id.ts";

export interface VmRow {
  namespace: string;
  runId: string;
  name: string;
  workload: string;
  role: string;
  phase: string;
  node: string;
  ip: string;
  createdAt: string;
}

interface Vmi extends KubeResource {
  status?: { phase?: string; nodeName?: string; interfaces?: { ipAddress?: string }[] };
}

/** virtwork's VMs in a namespace (optionally one run) with their VMI phase, node and IP. */
export async function listStatus(
  api: KubeApi,
  namespace: string | undefined,
  runId?: string,
): Promise<VmRow[]> {
  const selector = managedSelector(runId);
  const [vms, vmis] = await Promise.all([
    api.list<KubeResource>(RESOURCES.virtualmachines, namespace, selector),
    api.list<Vmi>(RESOURCES.virtualmachineinstances, namespace, selector),
  ]);
  const key = (o: KubeResource) => `${o.metadata?.namespace}/${o.metadata?.name}`;
  const byName = new Map(vmis.items.map((i) => [key(i), i]));
  return vms.items
    .map((vm) => {
      const labels = vm.metadata?.labels ?? {};
      const vmi = byName.get(key(vm));
      return {
        namespace: vm.metadata?.namespace ?? namespace ?? "",
        runId: labels[LABEL_RUN_ID] ?? "",
        name: vm.metadata?.name ?? "",
        workload: labels[LABEL_COMPONENT] ?? "",
        role: labels[LABEL_ROLE] ?? "",
        phase: vm.metadata?.deletionTimestamp ? "Terminating" : (vmi?.status?.phase ?? "Stopped"),
        node: vmi?.status?.nodeName ?? "",
        ip: vmi?.status?.interfaces?.find((i) => i.ipAddress)?.ipAddress ?? "",
        createdAt: vm.metadata?.creationTimestamp ?? "",
      };
    })
    .sort(
      (a, b) =>
        a.namespace.localeCompare(b.namespace) ||
        a.runId.localeCompare(b.runId) ||
        compareNames(a.name, b.name),
    );
}

/** `virtwork status`: the settings, one session, the VM rows. */
export async function vmStatus(input: {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  registry: Registry;
  runId?: string;
  /** Every namespace the identity can list (-A). */
  allNamespaces?: boolean;
}): Promise<{ namespace: string; rows: VmRow[] }> {
  // An empty or malformed id would select every run, or be an invalid label selector.
  if (input.runId !== undefined) checkValue("--run-id", input.runId, asRunId);
  const { config } = loadConfig({
    flags: input.flags,
    env: input.env,
    registry: input.registry,
    openCatalog,
  });
  const session = await openSession(config, input.env, input.logger);
  try {
    const namespace = input.allNamespaces ? undefined : config.namespace;
    const runId =
      input.runId === undefined
        ? undefined
        : await resolveRunId(session.api, namespace, input.runId, input.logger);
    return { namespace: config.namespace, rows: await listStatus(session.api, namespace, runId) };
  } finally {
    session.close();
  }
}

/** One row per run: how many of its VMs run, its workloads, its oldest VM. */
export interface RunRow {
  namespace: string;
  runId: string;
  vms: number;
  running: number;
  workloads: string[];
  createdAt: string;
}

export function runsOf(rows: readonly VmRow[]): RunRow[] {
  const runs = new Map<string, RunRow>();
  for (const r of rows) {
    const key = `${r.namespace}/${r.runId}`;
    const run = runs.get(key) ?? {
      namespace: r.namespace,
      runId: r.runId,
      vms: 0,
      running: 0,
      workloads: [],
      createdAt: r.createdAt,
    };
    run.vms++;
    if (r.phase === "Running") run.running++;
    if (!run.workloads.includes(r.workload)) run.workloads.push(r.workload);
    if (r.createdAt && r.createdAt < run.createdAt) run.createdAt = r.createdAt;
    runs.set(key, run);
  }
  return [...runs.values()];
}
