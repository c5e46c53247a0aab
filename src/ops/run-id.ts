import { UsageError } from "../errors.ts";
import type { KubeApi, KubeResource } from "../kube/api.ts";
import { RESOURCES } from "../kube/resources.ts";
import type { Logger } from "../log/logger.ts";
import { LABEL_RUN_ID, managedSelector } from "../manifests/labels.ts";

/** The ids virtwork makes (randomUUID): one of these is taken as given, with no lookup. */
const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A run id as a user types it: the full id, or the short form `status` and `history` show
 * (its first characters, like a git commit). A prefix is looked up in the run-id labels of
 * virtwork's VMs and Secrets (every run makes both) in the namespace, or in all namespaces:
 * one run → its full id (logged); several → exit 2 naming them; none → the id as given
 * (then nothing matches, which the command says).
 */
export async function resolveRunId(
  api: KubeApi,
  namespace: string | undefined,
  given: string,
  logger: Logger,
): Promise<string> {
  if (FULL_ID.test(given)) return given;
  const ids = new Set<string>();
  const [vms, secrets] = await Promise.all([
    api.list<KubeResource>(RESOURCES.virtualmachines, namespace, managedSelector()),
    api.list<KubeResource>(RESOURCES.secrets, namespace, managedSelector()),
  ]);
  for (const o of [...vms.items, ...secrets.items]) {
    const id = o.metadata?.labels?.[LABEL_RUN_ID];
    if (id) ids.add(id);
  }
  if (ids.has(given)) return given;
  const matches = [...ids].filter((id) => id.startsWith(given)).sort();
  if (matches.length > 1)
    throw new UsageError(
      `--run-id: "${given}" is the start of ${matches.length} runs' ids (${matches.join(", ")}); give more of it`,
    );
  if (matches.length === 1) {
    logger.info("run id", { given, runId: matches[0] });
    return matches[0] as string;
  }
  return given;
}
