import type { KubeApi } from "../kube/api.ts";
import { KubeError } from "../kube/errors.ts";
import { RESOURCES } from "../kube/resources.ts";
import { managedSelector } from "../manifests/labels.ts";

/** The kinds a run creates in its namespace (DataVolumes come from the VMs' templates). */
const RUN_KINDS = [
  RESOURCES.services,
  RESOURCES.secrets,
  RESOURCES.virtualmachines,
  RESOURCES.datavolumes,
] as const;

/**
 * The objects of one run that exist in the cluster, by kind, found by the run's labels — what
 * an interrupted run reports and `cleanup --run-id` would remove. Kinds not served count 0.
 */
export async function countRunObjects(
  api: KubeApi,
  namespace: string,
  runId: string,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const resource of RUN_KINDS) {
    try {
      const { items } = await api.list(resource, namespace, managedSelector(runId));
      if (items.length) counts[resource.kind] = items.length;
    } catch (err) {
      if (err instanceof KubeError && err.status === 404) continue;
      throw err;
    }
  }
  return counts;
}
