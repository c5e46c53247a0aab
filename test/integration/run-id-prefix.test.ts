/**
 * Issue 31: the short run id `status` shows (its first 8 characters) works wherever --run-id is
 * taken: status, cleanup (and verify, through the same ops/run-id.ts). A prefix two runs share
 * is bad input naming both (exit 2); one no run has finds nothing, and says so.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import * as k8s from "@kubernetes/client-node";
import { closeAll, newNamespace, startCluster } from "./harness.ts";
import { FAST, managedObjects, parseJson, virtwork } from "./ops-cli.ts";

after(closeAll);

test("a unique prefix selects its run in status and cleanup; a shared one is exit 2 naming both", async () => {
  const ns = await newNamespace({ prefix: "runid" });
  await ns.simulate({ delays: FAST });
  const kubeconfig = ns.kubeconfig();
  const run = async () => {
    const res = await virtwork(["run", "-n", ns.name, "--workloads", "cpu", "--no-wait", "-o", "json"], {
      kubeconfig,
    });
    assert.equal(res.code, 0, res.stderr);
    return parseJson<{ runId: string }>(res).runId;
  };
  const a = await run();
  // a second run's objects beside the first (a different VM count makes different names)
  const b = parseJson<{ runId: string }>(
    await virtwork(["run", "-n", ns.name, "--workloads", "memory", "--no-wait", "-o", "json"], {
      kubeconfig,
    }),
  ).runId;
  assert.notEqual(a.slice(0, 8), b.slice(0, 8));

  const short = a.slice(0, 8);
  const status = await virtwork(["status", "-n", ns.name, "--run-id", short, "-o", "json"], { kubeconfig });
  assert.equal(status.code, 0, status.stderr);
  const rows = parseJson<{ runId: string; name: string }[]>(status);
  assert.ok(rows.length > 0, status.stdout);
  assert.ok(
    rows.every((r) => r.runId === a),
    JSON.stringify(rows),
  );

  // two runs whose ids start alike: objects labelled as two such runs would be
  const core = (await startCluster()).kubeConfig("admin").makeApiClient(k8s.CoreV1Api);
  for (const id of ["shared-1111", "shared-2222"])
    await core.createNamespacedSecret({
      namespace: ns.name,
      body: {
        metadata: {
          name: `virtwork-x-${id}`,
          labels: { "app.kubernetes.io/managed-by": "virtwork", "virtwork/run-id": id },
        },
        stringData: { a: "b" },
      },
    });
  const ambiguous = await virtwork(["status", "-n", ns.name, "--run-id", "shared"], { kubeconfig });
  assert.equal(ambiguous.code, 2, ambiguous.stderr);
  assert.match(
    ambiguous.stderr,
    /Error: --run-id: "shared" is the start of 2 runs' ids \(shared-1111, shared-2222\); give more of it/,
  );
  const none = await virtwork(["cleanup", "-n", ns.name, "--run-id", "0000dead", "--yes"], { kubeconfig });
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stdout, /Nothing to clean up\./);

  const clean = await virtwork(["cleanup", "-n", ns.name, "--run-id", short, "--yes", "--wait"], {
    kubeconfig,
  });
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  assert.match(clean.stdout, /^Deleted 1 VirtualMachine, /m);
  assert.equal((await managedObjects(ns.name, a)).vms.size, 0, "run a is gone");
  assert.equal((await managedObjects(ns.name, b)).vms.size, 1, "run b is untouched");
});
