import { loadConfig } from "../config/load.ts";
import type { KubeApi, KubeResource } from "../kube/api.ts";
import { RESOURCES } from "../kube/resources.ts";
import { openSession } from "../kube/session.ts";
import type { Logger } from "../log/logger.ts";
import { LABEL_COMPONENT, LABEL_ROLE, LABEL_RUN_ID, managedSelector } from "../manifests/labels.ts";
import { openCatalog } from "../workloads/catalog/source.ts";
import type { Registry } from "../workloads/registry.ts";

export interface VmRow {
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
export async function listStatus(api: KubeApi, namespace: string, runId?: string): Promise<VmRow[]> {
  const selector = managedSelector(runId);
  const [vms, vmis] = await Promise.all([
    api.list<KubeResource>(RESOURCES.virtualmachines, namespace, selector),
    api.list<Vmi>(RESOURCES.virtualmachineinstances, namespace, selector),
  ]);
  const byName = new Map(vmis.items.map((i) => [i.metadata?.name, i]));
  return vms.items
    .map((vm) => {
      const labels = vm.metadata?.labels ?? {};
      const vmi = byName.get(vm.metadata?.name);
      return {
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
    .sort((a, b) => a.runId.localeCompare(b.runId) || a.name.localeCompare(b.name));
}

/** `virtwork status`: the settings, one session, the VM rows. */
export async function vmStatus(input: {
  flags: Record<string, unknown>;
  env: Record<string, string | undefined>;
  logger: Logger;
  registry: Registry;
  runId?: string;
}): Promise<{ namespace: string; rows: VmRow[] }> {
  const { config } = loadConfig({
    flags: input.flags,
    env: input.env,
    registry: input.registry,
    openCatalog,
  });
  const session = await openSession(config, input.env, input.logger);
  try {
    return {
      namespace: config.namespace,
      rows: await listStatus(session.api, config.namespace, input.runId),
    };
  } finally {
    session.close();
  }
}
