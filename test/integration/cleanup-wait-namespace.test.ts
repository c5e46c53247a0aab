/**
 * Issue 20: `cleanup --delete-namespace --wait` follows the namespace with the resumable list +
 * watch (kube/watch.ts, fieldSelector metadata.name=…), not a 1 s poll. Through the fault proxy,
 * the first namespace watch stalls (open, silent: given up within 30 s), every second one is cut
 * a few hundred ms in and every other watch ends early: the wait still ends as soon as the
 * namespace is gone, and says so.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { startFaultProxy } from "../cluster/fault-proxy.ts";
import { closeAll, deleteNamespace, startCluster, startSimulator } from "./harness.ts";
import { ensureBuilt, FAST, freshNamespaceName, namespaceLabels, parseJson, virtwork } from "./ops-cli.ts";

const ns = freshNamespaceName("nswatch");
after(async () => {
  await closeAll();
  await deleteNamespace(ns, { wait: false });
});

test("cleanup --delete-namespace --wait watches the namespace until it is gone, through cut watches", async () => {
  await ensureBuilt();
  const cluster = await startCluster();
  await startSimulator({ namespace: ns, delays: FAST });
  // virtwork creates the namespace (so it may delete it again).
  const run = await virtwork(["run", "-n", ns, "--workloads", "cpu", "-o", "json"], {
    kubeconfig: cluster.adminKubeconfig,
  });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(parseJson<{ outcome: string }>(run).outcome, "ready");
  assert.equal((await namespaceLabels(ns))?.["app.kubernetes.io/managed-by"], "virtwork");

  const proxy = await startFaultProxy({ server: cluster.server, caFile: cluster.caFile });
  const kubeconfig = join(mkdtempSync(join(tmpdir(), "virtwork-nswatch-")), "kubeconfig");
  const token = cluster.kubeConfig("admin").getCurrentUser()?.token ?? "";
  writeFileSync(kubeconfig, proxy.kubeconfig(token, ns), { mode: 0o600 });
  proxy.set([
    // the first namespace watch stays open and silent (issue 32); every second one is cut
    { on: "watch", resource: "namespaces", action: { type: "stall", afterMs: 0 }, count: 1 },
    { on: "watch", resource: "namespaces", action: { type: "cut", afterMs: 300 }, every: 2 },
    { on: "watch", action: { type: "end", afterMs: 400 }, every: 2 },
  ]);
  try {
    const res = await virtwork(
      ["cleanup", "-n", ns, "--yes", "--wait", "--delete-namespace", "--timeout", "120", "-v"],
      { kubeconfig, timeoutMs: 180_000 },
    );
    const stats = proxy.stats();
    assert.equal(res.code, 0, `exit ${res.code}\n${res.stdout}\n${res.stderr.slice(-3000)}`);
    assert.match(res.stdout, new RegExp(`Namespace ${ns} deleted\\.`));
    // The wait ended because the namespace is gone, not because it gave up.
    assert.equal(await namespaceLabels(ns), undefined, "the namespace is gone when cleanup returns");
    assert.ok((stats.applied.cut ?? 0) >= 1, `a namespace watch was cut: ${JSON.stringify(stats)}`);
    // The stalled namespace watch was given up within 30 s and resumed (verbose json log).
    assert.equal(stats.stalledAt.length, 1, JSON.stringify(stats));
    const resumed = res.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { time: string; msg: string; resource?: string; why?: string })
      .find(
        (l) =>
          l.msg === "watch resumed" && l.resource === "namespaces" && /sent nothing for/.test(l.why ?? ""),
      );
    assert.ok(resumed, `no "watch resumed … sent nothing" line for namespaces:\n${res.stderr.slice(-2000)}`);
    const detectedMs = Date.parse(resumed.time) - (stats.stalledAt[0] ?? 0);
    assert.ok(detectedMs >= 0 && detectedMs <= 30_000, `stall detected after ${detectedMs} ms`);
    // Promptly: far inside the timeout (a namespace with one VM goes in seconds).
    assert.ok(res.ms < 60_000, `cleanup took ${res.ms} ms`);
    process.stdout.write(`# cleanup --wait ${res.ms} ms; proxy ${JSON.stringify(stats)}\n`);
  } finally {
    await proxy.stop();
  }
});
