/**
 * The kubelets' last word for every pod on the fake nodes, whatever namespace it is in: a pod
 * whose deletion began more than `--after-ms` ago (default 5 s) is removed (delete with grace 0),
 * as a kubelet does once its containers are gone. The per-namespace node simulators do this at
 * once for their own pods; this process, started by cluster-up, catches the pods of namespaces
 * no simulator watches any more (a test that ended), so terminating pods never hold node
 * capacity or keep a namespace from going. It lists every few seconds rather than watching:
 * it only tidies up.
 *
 *   node --experimental-strip-types test/cluster/simulator/reaper.ts --kubeconfig FILE [--after-ms 5000]
 */
import { parseArgs } from "node:util";
import * as k8s from "@kubernetes/client-node";

const { values } = parseArgs({
  options: {
    kubeconfig: { type: "string", default: ".cluster/simulator.kubeconfig" },
    "after-ms": { type: "string", default: "5000" },
    "interval-ms": { type: "string", default: "3000" },
  },
});
const kc = new k8s.KubeConfig();
kc.loadFromFile(values.kubeconfig);
const core = kc.makeApiClient(k8s.CoreV1Api);
const afterMs = Number(values["after-ms"]);
const log = (m: string) => process.stderr.write(`${new Date().toISOString()} reaper: ${m}\n`);

async function sweep(): Promise<void> {
  const pods = await core.listPodForAllNamespaces({});
  for (const p of pods.items) {
    const since = p.metadata?.deletionTimestamp;
    if (!since) continue;
    // deletionTimestamp is when the grace period ends; the kubelet is done a little after
    const due = new Date(since).getTime() - (p.metadata?.deletionGracePeriodSeconds ?? 0) * 1000 + afterMs;
    if (Date.now() < due) continue;
    try {
      await core.deleteNamespacedPod({
        name: p.metadata?.name ?? "",
        namespace: p.metadata?.namespace ?? "",
        gracePeriodSeconds: 0,
      });
      log(`removed terminated pod ${p.metadata?.namespace}/${p.metadata?.name}`);
    } catch (err) {
      if (!(err instanceof k8s.ApiException && err.code === 404))
        log(`delete failed: ${(err as Error).message}`);
    }
  }
}

let running = true;
for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => (running = false));
log("removing terminated pods on the fake nodes");
while (running) {
  await sweep().catch((err) => log(`list failed: ${(err as Error).message}`));
  await new Promise((r) => setTimeout(r, Number(values["interval-ms"])));
}
