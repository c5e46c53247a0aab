/**
 * Issue 4 acceptance: with 20% of creates answered 429 (with Retry-After) or 500 by the fault
 * injector, ten runs of the built CLI each end with exactly the planned objects (none
 * missing, none duplicated) and exit 0. Between runs, `virtwork cleanup --run-id … --yes
 * --wait` empties the namespace again.
 */
import assert from "node:assert/strict";
import { after, test } from "node:test";
import { closeAll, newNamespace } from "./harness.ts";
import {
  DEFAULT_SECRETS,
  DEFAULT_SERVICES,
  DEFAULT_VMS,
  FAST,
  names,
  objectsIn,
  parseJson,
  virtwork,
} from "./ops-cli.ts";

after(closeAll);

async function lane(lane: number, runs: number) {
  const ns = await newNamespace({ prefix: `faults${lane}` });
  await ns.simulate({ delays: FAST });
  const inj = await ns.faults();
  const kubeconfig = ns.kubeconfig();
  const totals = { denied: 0, seen: 0, retriesLogged: 0 };
  for (let r = 0; r < runs; r++) {
    const i = lane * runs + r;
    const code = i % 2 === 0 ? 429 : 500;
    inj.set({ rate: 0.2, code, retryAfterSeconds: 1, seed: 101 + i });
    const res = await virtwork(["run", "-n", ns.name, "-o", "json", "--timeout", "120"], { kubeconfig });
    const stats = inj.stats();
    totals.denied += stats.denied;
    totals.seen += stats.seen;
    inj.set(null);
    assert.equal(res.code, 0, `run ${i} (${code}): ${res.stderr}`);
    const summary = parseJson<{ runId: string; outcome: string; created: Record<string, number> }>(res);
    assert.equal(summary.outcome, "ready", `run ${i}`);
    // A create whose first attempts were denied is counted once, as created.
    assert.deepEqual(summary.created, { Service: 2, Secret: 8, VirtualMachine: 8 }, `run ${i}`);
    totals.retriesLogged += (res.stderr.match(/retrying API call/g) ?? []).length;

    // Exactly the plan: everything in the namespace, labelled with this run, nothing else.
    const all = await objectsIn(ns.name);
    assert.deepEqual(names(all.vms), DEFAULT_VMS, `run ${i}: VMs`);
    assert.deepEqual(names(all.vmis), DEFAULT_VMS, `run ${i}: VMIs`);
    assert.deepEqual(names(all.secrets), DEFAULT_SECRETS, `run ${i}: Secrets`);
    assert.deepEqual(names(all.services), DEFAULT_SERVICES, `run ${i}: Services`);
    for (const map of [all.vms, all.secrets, all.services]) {
      for (const [name, labels] of map)
        assert.equal(labels["virtwork/run-id"], summary.runId, `run ${i}: ${name}`);
    }

    const clean = await virtwork(
      ["cleanup", "-n", ns.name, "--run-id", summary.runId, "--yes", "--wait", "-o", "json"],
      { kubeconfig },
    );
    assert.equal(clean.code, 0, `cleanup after run ${i}: ${clean.stderr}`);
    const left = await objectsIn(ns.name);
    for (const [kind, map] of Object.entries(left))
      assert.equal(map.size, 0, `after cleanup ${i}: ${kind} ${names(map)}`);
  }
  return totals;
}

test("ten runs under 20% injected 429/500 on creates each end with exactly the planned objects", async () => {
  // Five namespaces side by side (own simulator and injector each), two runs in each.
  const lanes = await Promise.all([0, 1, 2, 3, 4].map((l) => lane(l, 2)));
  const seen = lanes.reduce((n, l) => n + l.seen, 0);
  const denied = lanes.reduce((n, l) => n + l.denied, 0);
  const retriesLogged = lanes.reduce((n, l) => n + l.retriesLogged, 0);
  // 10 runs × 18 creates went through admission (more with the retries); about a fifth were denied.
  assert.ok(seen >= 180, `admission saw ${seen} creates`);
  assert.ok(denied >= 18 && denied <= 0.4 * seen, `${denied} of ${seen} creates denied`);
  assert.equal(retriesLogged, denied, "each denial was retried once, with a warning");
});
